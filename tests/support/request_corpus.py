"""A deterministic corpus of API Gateway REST proxy events, good and bad, for every operation of
every API function that routes with fincert.api.app.create_app, and the way to replay them.

tests/unit/test_request_answers_golden.py records what today's handlers answer to each event
(tests/golden/request_answers.json) and demands the same answers on every run: the oracle for
a change of router or validator (issue 12), whose 4xx answers must not move.

Operations, parameters and body schemas come from docs/openapi.json (generated from the code);
the function serving each operation from template.yaml's routes. Every event is built from
constants only (no clock, no uuid, no randomness), so the same code builds the same events.

A request that gets past validation must not do any work: replay() runs each function's module
with its `services` (the composition root every app imports from fincert.wiring) replaced by a
callable that raises `reached_handler` (a 503), so "validation passed" is an answer of its own
and no AWS (nor moto) is needed."""

from __future__ import annotations

import base64
import copy
import hashlib
import importlib.util
import json
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

from fincert import errors
from fincert_local.gateway import LambdaContext
from fincert_local.template import FunctionSpec, api_routes, functions, load_template, repo_root

REGION = "ap-northeast-2"
OPENAPI = repo_root() / "docs" / "openapi.json"
SENTINEL_CODE = "reached_handler"
# Settings.from_env needs these to exist; nothing reads them once `services` is the sentinel.
ENVIRONMENT = {
    "TABLE_NAME": "golden-table",
    "ROOT_CA_KEY_ID": "golden-root",
    "ISSUING_CA_KEY_ID": "golden-issuing",
    "KEY_WRAP_KEY_ID": "golden-wrap",
    "HMAC_KEY_ID": "golden-hmac",
    "PKI_BASE_URL": "http://pki.fincert.example",
    "CERTIFICATE_POLICY_OID": "1.3.6.1.4.1.32473.1.1",
    "CONTENT_MAC_KEY_ID": "golden-content-mac",
    "AWS_DEFAULT_REGION": REGION,
}
_MAX_BODY = 16 * 1024  # Settings.max_body_bytes' default
_STAGE = "live"
_REQUEST_ID = "00000000-0000-4000-8000-000000000000"
_ORIGIN = "https://bank.example"

# --- who calls: the authorizer's context as API Gateway hands it over (values are strings) ----
_INSTITUTION = {
    "principalId": "demo-bank",
    "institution_id": "demo-bank",
    "scopes": "connect enroll",
    "allowed_origins": _ORIGIN,
    "integrationLatency": "0",
}
AUTHORIZERS: dict[str, dict[str, str]] = {
    "institution": _INSTITUTION,
    "customer": _INSTITUTION
    | {"account_id": "acct_Golden0000000000000", "session_id": "ses_Golden00000000000"},
    "window": _INSTITUTION | {"window_ticket_id": "tkt_Golden0000000000000000"},
    # hosted_only institutions relay no PIN or SMS code (fincert.domain.access).
    "hosted-only": _INSTITUTION | {"hosted_only": "true"},
    # A context without the institution: the route was deployed without the authorizer.
    "principal-only": {"principalId": "demo-bank"},
}
_SECURITY_KIND = {
    "institutionApiKey": "institution",
    "customerSession": "customer",
    "windowCredential": "window",
}

# Valid values of each path parameter (their patterns are in docs/openapi.json).
_PATH_VALUES = {
    "enrollment_id": "enr_Golden0000000000000",
    "verification_id": "ver_Golden0000000000000",
    "challenge_id": "dch.acct_Golden0000.dch_Golden0000",
    "device_id": "dev_Golden0000000000000",
    "ticket_id": "tkt_Golden0000000000000000",
    "name": "2029-w47.crl",
    "request": "MEMwQTA_MD0wOzAJBgUrDgMCGgUABBQ",
}
# Where a schema's documented example is not one the handler can take past its own checks
# (its "..." is not base64), the valid variant uses these; the example is sent as well.
_VALID_OVERRIDES = {
    "DeviceSignatureRequest": {"signature": "MEUCIQDx0aY8o3pXn9c0FQk5u3l0nJ6wC1yq9KpQ2mRkz8xJjQ=="},
    "DeviceRegisterRequest": {
        "public_key": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE7kX1cQ2vS0y8bq3q1T9nQmJ0kYp2"
    },
    "VerifySignatureRequest": {
        "signature": "MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwGggCSABA=="
    },
}
_WRONG_TYPES: dict[str, Any] = {
    "string": "s",
    "integer": 7,
    "number": 7.5,
    "boolean": False,
    "object": {"a": 1},
    "array": ["a"],
}
_NON_BMP = "\U0001f600"  # one code point, two UTF-16 units, four UTF-8 bytes
_COMBINING = "e\u0301"  # two code points, one grapheme


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # as in docs/openapi.json: /v1/enrollments/{enrollment_id}/confirm
    function_id: str
    resource: str  # as in template.yaml: /pki/ocsp/{request+}
    authorized: bool  # whether template.yaml puts the authorizer in front of it
    security: str | None  # institution / customer / window (the first the operation lists)
    parameters: tuple[dict[str, Any], ...]
    body_schema: str | None  # the component's name
    example: Any = None

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Case:
    """One request: its stable id, the function it goes to, and the event."""

    id: str
    function_id: str
    event: dict[str, Any]
    summary: dict[str, Any] = field(default_factory=dict)


# --- the document ------------------------------------------------------------------------------
@cache
def openapi() -> dict[str, Any]:
    return json.loads(OPENAPI.read_text())


def schema(name_or_schema: str | dict[str, Any]) -> dict[str, Any]:
    """A component by name, or the schema itself with a $ref followed."""
    if isinstance(name_or_schema, str):
        return openapi()["components"]["schemas"][name_or_schema]
    ref = name_or_schema.get("$ref")
    return schema(ref.rsplit("/", 1)[1]) if ref else name_or_schema


def _ref_name(value: dict[str, Any]) -> str | None:
    ref = value.get("$ref")
    return ref.rsplit("/", 1)[1] if ref else None


def _template_path(path: str) -> str:
    return path.replace("+}", "}")


def _routes() -> dict[tuple[str, str], Any]:
    return {(r.method, _template_path(r.path)): r for r in api_routes(load_template())}


@cache
def api_functions() -> dict[str, FunctionSpec]:
    """The API functions that route with create_app (hosted serves static files by hand)."""
    specs = functions(load_template())
    ids = {route.function_id for route in _routes().values()}
    return {
        fid: specs[fid]
        for fid in sorted(ids)
        if "create_app(" in (repo_root() / specs[fid].code_uri / "app.py").read_text()
    }


@cache
def operations() -> tuple[Operation, ...]:
    routes = _routes()
    found = []
    for path, methods in sorted(openapi()["paths"].items()):
        for method, op in sorted(methods.items()):
            route = routes.get((method.upper(), path))
            if route is None or route.function_id not in api_functions():
                continue
            body = ((op.get("requestBody") or {}).get("content") or {}).get("application/json") or {}
            security = next((_SECURITY_KIND[k] for s in op.get("security") or [] for k in s), None)
            example = (body.get("examples") or {}).get("example", {}).get("value")
            found.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    function_id=route.function_id,
                    resource=route.path,
                    authorized=route.authorized,
                    security=security,
                    parameters=tuple(op.get("parameters") or ()),
                    body_schema=_ref_name(body["schema"]) if body else None,
                    example=example,
                )
            )
    return tuple(found)


# --- events --------------------------------------------------------------------------------------
def event(
    op: Operation,
    *,
    method: str | None = None,
    path_values: dict[str, str] | None = None,
    raw_path: str | None = None,
    resource: str | None = None,
    query: dict[str, list[str]] | None = None,
    body: bytes | str | None = None,
    base64_body: bool = True,
    content_type: str | None = "application/json",
    authorizer: str | None = "default",
    origin: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The event the local gateway (fincert_local.gateway) builds for such a request: bytes
    bodies base64-encoded (BinaryMediaTypes */*), str bodies as plain text."""
    method = method or op.method
    values = {p["name"]: _PATH_VALUES[p["name"]] for p in op.parameters if p["in"] == "path"}
    values |= path_values or {}
    path = raw_path or _fill(op.path, {k: quote(v, safe="") for k, v in values.items()})
    sent = {"Host": "api.fincert.example", "User-Agent": "fincert-golden"}
    if content_type is not None:
        sent["Content-Type"] = content_type
    if origin is not None:
        sent["Origin"] = origin
    sent |= headers or {}
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "golden",
        "resourceId": "golden",
        "resourcePath": resource or op.resource,
        "httpMethod": method,
        "path": f"/{_STAGE}{path}",
        "stage": _STAGE,
        "protocol": "HTTP/1.1",
        "requestId": _REQUEST_ID,
        "extendedRequestId": _REQUEST_ID,
        "requestTime": "30/Nov/2026:03:40:00 +0000",
        "requestTimeEpoch": 1795837200000,
        "domainName": "api.fincert.example",
        "identity": {"sourceIp": "203.0.113.7", "userAgent": "fincert-golden"},
    }
    kind = (op.security if op.authorized else None) if authorizer == "default" else authorizer
    if kind is not None:
        context["authorizer"] = dict(AUTHORIZERS[kind])
    if isinstance(body, bytes) and base64_body:
        encoded: str | None = base64.b64encode(body).decode("ascii") if body else None
    elif isinstance(body, bytes):
        encoded = body.decode("utf-8")
    else:
        encoded = body
    return {
        "resource": resource or op.resource,
        "path": path,
        "httpMethod": method,
        "headers": sent,
        "multiValueHeaders": {k: [v] for k, v in sent.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} if query else None,
        "multiValueQueryStringParameters": dict(query) if query else None,
        "pathParameters": values or None,
        "stageVariables": None,
        "requestContext": context,
        "body": encoded,
        "isBase64Encoded": bool(isinstance(body, bytes) and base64_body and body),
    }


def _fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{([^}+]+)\+?\}", lambda m: values[m.group(1)], path)


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


# --- body mutations --------------------------------------------------------------------------------
def _effective(prop: dict[str, Any]) -> dict[str, Any]:
    """The schema of a property's values other than null; a union of enums is one enum."""
    prop = schema(prop)
    alternatives = prop.get("anyOf")
    if not alternatives:
        return prop
    rest = [schema(a) for a in alternatives if a.get("type") != "null"]
    if len(rest) == 1:
        return rest[0]
    if all("enum" in a for a in rest):
        return {"type": "string", "enum": [v for a in rest for v in a["enum"]]}
    return {"anyOf": rest}


def _set(body: Any, loc: tuple[Any, ...], value: Any) -> Any:
    body = copy.deepcopy(body)
    target = body
    for part in loc[:-1]:
        target = target[part]
    target[loc[-1]] = value
    return body


def _delete(body: Any, loc: tuple[Any, ...]) -> Any:
    body = copy.deepcopy(body)
    target = body
    for part in loc[:-1]:
        target = target[part]
    del target[loc[-1]]
    return body


def _get(body: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        body = body[part]
    return body


def _label(loc: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(loc))


def _stretch(value: str, length: int) -> str:
    """A string of `length` code points made of `value` repeated (or cut)."""
    value = value or "a"
    return (value * (length // len(value) + 1))[:length]


def _string_values(prop: dict[str, Any], current: Any) -> Iterator[tuple[str, Any]]:
    base = current if isinstance(current, str) and current else "a"
    low, high = prop.get("minLength"), prop.get("maxLength")
    if low is not None and low > 0:
        yield f"len-min-1({low - 1})", _stretch(base, low - 1)
        yield f"len-min({low})", _stretch(base, low)
    if high is not None:
        yield f"len-max({high})", _stretch(base, high)
        yield f"len-max+1({high + 1})", _stretch(base, high + 1)
        yield "len-max-non-bmp", _NON_BMP * high
        yield "len-max+1-non-bmp", _NON_BMP * (high + 1)
        yield "len-max-combining", _stretch(_COMBINING, high)
        yield "len-max+1-combining", _stretch(_COMBINING, high + 1)
    if low is None and high is None:
        yield "empty", ""
    if "pattern" in prop:
        yield "pattern-last-char", base[:-1] + "!"
        # Python's `$` matches before a final newline, the Rust regex pydantic uses does not.
        yield "pattern-trailing-newline", base + "\n"
        yield "pattern-leading-space", " " + base
        yield "pattern-full-width-digit", base[:-1] + "\uff11"
    if "enum" in prop:
        wanted = current if isinstance(current, str) else prop["enum"][0]
        yield "enum-wrong", "nope"
        yield "enum-upper-case", wanted.upper() if wanted.upper() != wanted else wanted.lower()
        yield "enum-trailing-space", wanted + " "


def _integer_values(prop: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    low, high = prop.get("minimum"), prop.get("maximum")
    if low is not None:
        yield "ge-1", int(low) - 1
        yield "ge", int(low)
    if high is not None:
        yield "le", int(high)
        yield "le+1", int(high) + 1
    yield "float-1.0", 1.0
    yield "float-1.5", 1.5
    yield "true", True
    yield "string-1", "1"
    yield "string-1.0", "1.0"
    yield "huge", 10**30


def _boolean_values() -> Iterator[tuple[str, Any]]:
    yield "int-1", 1
    yield "int-2", 2
    yield "string-true", "true"
    yield "string-yes", "yes"
    yield "string-off", "off"


def _field_cases(
    body: Any, loc: tuple[Any, ...], prop: dict[str, Any], required: bool
) -> Iterator[tuple[str, Any]]:
    """(label, body) for one field: missing, null, wrong types, its bounds and formats."""
    name = _label(loc)
    effective = _effective(prop)
    current = _get(body, loc) if _has(body, loc) else None
    if _has(body, loc):
        yield f"{name}:missing" + ("" if required else "-optional"), _delete(body, loc)
    yield f"{name}:null", _set(body, loc, None)
    kind = effective.get("type")
    for type_name, value in _WRONG_TYPES.items():
        if type_name != kind and not (kind == "number" and type_name == "integer"):
            yield f"{name}:type-{type_name}", _set(body, loc, value)
    if kind == "string":
        for label, value in _string_values(effective, current):
            yield f"{name}:{label}", _set(body, loc, value)
    elif kind == "integer":
        for label, value in _integer_values(effective):
            yield f"{name}:{label}", _set(body, loc, value)
    elif kind == "boolean":
        for label, value in _boolean_values():
            yield f"{name}:{label}", _set(body, loc, value)
    elif kind == "array":
        items = current if isinstance(current, list) and current else None
        low, high = effective.get("minItems"), effective.get("maxItems")
        if low is not None:
            yield f"{name}:items-min-1", _set(body, loc, (items or ["a"])[: max(low - 1, 0)])
        if high is not None:
            yield f"{name}:items-max+1", _set(body, loc, _stretch_list(items or ["a"], high + 1))
        yield f"{name}:item-int", _set(body, loc, [5])
        yield f"{name}:item-null", _set(body, loc, [None])
        if items:
            yield f"{name}:item-duplicated", _set(body, loc, [items[0], items[0]])
        item_schema = _effective(effective.get("items") or {})
        if "enum" in item_schema:
            yield f"{name}:item-enum-wrong", _set(body, loc, ["nope"])
            yield f"{name}:item-enum-upper-case", _set(body, loc, [item_schema["enum"][0].upper()])
        if items is not None:
            yield from _nested_cases(body, (*loc, 0), effective.get("items") or {})


def _stretch_list(items: list[Any], length: int) -> list[Any]:
    return [copy.deepcopy(items[i % len(items)]) for i in range(length)]


def _has(body: Any, loc: tuple[Any, ...]) -> bool:
    try:
        _get(body, loc)
    except (KeyError, IndexError, TypeError):
        return False
    return True


def _nested_cases(body: Any, loc: tuple[Any, ...], item: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """The fields of a nested object (an array's first item, or an object-valued field) broken
    the same ways: the object schema it matches is the one whose required fields it has."""
    value = _get(body, loc)
    if not isinstance(value, dict):
        return
    effective = _effective(item)
    candidates = [schema(a) for a in effective.get("anyOf", [effective])]
    matching = [c for c in candidates if set(c.get("required", ())) <= set(value)]
    if not matching or "properties" not in matching[0]:
        return
    yield from _object_cases(body, loc, matching[0])


def _object_cases(
    body: Any, loc: tuple[Any, ...], object_schema: dict[str, Any]
) -> Iterator[tuple[str, Any]]:
    required = set(object_schema.get("required", ()))
    prefix = _label(loc) + ":" if loc else ""
    for prop_name, prop in object_schema["properties"].items():
        field_loc = (*loc, prop_name)
        effective = _effective(prop)
        base = body
        if not _has(body, field_loc):
            # An optional field the example leaves out: sent once valid, then broken like the others.
            plausible = _plausible(prop_name, effective)
            if plausible is None:
                yield f"{_label(field_loc)}:null-optional", _set(body, field_loc, None)
                continue
            base = _set(body, field_loc, plausible)
            yield f"{_label(field_loc)}:present-optional", base
        yield from _field_cases(base, field_loc, prop, prop_name in required)
        if "properties" in effective or "anyOf" in effective:
            yield from _nested_cases(base, field_loc, prop)
    yield f"{prefix}extra-field", _set(body, (*loc, "unexpected"), 1)
    if required and loc:
        yield f"{prefix}empty-object", _set(body, loc, {})


def _plausible(name: str, effective: dict[str, Any]) -> Any:
    """A valid value of an optional field, or None when there is no obvious one."""
    if "enum" in effective:
        return effective["enum"][0]
    kind = effective.get("type")
    if kind == "boolean":
        return False
    if kind == "string":
        if "pattern" in effective:
            return _PATH_VALUES.get(name)
        return _stretch("abc", max(effective.get("minLength", 1), 3))
    return None


# --- the cases of one operation -----------------------------------------------------------------
def _body_cases(op: Operation) -> Iterator[tuple[str, dict[str, Any]]]:
    name = op.body_schema
    assert name is not None
    example = op.example if isinstance(op.example, dict) else {}
    valid = example | _VALID_OVERRIDES.get(name, {})
    yield "valid", event(op, body=_json(valid))
    if valid != example:
        yield "documented-example", event(op, body=_json(example))
    yield "valid-plain-text", event(op, body=_json(valid), base64_body=False)
    yield "valid-escaped-ascii", event(op, body=json.dumps(valid).encode())
    object_schema = schema(name)
    for label, body in _object_cases(valid, (), object_schema):
        yield label, event(op, body=_json(body))
    # Several errors at once: the order of the details is part of the answer.
    required = list(object_schema.get("required", ()))
    everything_wrong = {k: [] if isinstance(v, str) else "s" for k, v in valid.items()}
    yield "several:all-wrong-types", event(op, body=_json(everything_wrong))
    yield "several:missing-and-extra", event(op, body=_json({"unexpected": 1, "other": None}))
    if len(required) >= 2:
        two = _set(_set(valid, (required[-1],), None), (required[0],), 5)
        yield "several:first-and-last-required", event(op, body=_json(two))
    yield (
        "duplicate-key",
        event(op, body=_json(valid)[:-1] + b', "' + (required or ["x"])[0].encode() + b'": null}'),
    )
    yield "extra-fields-many", event(op, body=_json(valid | {f"x{i}": i for i in range(5)}))
    # Non-object bodies, and what a JSON parser makes of edge cases.
    for label, raw in {
        "not-object:string": b'"x"',
        "not-object:int": b"5",
        "not-object:null": b"null",
        "not-object:true": b"true",
        "not-object:array": b"[]",
        "not-object:array-of-object": b"[{}]",
        "not-object:array-spaced": b"  [1]",
        "empty-object": b"{}",
        "whitespace-only": b"   ",
        "malformed:truncated": _json(valid)[:-1],
        "malformed:trailing-comma": b'{"a": 1,}',
        "malformed:single-quotes": b"{'a': 1}",
        "malformed:nan": b'{"a": NaN}',
        "malformed:bom": b"\xef\xbb\xbf" + _json(valid),
        "malformed:long-integer": b'{"a": ' + b"1" * 5000 + b"}",
        "deep:50": b'{"a":' * 50 + b"1" + b"}" * 50,
        "deep:2500": b'{"a":' * 2500 + b"1" + b"}" * 2500,
        "invalid-utf8": b'{"a": "\xff\xfe"}',
        "too-large": _json(valid | {"padding": "a" * _MAX_BODY}),
        "at-size-limit": _json({"padding": "a" * (_MAX_BODY - 16)}),
    }.items():
        yield label, event(op, body=raw)
    # Lone surrogates, which JSON can escape (\ud800): pydantic refuses them in constrained
    # strings, literals and the keys of objects that refuse extras.
    for key, value in valid.items():
        if isinstance(value, str):
            ascii_json = json.dumps(valid | {key: value + "\ud800"}).encode()
            yield f"surrogate:{key}", event(op, body=ascii_json)
    yield "surrogate:key", event(op, body=json.dumps(valid | {"x\ud800y": 1}).encode())
    yield "empty-body", event(op, body=b"")
    for label, content_type in {
        "empty-body:multipart-with-boundary": "multipart/form-data; boundary=xx",
        "empty-body:multipart-without-boundary": "multipart/form-data",
        "empty-body:multipart-empty-boundary": "multipart/form-data; boundary=",
        "empty-body:text-plain": "text/plain",
        "empty-body:form": "application/x-www-form-urlencoded",
    }.items():
        yield label, event(op, body=b"", content_type=content_type)
    yield "no-body", event(op, body=None)
    # API Gateway itself base64-encodes, so these reach a function only from a broken gateway.
    yield "invalid-base64:characters", {**event(op, body=_json(valid)), "body": "e30=!!!!"}
    yield "invalid-base64:length", {**event(op, body=_json(valid)), "body": "eyJhIjoxfQ=="[:-3]}
    yield "plain-text:not-object", event(op, body=b"[1]", base64_body=False)
    yield "plain-text:malformed", event(op, body=b'{"a":', base64_body=False)
    for label, content_type in {
        "content-type:absent": None,
        "content-type:charset": "application/json; charset=utf-8",
        "content-type:upper-case": "APPLICATION/JSON",
        "content-type:text-plain": "text/plain",
        "content-type:form": "application/x-www-form-urlencoded",
        "content-type:json-patch": "application/json-patch+json",
    }.items():
        yield label, event(op, body=_json(valid), content_type=content_type)
    yield "content-type:absent-plain-text", event(op, body=_json(valid), content_type=None, base64_body=False)
    yield (
        "content-type:lower-case-name",
        event(op, body=_json(valid), content_type=None, headers={"content-type": "application/json"}),
    )
    yield (
        "content-type:json-sent-twice",
        {
            **event(op, body=_json(valid)),
            "multiValueHeaders": {"Content-Type": ["text/plain", "application/json"]},
        },
    )
    yield "headers:none", {**event(op, body=_json(valid)), "headers": None, "multiValueHeaders": None}
    yield (
        "content-type:form-body",
        event(op, body=b"name=x&pin=1", content_type="application/x-www-form-urlencoded"),
    )


def _path_cases(op: Operation) -> Iterator[tuple[str, dict[str, Any]]]:
    body = _body_for(op)
    for p in op.parameters:
        if p["in"] != "path":
            continue
        name, spec = p["name"], p.get("schema") or {}
        good = _PATH_VALUES[name]
        cases = {
            "pattern-last-char": good[:-1] + "!",
            "pattern-space": good[:-1] + " ",
            "url-encoded-slash": good[:-1] + "/",
            "url-encoded-valid": good,
            "non-ascii": good[:-1] + "가",
            "newline": good + "\n",
        }
        if "minLength" in spec:
            cases["len-min-1"] = good[: spec["minLength"] - 1]
            cases["len-min"] = _stretch(good, spec["minLength"]) if len(good) < spec["minLength"] else good
        if "maxLength" in spec:
            cases["len-max+1"] = _stretch(good, spec["maxLength"] + 1)
            cases["len-max"] = _stretch(good, spec["maxLength"])
        # A literal "/" in the value: API Gateway's greedy {request+} takes it, the others do not match.
        raw_slash = good[:4] + "/" + good[4:]
        yield (
            f"path.{name}:raw-slash",
            event(op, body=body, path_values={name: raw_slash}, raw_path=_fill(op.path, {name: raw_slash})),
        )
        for label, value in cases.items():
            kw: dict[str, Any] = {"path_values": {name: value}}
            if label == "url-encoded-valid":
                # Every character percent-encoded: the gateway hands the decoded value over.
                kw["raw_path"] = _fill(op.path, {name: "".join(f"%{b:02X}" for b in value.encode())})
            yield f"path.{name}:{label}", event(op, body=body, **kw)


def _query_cases(op: Operation) -> Iterator[tuple[str, dict[str, Any]]]:
    names = [p["name"] for p in op.parameters if p["in"] == "query"]
    if not names:
        yield "query:unknown", event(op, body=_body_for(op), query={"unexpected": ["1"]})
        return
    hex64 = "ab" * 32
    cases: dict[str, dict[str, list[str]]] = {
        "query:none": {},
        "query:all-valid": {"limit": ["50"], "cursor": ["abc_-DEF"], "content_sha256": [hex64]},
        "query:unknown": {"unexpected": ["1"]},
        "query:unknown-and-bad-limit": {"unexpected": ["1"], "limit": ["0"]},
        "query:limit-0": {"limit": ["0"]},
        "query:limit-1": {"limit": ["1"]},
        "query:limit-100": {"limit": ["100"]},
        "query:limit-101": {"limit": ["101"]},
        "query:limit-negative": {"limit": ["-1"]},
        "query:limit-text": {"limit": ["abc"]},
        "query:limit-float": {"limit": ["1.5"]},
        "query:limit-float-whole": {"limit": ["5.0"]},
        "query:limit-exponent": {"limit": ["1e2"]},
        "query:limit-spaced": {"limit": [" 5"]},
        "query:limit-empty": {"limit": [""]},
        "query:limit-twice": {"limit": ["5", "500"]},
        "query:limit-full-width": {"limit": ["\uff15"]},
        "query:limit-4301-nines": {"limit": ["9" * 4301]},
        "query:limit-4301-ones": {"limit": ["1" * 4301]},
        "query:limit-4300-nines": {"limit": ["9" * 4300]},
        "query:limit-leading-zeros": {"limit": ["0" * 4400 + "5"]},
        "query:limit-file-separator": {"limit": ["\x1c5"]},
        "query:limit-next-line": {"limit": ["\x855"]},
        "query:limit-ideographic-space": {"limit": ["\u30005"]},
        "query:limit-underscores": {"limit": ["1_0"]},
        "query:limit-plus": {"limit": ["+5"]},
        "query:cursor-bad-pattern": {"cursor": ["abc!"]},
        "query:cursor-max": {"cursor": ["a" * 200]},
        "query:cursor-max+1": {"cursor": ["a" * 201]},
        "query:cursor-empty": {"cursor": [""]},
        "query:cursor-newline": {"cursor": ["abc\n"]},
        "query:sha256-upper-case": {"content_sha256": [hex64.upper()]},
        "query:sha256-short": {"content_sha256": [hex64[:-1]]},
        "query:sha256-not-hex": {"content_sha256": ["g" * 64]},
        "query:sha256-base64": {"content_sha256": ["n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="]},
        "query:several-bad": {"limit": ["0"], "cursor": ["!"], "content_sha256": ["x"]},
        "query:case-differs": {"LIMIT": ["5"]},
    }
    for label, query in cases.items():
        yield label, event(op, query=query or None)


def _body_for(op: Operation) -> bytes | None:
    if op.body_schema is None:
        return None
    return _json((op.example or {}) | _VALID_OVERRIDES.get(op.body_schema, {}))


def _caller_cases(op: Operation) -> Iterator[tuple[str, dict[str, Any]]]:
    body = _body_for(op)
    takes_no_body = op.body_schema is None and not (
        op.function_id in _RAW_BODY_FUNCTIONS and op.method == "POST"
    )
    if takes_no_body:
        yield "valid", event(op)
    yield "auth:none", event(op, body=body, authorizer=None)
    kinds = ["institution", "customer", "window", "hosted-only"]
    for kind in kinds:
        if kind != op.security:
            yield f"auth:{kind}", event(op, body=body, authorizer=kind)
    yield "auth:principal-only", event(op, body=body, authorizer="principal-only")
    yield "origin:registered", event(op, body=body, origin=_ORIGIN)
    yield "origin:other", event(op, body=body, origin="https://evil.example")
    if takes_no_body:
        for label, raw in {
            "unexpected-body:object": b"{}",
            "unexpected-body:array": b"[1]",
            "unexpected-body:malformed": b"{",
            "unexpected-body:too-large": b"a" * (_MAX_BODY + 1),
        }.items():
            yield label, event(op, body=raw)
        yield "unexpected-body:text-plain", event(op, body=b"x", content_type="text/plain")


# The PKI and TSA functions take DER, not JSON (their own refuse_before_parsing).
_RAW_BODY_FUNCTIONS = {"PkiFunction", "TsaFunction"}


def _raw_body_cases(op: Operation) -> Iterator[tuple[str, dict[str, Any]]]:
    if op.function_id not in _RAW_BODY_FUNCTIONS or op.method != "POST":
        return
    media = "application/ocsp-request" if op.path.startswith("/pki/") else "application/timestamp-query"
    der = b"\x30\x03\x02\x01\x01"
    for label, kw in {
        "der:valid-type": {"body": der, "content_type": media},
        "der:upper-case-type": {"body": der, "content_type": media.upper()},
        "der:json-type": {"body": der, "content_type": "application/json"},
        "der:no-type": {"body": der, "content_type": None},
        "der:empty": {"body": b"", "content_type": media},
        "der:too-large": {"body": b"\x30" * 20000, "content_type": media},
        "der:plain-text": {"body": b"0\x03", "content_type": media, "base64_body": False},
    }.items():
        yield label, event(op, **kw)
    yield "der:invalid-base64:characters", {**event(op, body=der, content_type=media), "body": "e30=!!!!"}
    yield "der:invalid-base64:length", {**event(op, body=der, content_type=media), "body": "MAMCAQE"[:-2]}


def _method_cases(op: Operation, served: set[tuple[str, str]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
        if (method, op.path) not in served:
            yield (
                f"wrong-method:{method}",
                event(op, method=method, body=_body_for(op) if method != "GET" else None),
            )
            return


def cases_of(op: Operation, served: set[tuple[str, str]]) -> list[Case]:
    found: list[tuple[str, dict[str, Any]]] = []
    if op.body_schema is not None:
        found += _body_cases(op)
    found += _caller_cases(op)
    found += _path_cases(op)
    if op.method == "GET":
        found += _query_cases(op)
    found += _raw_body_cases(op)
    found += _method_cases(op, served)
    cases = [Case(f"{_short(op.function_id)}:{op.key}:{label}", op.function_id, ev) for label, ev in found]
    ids = [c.id for c in cases]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ValueError(f"corpus ids must be unique: {duplicated}")
    return cases


def _short(function_id: str) -> str:
    return function_id.removesuffix("Function").lower()


def _function_cases(function_id: str, ops: list[Operation]) -> list[Case]:
    """An unknown path under the function's prefix, and its resource path sent with an unknown method."""
    op = ops[0]
    prefix = "/" + "/".join(op.path.strip("/").split("/")[:2])
    unknown = prefix + "/golden-unknown"
    return [
        Case(
            f"{_short(function_id)}:unknown-path:{unknown}",
            function_id,
            event(op, method="POST", raw_path=unknown, resource=unknown, body=b"{}"),
        ),
        Case(
            f"{_short(function_id)}:unknown-path:{prefix}/",
            function_id,
            event(op, method=op.method, raw_path=prefix + "/", resource=prefix + "/", body=_body_for(op)),
        ),
        Case(f"{_short(function_id)}:unknown-method:HEAD {op.path}", function_id, event(op, method="HEAD")),
    ]


@cache
def _corpus() -> tuple[Case, ...]:
    ops = operations()
    served = {(o.method, o.path) for o in ops}
    cases: list[Case] = []
    for function_id in api_functions():
        mine = [o for o in ops if o.function_id == function_id]
        for op in mine:
            cases += cases_of(op, served)
        cases += _function_cases(function_id, mine)
    for case in cases:
        case.summary = _summary(case)
    return tuple(cases)


def corpus() -> list[Case]:
    """Every case, in a stable order (each call gets its own copies)."""
    return [Case(c.id, c.function_id, copy.deepcopy(c.event), dict(c.summary)) for c in _corpus()]


def event_digest(ev: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(ev, sort_keys=True, ensure_ascii=True).encode()).hexdigest()[:16]


def _summary(case: Case) -> dict[str, Any]:
    """What a reader of the golden file needs to see of the request (long bodies cut)."""
    ev = case.event
    raw = ev.get("body")
    if raw is not None and ev.get("isBase64Encoded"):
        try:
            shown = base64.b64decode(raw, validate=True).decode("utf-8")
        except ValueError:
            shown = f"(not UTF-8 base64) {raw[:120]}"
    else:
        shown = raw
    if isinstance(shown, str) and len(shown) > 160:
        shown = f"{shown[:160]}...({len(shown.encode())} bytes)"
    return {
        "function": case.function_id,
        "method": ev["httpMethod"],
        "path": ev["path"],
        "query": ev.get("multiValueQueryStringParameters"),
        "content_type": (ev.get("headers") or {}).get("Content-Type"),
        "caller": _caller_kind(ev),
        "body": shown,
        "base64": ev.get("isBase64Encoded"),
        "event_sha256": event_digest(ev),
    }


def _caller_kind(ev: dict[str, Any]) -> str | None:
    context = ev["requestContext"].get("authorizer")
    if context is None:
        return None
    return next((k for k, v in AUTHORIZERS.items() if v == context), "other")


# --- replaying ---------------------------------------------------------------------------------------
def _reached_handler(*_: Any, **__: Any) -> Any:
    raise errors.ServiceUnavailable(
        "validation passed: the handler asked for its services", code=SENTINEL_CODE
    )


@cache
def handler_module(function_id: str) -> ModuleType:
    """A private copy of the function's app module, its `services` the sentinel."""
    spec = api_functions()[function_id]
    file = repo_root() / spec.code_uri / "app.py"
    name = f"golden_fn_{function_id}"
    module_spec = importlib.util.spec_from_file_location(name, file)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module  # pydantic looks the models' module up here
    module_spec.loader.exec_module(module)
    module.services = _reached_handler  # type: ignore[attr-defined]
    return module


def replay(case: Case) -> dict[str, Any]:
    """The answer of the function to the case's event, as recorded in the golden file."""
    spec = api_functions()[case.function_id]
    handler: Callable[[dict[str, Any], Any], dict[str, Any]] = getattr(
        handler_module(case.function_id), spec.handler.rpartition(".")[2]
    )
    try:
        result = handler(copy.deepcopy(case.event), LambdaContext(spec, REGION))
    except Exception as e:  # Lambda reports it as a failed invocation; API Gateway answers 502
        return {"raises": type(e).__name__}
    return answer_of(result)


# Headers that vary per request or per run never reach the golden file.
_VOLATILE_HEADERS = re.compile(r"(request-?id|date|x-amz|trace)", re.IGNORECASE)


def answer_of(result: dict[str, Any]) -> dict[str, Any]:
    """Status, headers and body of a Lambda proxy result. `headers` and `multiValueHeaders` are
    merged (API Gateway sends the client both, and a client cannot tell which one a header came
    from); the body is parsed when it is JSON, its exact text pinned by its SHA-256."""
    headers: dict[str, list[str]] = {}
    for name, value in (result.get("headers") or {}).items():
        headers.setdefault(name, []).append(str(value))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            if str(value) not in headers.get(name, []):
                headers.setdefault(name, []).append(str(value))
    kept = {
        name: ", ".join(values)
        for name, values in sorted(headers.items())
        if not _VOLATILE_HEADERS.search(name)
    }
    body = result.get("body")
    parsed: Any = body
    if isinstance(body, str) and not result.get("isBase64Encoded"):
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = body
    return {
        "status": result["statusCode"],
        "headers": kept,
        "base64": bool(result.get("isBase64Encoded")),
        "body": parsed,
        "body_sha256": hashlib.sha256((body or "").encode()).hexdigest()[:16],
    }


def error_code(answer: dict[str, Any]) -> str | None:
    """The answer's error code, in the bank API's shape or the CSC API's."""
    body = answer.get("body")
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        return error.get("code")
    return error if isinstance(error, str) else None


def golden_text(cases: list[Case], answers: dict[str, dict[str, Any]]) -> str:
    """The golden file: a JSON object, one line per case (sorted keys), so a diff shows which moved."""
    lines = [
        json.dumps(c.id, ensure_ascii=False)
        + ": "
        + json.dumps(
            {"request": c.summary, "answer": answers[c.id]},
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        for c in sorted(cases, key=lambda c: c.id)
    ]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def golden_path() -> Path:
    return repo_root() / "tests" / "golden" / "request_answers.json"
