"""A local stand-in for API Gateway (REST API, Lambda proxy integration, payload v1).

Routes, the REQUEST authorizer and the gateway responses all come from template.yaml; the handlers
are the same files SAM deploys. The behaviour mirrors API Gateway where a difference would hide a
production bug: unknown routes answer 403 "Missing Authentication Token", a missing identity header
is a 401 without calling the authorizer, authorizer policies are cached per identity and evaluated
against each request's methodArn, authorizer context values reach the handler stringified, and a
handler exception is a 502. A request it cannot frame (a Content-Length that is not a number, a
bad chunk, bytes after a body that are not a request) is a 400 `{"message": "Bad Request"}`, an
over-long request line a 414 and an over-long header block a 431, each closing the connection.

The caller owns os.environ: handlers read their settings from it (LocalStack sets it up).
"""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import functools
import importlib.util
import json
import logging
import re
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote, urlsplit

from fincert_local import api_docs, powertools_fixes
from fincert_local.openapi_document import build_document
from fincert_local.template import (
    DEFAULT_ACCOUNT_ID,
    FunctionSpec,
    Route,
    api_routes,
    api_stage,
    authorizer,
    binary_media_types,
    functions,
    gateway_responses,
)

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
API_ID = "local"

# API Gateway's built-in gateway responses: (status, message, x-amzn-ErrorType).
_DEFAULT_RESPONSES = {
    "UNAUTHORIZED": (401, "Unauthorized", "UnauthorizedException"),
    "ACCESS_DENIED": (403, "User is not authorized to access this resource", "AccessDeniedException"),
    "MISSING_AUTHENTICATION_TOKEN": (
        403,
        "Missing Authentication Token",
        "MissingAuthenticationTokenException",
    ),
    "AUTHORIZER_FAILURE": (500, None, "AuthorizerConfigurationException"),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, None, "AuthorizerConfigurationException"),
    "REQUEST_TOO_LARGE": (413, "Request Too Long", "RequestTooLargeException"),
}


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.body)


def _json_response(status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return Response(status, [("Content-Type", "application/json"), *headers], json.dumps(payload).encode())


class LambdaContext:
    """The attributes of the Lambda Python runtime's context object that handlers and Powertools use."""

    def __init__(self, spec: FunctionSpec, region: str):
        self.function_name = f"fincert-local-{spec.logical_id}"
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:{region}:{DEFAULT_ACCOUNT_ID}:function:{self.function_name}"
        )
        self.memory_limit_in_mb = spec.memory_size
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = f"local/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + spec.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class _Resource:
    """One API resource path and its methods, compiled for matching."""

    path: str
    pattern: re.Pattern
    params: list[str]
    methods: dict[str, Route]

    @property
    def specificity(self) -> tuple:
        # API Gateway prefers literal segments over {param}, and {proxy+} last.
        kinds = []
        for segment in self.path.strip("/").split("/"):
            if segment.endswith("+}"):
                kinds.append(2)
            elif segment.startswith("{"):
                kinds.append(1)
            else:
                kinds.append(0)
        return (*kinds, 3)  # a shorter path with the same prefix sorts after, so it never shadows


def _compile(path: str, routes: list[Route]) -> _Resource:
    regex, params = "", []
    for segment in path.strip("/").split("/"):
        if not segment:
            continue
        if segment.startswith("{") and segment.endswith("+}"):
            params.append(segment[1:-2])
            regex += "/(.+)"
        elif segment.startswith("{") and segment.endswith("}"):
            params.append(segment[1:-1])
            regex += "/([^/]+)"
        else:
            regex += "/" + re.escape(segment)
    return _Resource(path, re.compile((regex or "/") + "/?"), params, {r.method: r for r in routes})


def _glob(pattern: str) -> re.Pattern:
    # IAM wildcards: * any run of characters, ? exactly one.
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern))


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def policy_allows(policy: dict, method_arn: str) -> bool:
    """IAM evaluation of an authorizer's policy for one methodArn: an explicit Deny wins."""
    allowed = False
    for statement in _as_list(policy.get("Statement", [])):
        actions = [a.lower() for a in _as_list(statement.get("Action", []))]
        if not any(_glob(a).fullmatch("execute-api:invoke") for a in actions):
            continue
        if not any(_glob(r).fullmatch(method_arn) for r in _as_list(statement.get("Resource", []))):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def _stringify(value: Any) -> Any:
    # API Gateway stringifies authorizer context values (true -> "true", 1 -> "1"); null stays null.
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def recorded_sms(phone_number: str, region: str) -> list[str]:
    """SMS texts moto's SNS has 'sent' to a number, oldest first (moto running in this process)."""
    from moto.backends import get_backend  # only the local-only route needs moto's internals

    messages = []
    for _account, backend_region, backend in get_backend("sns").iter_backends():
        if backend_region == region:
            # sms_messages: message id -> (phone number, text), insertion ordered.
            messages += [text for number, text in backend.sms_messages.values() if number == phone_number]
    return messages


def _valid_authorizer_result(result: Any) -> bool:
    # API Gateway rejects a missing principal or policy, and objects or arrays in the context.
    if not isinstance(result, dict) or not result.get("principalId"):
        return False
    context = result.get("context") or {}
    return (
        isinstance(result.get("policyDocument"), dict)
        and isinstance(context, dict)
        and not any(isinstance(v, (dict, list)) for v in context.values())
    )


class _AuthorizerError(Exception):
    def __init__(self, response_type: str):
        self.response_type = response_type


class Gateway:
    def __init__(
        self,
        template: dict,
        root: Path | str,
        *,
        region: str = "ap-northeast-2",
        max_body_bytes: int = MAX_BODY_BYTES,
        authorizer_cache: bool = True,
    ):
        self.root = Path(root)
        self.region = region
        self.max_body_bytes = max_body_bytes
        self.stage = api_stage(template)
        self.binary_media_types = binary_media_types(template)
        self.functions = functions(template)
        self.authorizer = authorizer(template)
        self.responses = gateway_responses(template)
        by_path: dict[str, list[Route]] = {}
        for route in api_routes(template):
            by_path.setdefault(route.path, []).append(route)
        self.resources = sorted(
            (_compile(path, routes) for path, routes in by_path.items()), key=lambda r: r.specificity
        )
        self._cache_ttl = self.authorizer.reauthorize_every if self.authorizer and authorizer_cache else 0
        self._policy_cache: dict[tuple, tuple[float, dict]] = {}
        # Warm containers per function: each its own import of the handler module. Lambda hands a
        # container one event at a time, and the handlers rely on it (Powertools' resolver keeps the
        # current event on the module's `app`). The gateway serves requests on parallel threads, so
        # a request takes an idle container, or a new one (a cold start, as Lambda scales out), and
        # gives it back when answered: requests to one function still run in parallel, never two
        # in one container (else one customer's request could be served with another's event).
        # Powertools keeps the event in flight process-wide: made per thread (powertools_fixes).
        powertools_fixes.apply()
        self._containers: dict[str, list[ModuleType]] = {}  # every container, the first one first
        self._idle: dict[str, list[ModuleType]] = {}
        self._started: dict[str, int] = {}  # containers started per function (module names)
        self._load_lock = threading.Lock()  # the three dicts above
        self._first_import_lock = threading.Lock()
        self.local_routes: dict[tuple[str, str], Callable[[dict[str, list[str]]], Response]] = {
            ("GET", "/_local/sms"): self._local_sms,
            ("GET", api_docs.OPENAPI_PATH): self._local_openapi,
            ("GET", api_docs.DOCS_PATH): self._local_docs,
            **{
                ("GET", path): functools.partial(self._local_docs_asset, name)
                for path, name in api_docs.asset_routes().items()
            },
        }

    # --- Lambda ------------------------------------------------------------------------------

    def _import_container(self, function_id: str) -> ModuleType:
        """A new container's handler module (a cold start), registered as one of the function's
        containers (not as idle: the caller holds it). Imported outside _load_lock, so containers
        start in parallel, as on Lambda, instead of every request waiting for one import."""
        spec = self.functions[function_id]
        module_path = spec.handler.rpartition(".")[0]
        with self._load_lock:
            number = self._started.get(function_id, 0)
            self._started[function_id] = number + 1
        # Every function has an app.py: a unique module name keeps them (and their containers) apart.
        name = f"fincert_fn_{function_id}" + (f"__{number}" if number else "")
        file = self.root / spec.code_uri / (module_path.replace(".", "/") + ".py")
        module_spec = importlib.util.spec_from_file_location(name, file)
        if module_spec is None or module_spec.loader is None:
            raise ImportError(f"cannot load {function_id} handler from {file}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module  # dataclasses/pydantic look their module up here
        try:
            module_spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        with self._load_lock:
            self._containers.setdefault(function_id, []).append(module)
        return module

    def module(self, function_id: str) -> ModuleType:
        """The function's (first container's) handler module, imported on first use like a cold start."""
        with self._first_import_lock:  # callers asking at once wait for the one import
            with self._load_lock:
                containers = self._containers.get(function_id)
                if containers:
                    return containers[0]
            module = self._import_container(function_id)
            with self._load_lock:
                self._idle.setdefault(function_id, []).append(module)
            return module

    def handler(
        self, function_id: str, module: ModuleType | None = None
    ) -> Callable[[dict, LambdaContext], Any]:
        """The handler of `module` (a container of the function), by default of its first container."""
        return getattr(
            module or self.module(function_id), self.functions[function_id].handler.rpartition(".")[2]
        )

    @contextlib.contextmanager
    def _container(self, function_id: str) -> Iterator[ModuleType]:
        """An idle container of the function, its own while the event is served."""
        with self._load_lock:
            idle = self._idle.setdefault(function_id, [])
            module = idle.pop() if idle else None
        if module is None:
            module = self._import_container(function_id)
        try:
            yield module
        finally:
            with self._load_lock:
                self._idle[function_id].append(module)

    def invoke(self, function_id: str, event: dict) -> Any:
        """Invoke a handler as Lambda would: fresh context, JSON in and out, one event per container."""
        spec = self.functions[function_id]
        context = LambdaContext(spec, self.region)
        with self._container(function_id) as module:
            handler = self.handler(function_id, module)
            started = time.monotonic()
            result = handler(json.loads(json.dumps(event)), context)
            elapsed = time.monotonic() - started
        if elapsed > spec.timeout:
            # Not enforced (a thread cannot be killed), but Lambda would have: make it visible.
            log.warning("%s ran %.1fs, over its %ss Lambda timeout", function_id, elapsed, spec.timeout)
        # Lambda serialises the result; a value json cannot encode fails there, so fail here too.
        return json.loads(json.dumps(result))

    # --- API Gateway -------------------------------------------------------------------------

    def gateway_response(self, response_type: str, request_id: str, message: str | None = None) -> Response:
        status, default_message, error_type = _DEFAULT_RESPONSES[response_type]
        message = message or default_message
        spec = self.responses.get(response_type) or self.responses.get(f"DEFAULT_{status // 100}XX")
        headers = [("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", error_type)]
        if spec is None:
            return _json_response(status, {"message": message}, headers)
        body = spec.body.replace("$context.error.messageString", json.dumps(message))
        body = body.replace("$context.requestId", request_id)
        headers += [("Content-Type", "application/json"), *spec.headers.items()]
        return Response(spec.status, headers, body.encode())

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for resource in self.resources:
            found = resource.pattern.fullmatch(path)
            if found:
                route = resource.methods.get(method) or resource.methods.get("ANY")
                if route is None:
                    return None
                # REST APIs hand the handler the raw path but decoded path parameters.
                return route, {
                    name: unquote(value) for name, value in zip(resource.params, found.groups(), strict=True)
                }
        return None

    def handle(
        self,
        method: str,
        target: str,
        headers: Iterable[tuple[str, str]],
        body: bytes = b"",
        source_ip: str = "127.0.0.1",
    ) -> Response:
        """Serve one HTTP request; `target` is the request line's path and query string."""
        method = method.upper()
        url = urlsplit(target)
        path = url.path or "/"
        request_id = str(uuid.uuid4())
        if len(body) > self.max_body_bytes:
            return self.gateway_response("REQUEST_TOO_LARGE", request_id)
        if path.startswith("/_local/"):
            local = self.local_routes.get((method, path))
            if local is None:
                return _json_response(404, {"message": "no such local-only route"})
            return local(parse_qs(url.query, keep_blank_values=True))
        matched = self.match(method, path)
        if matched is None:
            return self.gateway_response("MISSING_AUTHENTICATION_TOKEN", request_id)
        route, path_params = matched

        headers = list(headers)
        multi_headers: dict[str, list[str]] = {}
        for name, value in headers:
            multi_headers.setdefault(name, []).append(value)
        # API Gateway decodes query strings as forms: "+" arrives as a space.
        multi_query: dict[str, list[str]] = {}
        for name, value in parse_qsl(url.query, keep_blank_values=True):
            multi_query.setdefault(name, []).append(value)
        now = time.time()
        request_context = {
            "accountId": DEFAULT_ACCOUNT_ID,
            "apiId": API_ID,
            "resourceId": API_ID,
            "resourcePath": route.path,
            "httpMethod": method,
            "path": f"/{self.stage}{path}",
            "stage": self.stage,
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "domainName": next((v for k, v in headers if k.lower() == "host"), "localhost"),
            "identity": {
                "sourceIp": source_ip,
                "userAgent": next((v for k, v in headers if k.lower() == "user-agent"), None),
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "user": None,
                "userArn": None,
                "apiKey": None,
                "apiKeyId": None,
                "clientCert": None,
            },
        }
        event = {
            "resource": route.path,
            "path": path,
            "httpMethod": method,
            "headers": {name: values[-1] for name, values in multi_headers.items()} or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": path_params or None,
            "stageVariables": None,
            "requestContext": request_context,
        }

        if route.authorized and self.authorizer is not None:
            try:
                request_context["authorizer"] = self._authorize(event, request_id)
            except _AuthorizerError as e:
                return self.gateway_response(e.response_type, request_id)

        content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
        if body and self.is_binary(content_type):
            # As API Gateway does: a body whose type matches BinaryMediaTypes reaches the
            # function base64-encoded, JSON included when the list has */*.
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode("ascii"), True
        else:
            try:
                event["body"], event["isBase64Encoded"] = (body.decode("utf-8") if body else None), False
            except UnicodeDecodeError:
                event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode("ascii"), True

        try:
            result = self.invoke(route.function_id, event)
        except Exception:
            # Lambda logs the traceback; API Gateway tells the client only this.
            traceback.print_exc()
            return _json_response(
                502, {"message": "Internal server error"}, [("x-amzn-RequestId", request_id)]
            )
        response = self._proxy_response(result)
        if response is None:
            print(f"{route.function_id}: malformed Lambda proxy response: {result!r}"[:2000], file=sys.stderr)
            return _json_response(
                502, {"message": "Internal server error"}, [("x-amzn-RequestId", request_id)]
            )
        response.headers.append(("x-amzn-RequestId", request_id))
        return response

    def is_binary(self, media_type: str) -> bool:
        """Whether API Gateway treats this Content-Type as binary (its BinaryMediaTypes, wildcards)."""
        media = media_type.split(";", 1)[0].strip().lower()
        return bool(media) and any(fnmatch.fnmatchcase(media, pattern) for pattern in self.binary_media_types)

    def _authorize(self, event: dict, request_id: str) -> dict:
        """Run the REQUEST authorizer; its context (plus principalId) for the handler, or raise."""
        spec = self.authorizer
        headers = {name.lower(): value for name, value in (event["headers"] or {}).items()}
        query = event["queryStringParameters"] or {}
        identity = tuple(headers.get(h.lower()) for h in spec.identity_headers) + tuple(
            query.get(q) for q in spec.identity_query_strings
        )
        if not all(identity):
            raise _AuthorizerError("UNAUTHORIZED")  # API Gateway does not even call the authorizer

        method_arn = (
            f"arn:aws:execute-api:{self.region}:{DEFAULT_ACCOUNT_ID}:{API_ID}/{self.stage}"
            f"/{event['httpMethod']}{event['path']}"
        )
        cached = self._policy_cache.get(identity)
        if cached and cached[0] > time.monotonic():
            result = cached[1]
        else:
            authorizer_event = {
                "type": "REQUEST",
                "methodArn": method_arn,
                **{k: event[k] for k in ("resource", "path", "httpMethod", "headers", "multiValueHeaders")},
                **{k: event[k] for k in ("queryStringParameters", "multiValueQueryStringParameters")},
                "pathParameters": event["pathParameters"],
                "stageVariables": None,
                "requestContext": event["requestContext"],
            }
            try:
                result = self.invoke(spec.function_id, authorizer_event)
            except Exception as e:
                if str(e) == "Unauthorized":  # the documented way for an authorizer to answer 401
                    raise _AuthorizerError("UNAUTHORIZED") from None
                traceback.print_exc()
                raise _AuthorizerError("AUTHORIZER_FAILURE") from None
            if not _valid_authorizer_result(result):
                print(f"{spec.function_id}: invalid authorizer response: {result!r}"[:2000], file=sys.stderr)
                raise _AuthorizerError("AUTHORIZER_CONFIGURATION_ERROR")
            if self._cache_ttl:
                # Cached per identity, not per route: the cached policy must cover every route the
                # caller may use, exactly the trap API Gateway's cache sets in production.
                self._policy_cache[identity] = (time.monotonic() + self._cache_ttl, result)

        if not policy_allows(result["policyDocument"], method_arn):
            raise _AuthorizerError("ACCESS_DENIED")
        context = {name: _stringify(value) for name, value in (result.get("context") or {}).items()}
        return {**context, "principalId": result["principalId"], "integrationLatency": 0}

    @staticmethod
    def _proxy_response(result: Any) -> Response | None:
        if not isinstance(result, dict) or "statusCode" not in result:
            return None
        body = result.get("body")
        if body is not None and not isinstance(body, str):
            return None
        try:
            status = int(result["statusCode"])
            payload = base64.b64decode(body or "") if result.get("isBase64Encoded") else (body or "").encode()
        except ValueError:
            return None
        multi = {k: [str(v) for v in vs] for k, vs in (result.get("multiValueHeaders") or {}).items()}
        single = {k: str(v) for k, v in (result.get("headers") or {}).items()}
        # A header in both maps: API Gateway keeps only the multiValueHeaders values.
        lowered = {k.lower() for k in multi}
        headers = [(k, v) for k, vs in multi.items() for v in vs]
        headers += [(k, v) for k, v in single.items() if k.lower() not in lowered]
        if not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", "application/json"))  # API Gateway's default
        return Response(status, headers, payload)

    # --- local-only routes (not in the deployed template) ------------------------------------

    def _local_sms(self, query: dict[str, list[str]]) -> Response:
        phone = (query.get("phone") or [""])[-1].strip()
        if not phone:
            return _json_response(400, {"message": "phone query parameter required (E.164, e.g. +8210...)"})
        if not phone.startswith("+"):
            # An unencoded "+8210..." in a query string decodes to " 8210..."; E.164 always has the +.
            phone = "+" + phone
        return _json_response(200, {"messages": recorded_sms(phone, self.region)})

    def _local_openapi(self, query: dict[str, list[str]]) -> Response:
        return _json_response(200, build_document(self))  # imports every API handler: only when asked

    def _local_docs(self, query: dict[str, list[str]]) -> Response:
        if query.get("format") == ["json"]:  # where the Swagger UI page reloads the document from
            return self._local_openapi(query)
        return Response(
            200,
            [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")],
            api_docs.page(build_document(self)),
        )

    def _local_docs_asset(self, name: str, query: dict[str, list[str]]) -> Response:
        content_type, body = api_docs.asset(name)
        return Response(200, [("Content-Type", content_type), ("Cache-Control", "max-age=3600")], body)

    # --- HTTP --------------------------------------------------------------------------------

    def make_server(self, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
        """A bound server (port 0 picks a free port); run serve_forever() in a thread."""
        server = ThreadingHTTPServer((host, port), _RequestHandler)
        server.gateway = self  # type: ignore[attr-defined]
        return server


class _BadRequest(Exception):
    """The request's framing is broken: its body's length cannot be known."""


# The longest chunk-size or trailer line read (http.server's own line limit), and at most this
# many trailer lines.
_MAX_LINE = 65536
_MAX_TRAILERS = 100
_DIGITS = re.compile(rb"[0-9]+")
_HEX = re.compile(rb"[0-9A-Fa-f]+")
# After refusing a request, read at most this much of what the client still sends (for at most
# _DRAIN_SECONDS) before closing, so that the close does not reset the connection and discard
# the answer before the client reads it.
_DRAIN_BYTES = 1024 * 1024
_DRAIN_SECONDS = 1.0


class _RequestHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive and pipelining. A request whose framing is broken (a
    Content-Length that is not one number, a bad chunk, a transfer coding other than chunked, a
    body cut short, a request line that is not `METHOD target HTTP/1.x`, as left-over bytes after
    a body are) gets 400 `{"message": "Bad Request"}` and the connection is closed; an over-long
    request line gets 414 and an over-long header block 431, the same way. Nothing the client sent
    is echoed back."""

    protocol_version = "HTTP/1.1"  # keep-alive, so benchmarks measure handlers, not TCP setup
    # TCP_NODELAY: the status line and headers and then the body go out as two writes; with
    # Nagle's algorithm the body waited for the client's delayed ACK of the headers, ~40 ms on
    # every answer on Linux loopback.
    disable_nagle_algorithm = True
    # The version assumed before the request line has given one: error answers then still have a
    # status line and headers (http.server's default, HTTP/0.9, sends a bare body).
    default_request_version = "HTTP/1.1"
    _refused = False

    def parse_request(self) -> bool:
        words = str(self.raw_requestline, "iso-8859-1").split()
        if len(words) == 2:
            self.command, self.request_version, self.requestline = None, self.default_request_version, ""
            # http.server would serve `GET /path` as HTTP/0.9 (a body with no status line, as
            # left-over body bytes can read); API Gateway speaks HTTP/1.x only.
            self.send_error(400)
            return False
        return super().parse_request()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's refusals (bad request line, line too long, too many headers), as JSON:
        its HTML page quotes the request line, which can be a body's left-over bytes."""
        self._answer_and_close(code)

    def _answer_and_close(self, code: int) -> None:
        phrase = HTTPStatus(code).phrase
        body = json.dumps({"message": phrase}).encode()
        self.close_connection = True
        self._refused = True
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        log.info("%s %d %s", self.command or "-", code, phrase)

    def handle(self) -> None:
        super().handle()
        if self._refused:
            self._drain()

    def _drain(self) -> None:
        """A lingering close: what the client still sends after a refusal is read and dropped,
        briefly, so that closing with unread data does not reset the connection (a reset can
        discard the answer on the client's side before it reads it)."""
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + _DRAIN_SECONDS
            drained = 0
            while drained < _DRAIN_BYTES and (left := deadline - time.monotonic()) > 0:
                self.connection.settimeout(left)
                data = self.connection.recv(65536)
                if not data:
                    break
                drained += len(data)
        except OSError:
            pass

    def _serve(self) -> None:
        gateway: Gateway = self.server.gateway  # type: ignore[attr-defined]
        started = time.monotonic()
        try:
            body = self._read_body(gateway.max_body_bytes)
        except _BadRequest:
            self._answer_and_close(400)
            return
        if body is None:
            response = gateway.gateway_response("REQUEST_TOO_LARGE", str(uuid.uuid4()))
            self.close_connection = True  # the unread body makes the connection unusable
            self._refused = True
        else:
            try:
                response = gateway.handle(
                    self.command, self.path, self.headers.items(), body, self.client_address[0]
                )
            except Exception:
                # A bug in the gateway itself (handler errors are already 502s): answer, don't hang up.
                traceback.print_exc()
                response = _json_response(500, {"message": "local gateway error"})
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        log.info(
            "%s %s %d %.0fms",
            self.command,
            # The path only: query strings can carry personal data (/_local/sms?phone=...).
            urlsplit(self.path).path,
            response.status,
            (time.monotonic() - started) * 1000,
        )

    def __getattr__(self, name: str) -> Any:
        # Every method reaches the routing, as at API Gateway: a method no route has (TRACE,
        # QUERY ...) gets its 403 there, not http.server's 501 page.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _read_body(self, limit: int) -> bytes | None:
        """The request body, or None when it exceeds `limit`; _BadRequest when its length cannot
        be known (RFC 9112 6.3)."""
        transfer_encoding = ",".join(self.headers.get_all("Transfer-Encoding") or [])
        if transfer_encoding:
            codings = [c.strip().lower() for c in transfer_encoding.split(",")]
            if codings[-1] != "chunked":
                raise _BadRequest("the final transfer coding is not chunked")
            # With a Content-Length as well, chunked wins; such a message may be an attempt to
            # smuggle a request, so the connection is not reused (RFC 9112 6.1).
            if self.headers.get_all("Content-Length"):
                self.close_connection = True
            return self._read_chunked(limit)
        lengths = {
            part.strip()
            for value in self.headers.get_all("Content-Length") or []
            for part in value.split(",")
        }
        if not lengths:
            return b""
        if len(lengths) != 1 or not _DIGITS.fullmatch(next(iter(lengths)).encode()):
            raise _BadRequest("Content-Length is not one number")
        length = int(next(iter(lengths)))
        if length > limit:
            return None
        body = self.rfile.read(length)
        if len(body) != length:
            raise _BadRequest("the body is shorter than its Content-Length")
        return body

    def _read_chunked(self, limit: int) -> bytes | None:
        body = b""
        while True:
            size_text = self._read_line().split(b";", 1)[0].strip(b" \t\r\n")
            if not _HEX.fullmatch(size_text):
                raise _BadRequest("bad chunk size")
            size = int(size_text, 16)
            if size == 0:
                for _ in range(_MAX_TRAILERS + 1):
                    if self._read_line() in (b"\r\n", b"\n"):
                        return body
                raise _BadRequest("too many trailer lines")
            if len(body) + size > limit:
                return None
            chunk = self.rfile.read(size)
            if len(chunk) != size or self._read_line() not in (b"\r\n", b"\n"):
                raise _BadRequest("a chunk is not its size followed by CRLF")
            body += chunk

    def _read_line(self) -> bytes:
        line = self.rfile.readline(_MAX_LINE + 1)
        if len(line) > _MAX_LINE or not line.endswith(b"\n"):
            raise _BadRequest("line too long, or the connection ended")
        return line

    def log_message(self, format: str, *args: Any) -> None:
        pass  # _serve logs one line per request through `logging` instead
