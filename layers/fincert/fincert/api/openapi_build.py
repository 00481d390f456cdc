"""Build time only: the API functions' routes and models as Powertools and pydantic see them.

The functions run on fincert.api.routing and fincert.api.schema, which keep Powertools' and
pydantic's spelling without importing them (cold start, issue 12). This module replays a
function's routes onto a real `APIGatewayRestResolver(enable_validation=True)` with every model
turned into the pydantic model it stands for, so Powertools generates the OpenAPI document as it
always has (docs/openapi.json, /_local/openapi.json), and tests can compare our validation with
pydantic's own. Nothing on a request's path imports it."""

from __future__ import annotations

import inspect
import types
import typing
from functools import cache
from typing import Any, Literal, Union

import pydantic
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler import Response as PowertoolsResponse
from aws_lambda_powertools.event_handler.openapi.params import Path as PowertoolsPath
from aws_lambda_powertools.event_handler.openapi.params import Query as PowertoolsQuery
from pydantic.json_schema import SkipJsonSchema

from fincert.api import routing, schema


class _OmitNone(pydantic.BaseModel):
    """What schema's `omit_none` config stands for: None fields are left out of the answer."""

    # No return annotation on purpose: with one, pydantic documents the model as "any object"
    # instead of its fields.
    @pydantic.model_serializer(mode="wrap")
    def _leave_out_absent(self, handler: pydantic.SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]  # see above
        return {name: value for name, value in handler(self).items() if value is not None}


@cache
def pydantic_model(cls: type[schema.BaseModel]) -> type[pydantic.BaseModel]:
    """The pydantic model a schema model stands for: same name, fields, constraints, config and
    docstring, so its JSON schema is what the model documented before."""
    config = schema.config(cls)
    omit_none = config.pop("omit_none", False)
    base: type[pydantic.BaseModel] = _OmitNone if omit_none else pydantic.BaseModel
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__doc__": cls.__doc__,
        "model_config": pydantic.ConfigDict(**config),  # type: ignore[typeddict-item]
        "__annotations__": annotations,
    }
    for name, (hint, info) in schema.declared_fields(cls).items():
        annotations[name] = pydantic_type(hint)
        if info.kwargs:
            args = () if info.default is schema.MISSING else (info.default,)
            namespace[name] = pydantic.Field(*args, **info.kwargs)
        elif info.default is not schema.MISSING:
            namespace[name] = info.default
    return types.new_class(cls.__name__, (base,), {}, lambda ns: ns.update(namespace))


def pydantic_type(hint: Any) -> Any:
    """A type hint with schema's models and markers replaced by pydantic's."""
    if isinstance(hint, type) and issubclass(hint, schema.BaseModel):
        return pydantic_model(hint)
    if isinstance(hint, schema.FieldInfo):
        default = () if hint.default is schema.MISSING else (hint.default,)
        return pydantic.Field(*default, **hint.kwargs)
    if isinstance(hint, schema.BeforeValidator):
        return pydantic.BeforeValidator(hint.func)
    if hint is schema.SKIP_JSON_SCHEMA_MARK:
        return SkipJsonSchema()
    if isinstance(hint, routing._PathParam):
        return PowertoolsPath(**hint.kwargs)
    if isinstance(hint, routing._QueryParam):
        return PowertoolsQuery(**hint.kwargs)
    origin = typing.get_origin(hint)
    args: tuple[Any, ...] = typing.get_args(hint)
    if origin is typing.Annotated:
        return typing.Annotated[(pydantic_type(args[0]), *(pydantic_type(a) for a in args[1:]))]
    if origin in (Union, types.UnionType):
        return Union[tuple(pydantic_type(a) for a in args)]  # noqa: UP007  a Union built from parts
    if origin is Literal:
        return hint
    if origin is routing.Response:
        return PowertoolsResponse[pydantic_type(args[0])]  # type: ignore[misc]
    if origin in (list, dict):
        return origin[tuple(pydantic_type(a) for a in args)]
    return hint


def _openapi_value(value: Any) -> Any:
    if isinstance(value, type) and issubclass(value, schema.BaseModel):
        return pydantic_model(value)
    if isinstance(value, dict):
        return {k: _openapi_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_openapi_value(v) for v in value]
    return value


def _as_powertools_handler(route: routing.Route) -> Any:
    hints = typing.get_type_hints(route.func, include_extras=True)
    signature = inspect.signature(route.func)
    parameters = [
        parameter.replace(annotation=pydantic_type(hints[name]))
        for name, parameter in signature.parameters.items()
    ]
    returns = pydantic_type(hints["return"]) if "return" in hints else inspect.Signature.empty

    def handler(**kwargs: Any) -> Any:
        return route.func(**kwargs)

    handler.__name__ = route.func.__name__
    handler.__qualname__ = route.func.__qualname__
    handler.__module__ = route.func.__module__
    handler.__doc__ = route.func.__doc__
    handler.__signature__ = inspect.Signature(parameters, return_annotation=returns)  # type: ignore[attr-defined]
    return handler


def powertools_resolver(resolver: routing.Resolver) -> APIGatewayRestResolver:
    """A Powertools resolver with the same routes (in the same order) and pydantic models."""
    replayed = APIGatewayRestResolver(enable_validation=resolver.validation, debug=False)
    for route in resolver.routes:
        openapi = {k: _openapi_value(v) for k, v in route.openapi.items()}
        replayed.route(route.rule, route.method, **openapi)(_as_powertools_handler(route))
    return replayed
