"""The API functions' router: Powertools' `APIGatewayRestResolver(enable_validation=True)` as the
handlers use it, without importing Powertools' event handler or pydantic at run time.

Why: those two imports are ~150-200 ms of every cold start, past the 1.5x budget (issue 12,
docs/benchmarks.md). Routes keep Powertools' decorators and arguments (summary, responses,
security ...), which only the OpenAPI document reads: `fincert.api.openapi_build` replays them
onto a real Powertools resolver, with the models turned into pydantic's, to generate it.

What a client sees is Powertools' behaviour, reproduced here and held to it by
tests/unit/test_request_answers_golden.py (every route's answers to a corpus of bad requests,
recorded from Powertools): the same route matching (static routes first, trailing slashes
allowed), path, query and body validation in the same order with the same errors, the same
response shapes (multiValueHeaders, compact JSON), and the error mapping of fincert.api.errors."""

from __future__ import annotations

import base64
import functools
import inspect
import json
import re
import typing
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qs

from fincert.api import schema, schema_types

T = TypeVar("T")
_JSON = "application/json"


class content_types:  # Powertools' spelling
    APPLICATION_JSON = "application/json"


class Response(Generic[T]):
    """A handler's answer when it sets the status, type or headers (Powertools' Response)."""

    def __init__(
        self,
        status_code: int,
        content_type: str | None = None,
        body: Any = None,
        headers: Mapping[str, str | list[str]] | None = None,
    ) -> None:
        self.status_code = status_code
        self.body = body
        self.headers: dict[str, str | list[str]] = dict(headers or {})
        if content_type:
            self.headers.setdefault("Content-Type", content_type)

    def is_json(self) -> bool:
        content_type = self.headers.get("Content-Type", "")
        if isinstance(content_type, list):
            content_type = content_type[0]
        return content_type.startswith(_JSON)


class _Param:
    """Path(...) / Query(...): where a handler argument comes from, and its constraints."""

    kind = ""

    def __init__(self, default: Any = schema.MISSING, **kwargs: Any) -> None:
        self.default = default
        self.kwargs = kwargs


class _PathParam(_Param):
    kind = "path"


class _QueryParam(_Param):
    kind = "query"


def Path(default: Any = schema.MISSING, **kwargs: Any) -> Any:
    return _PathParam(default, **kwargs)


def Query(default: Any = schema.MISSING, **kwargs: Any) -> Any:
    return _QueryParam(default, **kwargs)


def parse_json(text: str) -> Any:
    """json.loads, with every way it can fail as json.JSONDecodeError: it also raises a plain
    ValueError (an integer longer than Python's int conversion limit, 4300 digits) and
    RecursionError (nesting deeper than the stack allows, ~1000 levels, far under the body limit),
    which would otherwise end as 500s."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as e:
        # Type only: a ValueError's message can quote the input.
        raise json.JSONDecodeError(f"unparseable JSON ({type(e).__name__})", text, 0) from None


class RequestValidationError(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("request validation failed")
        self._errors = errors

    def errors(self) -> list[dict[str, Any]]:
        return self._errors


class UnsupportedContentType(Exception):
    pass


class Event:
    """The parts of the API Gateway event the handlers read (Powertools' APIGatewayProxyEvent)."""

    def __init__(self, raw_event: dict[str, Any]) -> None:
        self.raw_event = raw_event

    @property
    def path_parameters(self) -> dict[str, str]:
        return self.raw_event.get("pathParameters") or {}

    @property
    def query_string_parameters(self) -> dict[str, str]:
        return self.raw_event.get("queryStringParameters") or {}

    @property
    def request_context(self) -> _RequestContext:
        return _RequestContext(self.raw_event.get("requestContext") or {})


class _RequestContext:
    def __init__(self, context: dict[str, Any]) -> None:
        self.authorizer: dict[str, Any] | None = context.get("authorizer")


# Powertools' route patterns: <name> matches one path segment of these characters.
_DYNAMIC = re.compile(r"(<\w+>)")
_SEGMENT = r"(?P\1[-._~()'!*:@,;=+&$%<> \[\]{}|^\\w]+)"


class _Argument:
    __slots__ = ("default", "kind", "name", "node")

    def __init__(self, name: str, kind: str, node: schema_types.Node, default: Any):
        self.name = name
        self.kind = kind  # path, query or body
        self.node = node
        self.default = default


class Route:
    def __init__(self, method: str, rule: str, func: Callable[..., Any], openapi: dict[str, Any]) -> None:
        self.method = method
        self.rule = rule
        self.func = func
        self.openapi = openapi
        self.regex = re.compile(f"^{_DYNAMIC.sub(_SEGMENT, rule)}/*$")
        self.dynamic = "<" in rule
        self._arguments: list[_Argument] | None = None

    @functools.cached_property
    def declared_return(self) -> type[schema.BaseModel] | None:
        """The model the handler declares it returns (itself or in Response[...]), if any: the
        answer is dumped as that model, as Powertools serialised it by the return annotation."""
        hint = typing.get_type_hints(self.func).get("return")
        if typing.get_origin(hint) is Response:
            (hint,) = typing.get_args(hint)
        return hint if isinstance(hint, type) and issubclass(hint, schema.BaseModel) else None

    def arguments(self) -> list[_Argument]:
        """The handler's arguments as Powertools reads them: named in the rule -> path; a model
        -> the body; any other -> a query parameter."""
        if self._arguments is None:
            self._arguments = _arguments(self)
        return self._arguments


def _arguments(route: Route) -> list[_Argument]:
    hints = typing.get_type_hints(route.func, include_extras=True)
    in_rule = set(re.findall(r"<(\w+)>", route.rule))
    arguments = []
    for name, parameter in inspect.signature(route.func).parameters.items():
        hint = hints[name]
        param: _Param | None = None
        base = hint
        if typing.get_origin(hint) is typing.Annotated:
            base, *extras = typing.get_args(hint)
            param = next((e for e in extras if isinstance(e, _Param)), None)
        default = schema.MISSING if parameter.default is inspect.Parameter.empty else parameter.default
        if isinstance(base, type) and issubclass(base, schema.BaseModel):
            argument = _Argument(name, "body", schema_types.ModelOf(base), default)
        else:
            info = schema.FieldInfo(default, **(param.kwargs if param else {}))
            schema_types.refuse_unsupported(info)
            kind = "path" if name in in_rule else "query"
            argument = _Argument(name, kind, _lax(schema_types.type_node(base, info)), default)
        arguments.append(argument)
    return arguments


class _LaxInt(schema_types.Int):
    """An integer from a query string, parsed as pydantic's lax mode does: surrounding
    whitespace, a sign, digits with single underscores between them, a fraction of zeros."""

    _TEXT = re.compile(r"[+-]?[0-9](?:_?[0-9])*(?:\.0+)?")
    # Rust's trim(): Unicode White_Space only (Python's strip() also takes \x1c-\x1f).
    _WHITE_SPACE = (
        "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
        "\u2028\u2029\u202f\u205f\u3000"
    )
    # Python's int() refuses more digits than this (CVE-2020-10735); pydantic refuses them too.
    _MAX_DIGITS = 4300

    def validate(self, value: Any, loc: tuple[Any, ...], errors: list[dict[str, Any]]) -> Any:
        if type(value) is str:
            parsed = self._parse(value)
            if isinstance(parsed, str):
                message = {
                    "int_parsing": "Input should be a valid integer, unable to parse string as an integer",
                    "int_parsing_size": "Unable to parse input string as an integer, exceeded maximum size",
                }[parsed]
                return schema_types.error(errors, parsed, loc, message)
            value = parsed
        return super().validate(value, loc, errors)

    @classmethod
    def _parse(cls, raw: str) -> int | str:
        """The integer, or the error type pydantic answers: more than 4300 significant digits is
        too large (int_parsing_size) when written plainly, and does not parse (int_parsing) with
        spaces around, a + sign, leading zeros or underscores (tests/unit/test_schema_vs_pydantic.py
        holds this to pydantic)."""
        text = raw.strip(cls._WHITE_SPACE)
        if not cls._TEXT.fullmatch(text):
            return "int_parsing"
        whole = text.split(".")[0]
        sign = "-" if whole.startswith("-") else ""
        written = whole.lstrip("+-")
        digits = written.replace("_", "").lstrip("0") or "0"
        if len(digits) > cls._MAX_DIGITS:
            plain = text == raw and written == digits and not whole.startswith("+")
            return "int_parsing_size" if plain else "int_parsing"
        return int(sign + digits)


def _lax(node: schema_types.Node) -> schema_types.Node:
    """A query parameter's type as pydantic's lax mode reads a string (only integers differ)."""
    if isinstance(node, schema_types.Int):
        return _LaxInt(schema.FieldInfo(ge=node.ge, le=node.le))
    if isinstance(node, schema_types.Nullable):
        return schema_types.Nullable(_lax(node.inner))
    return node


class Resolver:
    """Routes by method and path, validates, calls the handler, shapes the answer."""

    def __init__(
        self,
        *,
        validation: bool,
        domain_error: Callable[[Exception], Response[Any]],
        validation_error: Callable[[RequestValidationError], Response[Any]],
        unsupported_content_type: Callable[[], Response[Any]],
        not_found: Callable[[], Response[Any]],
        unexpected: Callable[[Exception], Response[Any]],
        domain_error_class: type[Exception],
    ) -> None:
        self.validation = validation
        self.routes: list[Route] = []
        self._domain_error = domain_error
        self._domain_error_class = domain_error_class
        self._validation_error = validation_error
        self._unsupported_content_type = unsupported_content_type
        self._not_found = not_found
        self._unexpected = unexpected
        self._current: Event | None = None

    @property
    def current_event(self) -> Event:
        if self._current is None:
            raise RuntimeError("no event is being resolved")
        return self._current

    def route(self, rule: str, method: str, **openapi: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def register(func: Callable[..., T]) -> Callable[..., T]:
            self.routes.append(Route(method, rule, func, openapi))
            return func

        return register

    def get(self, rule: str, **openapi: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
        return self.route(rule, "GET", **openapi)

    def post(self, rule: str, **openapi: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
        return self.route(rule, "POST", **openapi)

    def put(self, rule: str, **openapi: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
        return self.route(rule, "PUT", **openapi)

    def delete(self, rule: str, **openapi: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
        return self.route(rule, "DELETE", **openapi)

    def get_openapi_json_schema(self, **kwargs: Any) -> str:
        """The document Powertools generates for these routes (build time only: it imports
        Powertools and pydantic)."""
        from fincert.api.openapi_build import powertools_resolver

        return powertools_resolver(self).get_openapi_json_schema(**kwargs)

    # --- resolving ----------------------------------------------------------------------------

    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self._current = Event(event)
        try:
            response = self._respond(event)
        finally:
            self._current = None
        return _build(response)

    def _respond(self, event: dict[str, Any]) -> Response[Any]:
        method = str(event.get("httpMethod", "")).upper()
        path = event.get("path") or ""
        route, groups = self._match(method, path)
        try:
            if route is None:
                return self._not_found()
            if not self.validation:
                return _serialize(_to_response(route.func(**groups)), route)
            kwargs = self._validated_arguments(route, groups, event)
            # Serialised here, so a body that cannot be (a handler's bug) is a mapped 500.
            return _serialize(_to_response(route.func(**kwargs)), route)
        except RequestValidationError as e:
            return self._validation_error(e)
        except UnsupportedContentType:
            return self._unsupported_content_type()
        except self._domain_error_class as e:
            return self._domain_error(e)
        except Exception as e:
            return self._unexpected(e)

    def _match(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        for dynamic in (False, True):
            for route in self.routes:
                if route.dynamic is dynamic and route.method == method:
                    found = route.regex.match(path)
                    if found:
                        return route, found.groupdict()
        return None, {}

    def _validated_arguments(
        self, route: Route, groups: dict[str, str], event: dict[str, Any]
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        arguments = route.arguments()
        path_args = [a for a in arguments if a.kind == "path"]
        query_args = [a for a in arguments if a.kind == "query"]
        body_args = [a for a in arguments if a.kind == "body"]
        for argument in path_args:
            _param(argument, groups.get(argument.name), values, errors)
        if query_args:
            query = _query_parameters(event, query_args)
            for argument in query_args:
                _param(argument, query.get(argument.name), values, errors)
        for argument in body_args:
            body = _json_body(event)
            if body is None:
                if argument.default is schema.MISSING:
                    errors.append({"type": "missing", "loc": ("body",), "msg": "Field required"})
                else:
                    values[argument.name] = argument.default
                continue
            values[argument.name] = argument.node.validate(body, ("body",), errors)
        if errors:
            raise RequestValidationError(errors)
        return values


def _param(argument: _Argument, value: Any, values: dict[str, Any], errors: list[dict[str, Any]]) -> None:
    loc = (argument.kind, argument.name)
    if value is None:
        if argument.default is schema.MISSING:
            errors.append({"type": "missing", "loc": loc, "msg": "Field required"})
        else:
            values[argument.name] = argument.default
        return
    values[argument.name] = argument.node.validate(value, loc, errors)


def _query_parameters(event: dict[str, Any], arguments: list[_Argument]) -> dict[str, Any]:
    """Powertools' reading of a REST event's query string: the single values split at commas,
    the multi-value lists over them; a scalar parameter's comma-split value joined again and a
    one-element list unwrapped."""
    single = {k: v.split(",") for k, v in (event.get("queryStringParameters") or {}).items()}
    multi = event.get("multiValueQueryStringParameters") or {}
    merged: dict[str, Any] = {**single, **multi} if multi and single else (multi or single)
    resolved = dict(merged)
    for argument in arguments:
        if argument.name not in resolved:
            continue
        value = resolved[argument.name]
        if (
            isinstance(value, list)
            and len(value) > 1
            and argument.name not in multi
            and all(isinstance(item, str) for item in value)
        ):
            value = ",".join(value)
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        resolved[argument.name] = value
    return resolved


def _json_body(event: dict[str, Any]) -> Any:
    """The parsed body, as Powertools reads it for validation: by its Content-Type (JSON, a form,
    or refused), None when there is none."""
    content_type = ""
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == "content-type":
            content_type = (value or "").strip()
    body = event.get("body")
    if body and event.get("isBase64Encoded"):
        body = base64.b64decode(body.encode()).decode()
    if not content_type or content_type.startswith(_JSON):
        if not body:
            return None
        try:
            return parse_json(body)
        except json.JSONDecodeError:
            raise RequestValidationError(
                [{"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error"}]
            ) from None
    if content_type.startswith("application/x-www-form-urlencoded"):
        return parse_qs(body or "", keep_blank_values=True)
    if content_type.startswith("multipart/form-data") and _multipart_boundary(content_type):
        # Only an empty one gets here (refuse_before_parsing answers 415 to a multipart body), and
        # Powertools reads it as a form without fields. Without a boundary Powertools raised
        # (a 500); this answers 415.
        return {}
    raise UnsupportedContentType()


def _multipart_boundary(content_type: str) -> str | None:
    """The boundary parameter, as Powertools reads it (its segment, unquoted), if not empty."""
    for segment in content_type.split(";"):
        segment = segment.strip()
        if segment.startswith("boundary="):
            return segment[len("boundary=") :].strip('"') or None
    return None


def _to_response(result: Any) -> Response[Any]:
    if isinstance(result, Response):
        return result
    return Response(200, content_type=_JSON, body=result)


def _serialize(response: Response[Any], route: Route) -> Response[Any]:
    if response.is_json() and not isinstance(response.body, str):
        declared = route.declared_return
        if declared is not None and isinstance(response.body, declared):
            dumped: Any = schema_types.dump_model(response.body, declared)
        else:
            dumped = schema_types.dump(response.body)
        response.body = json.dumps(dumped, separators=(",", ":"))
    return response


def _build(response: Response[Any]) -> dict[str, Any]:
    body = response.body
    encoded = False
    if response.is_json() and body is None:
        body = "null"
    if isinstance(body, bytes):
        encoded = True
        body = base64.b64encode(body).decode()
    headers: dict[str, list[str]] = {}
    for key, value in response.headers.items():
        headers.setdefault(key, []).extend([value] if isinstance(value, str) else value)
    return {
        "statusCode": response.status_code,
        "body": body,
        "isBase64Encoded": encoded,
        "multiValueHeaders": headers,
    }
