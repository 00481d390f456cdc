"""Request and response bodies declared without pydantic at run time.

Why: importing pydantic and Powertools' validation costs a cold start ~150-200 ms, more than the
1.5x budget leaves (issue 12, docs/benchmarks.md). The models keep pydantic's spelling
(`class X(StrictModel): pin: str = Field(min_length=1, ...)`), so one declaration serves both
sides. This module holds the declarations (Field, ConfigDict, BaseModel and what each model
declares); at run time fincert.api.schema_types compiles them to validate request bodies and
serialise answers; at build time fincert.api.openapi_build turns every model into the pydantic
model it stands for, which documents the API (docs/openapi.json) exactly as before.

Validation follows pydantic 2's strict mode on parsed JSON as Powertools runs it (with
from_attributes=True, which only changes how a non-object is refused), error for error (`type`,
`loc`, `msg`): the answers to bad requests are part of the API. Only what the API's models use is
supported: str (min_length, max_length, pattern), int (ge, le, a before-validator), bool, Literal,
`X | None`, unions of models or of Literals, list (min_length, max_length), nested models, and on
the response side datetime, enums and dicts. tests/unit/test_schema_vs_pydantic.py holds every
model to pydantic's own answers; tests/golden holds every route's answers to bad requests."""

from __future__ import annotations

import copy
import inspect
import sys
import typing
from collections.abc import Callable
from typing import Any, ClassVar, dataclass_transform

MISSING: Any = object()


class FieldInfo:
    """What pydantic's Field() takes, kept as given (the OpenAPI side passes it on unchanged)."""

    __slots__ = ("default", "kwargs")

    def __init__(self, default: Any = MISSING, **kwargs: Any) -> None:
        self.default = default
        self.kwargs = kwargs

    def get(self, name: str) -> Any:
        return self.kwargs.get(name)


def Field(default: Any = MISSING, **kwargs: Any) -> Any:
    return FieldInfo(default, **kwargs)


class BeforeValidator:
    """A function applied to the raw value before the field's type is checked (pydantic's)."""

    __slots__ = ("func",)

    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.func = func


class _SkipJsonSchema:
    """`SkipJsonSchema[None]`: the None of an optional response field that is left out of the
    document (and, with omit_none, of the answer)."""

    def __class_getitem__(cls, item: Any) -> Any:
        return typing.Annotated[item, SKIP_JSON_SCHEMA_MARK]


SKIP_JSON_SCHEMA_MARK = _SkipJsonSchema()
_T = typing.TypeVar("_T")
if typing.TYPE_CHECKING:
    # To a type checker SkipJsonSchema[X] is X, as pydantic declares it.
    SkipJsonSchema = typing.Annotated[_T, ...]
else:
    SkipJsonSchema = _SkipJsonSchema


def ConfigDict(**kwargs: Any) -> dict[str, Any]:
    return dict(kwargs)


@dataclass_transform(kw_only_default=True, field_specifiers=(Field, FieldInfo))
class _ModelMeta(type):
    pass


class BaseModel(metaclass=_ModelMeta):
    """A body: validated from JSON (requests), built by handlers and dumped to JSON (responses).

    model_config keys understood: extra ("forbid" or "ignore"), strict, populate_by_name,
    defer_build (no effect here), omit_none (leave None fields out of the answer: CSC's
    optional fields)."""

    model_config: ClassVar[dict[str, Any]] = {}
    __fincert_declared__: ClassVar[dict[str, tuple[Any, FieldInfo]] | None] = None

    def __init__(self, **values: Any) -> None:
        for name, (_, info) in declared_fields(type(self)).items():
            if name in values:
                value = values.pop(name)
            elif info.default is not MISSING:
                value = copy.deepcopy(info.default)
            else:
                raise TypeError(f"{type(self).__name__}: {name} is required")
            object.__setattr__(self, name, value)
        if values:
            raise TypeError(f"{type(self).__name__}: unknown fields {sorted(values)}")

    def model_dump(self) -> dict[str, Any]:
        """The fields by name, as Python values (pydantic's model_dump(), for building one
        response from another)."""
        return {name: getattr(self, name) for name in declared_fields(type(self))}

    def model_copy(self, *, update: dict[str, Any]) -> typing.Self:
        """A copy with some fields replaced (pydantic's model_copy(update=...))."""
        return type(self)(**{**self.model_dump(), **update})

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, BaseModel)
            and type(self) is type(other)
            and self.model_dump() == other.model_dump()
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.model_dump().items())})"


# --- fields as declared, read once per model -------------------------------------------------


def declared_fields(cls: type[BaseModel]) -> dict[str, tuple[Any, FieldInfo]]:
    """Each field's annotation (resolved, with Annotated extras) and FieldInfo, in pydantic's
    order (base classes first): what validation compiles (fincert.api.schema_types) and the
    OpenAPI side rebuilds the pydantic model from. Read once per model."""
    declared = cls.__dict__.get("__fincert_declared__")
    if declared is None:
        declared = _read_declared_fields(cls)
        cls.__fincert_declared__ = declared
    return declared


def _read_declared_fields(cls: type[BaseModel]) -> dict[str, tuple[Any, FieldInfo]]:
    hints = typing.get_type_hints(cls, include_extras=True, localns=_localns(cls))
    declared: dict[str, tuple[Any, FieldInfo]] = {}
    for klass in reversed(cls.__mro__):
        for name in inspect.get_annotations(klass):
            if name.startswith("_") or name == "model_config":
                continue
            hint = hints[name]
            if typing.get_origin(hint) is ClassVar:
                continue
            default = _class_default(cls, name)
            info = default if isinstance(default, FieldInfo) else FieldInfo(default)
            # An override keeps the position of the field it overrides, as in pydantic.
            declared[name] = (hint, info)
    return declared


def _class_default(cls: type, name: str) -> Any:
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return MISSING


def _localns(cls: type) -> dict[str, Any]:
    module = sys.modules.get(cls.__module__)
    return dict(vars(module)) if module else {}


def config(cls: type[BaseModel]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        merged.update(klass.__dict__.get("model_config", {}))
    return merged
