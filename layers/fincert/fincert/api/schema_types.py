"""The compiled form of fincert.api.schema's declarations: each field's type as a tree of nodes
that validate a parsed JSON value as pydantic 2's strict mode does (error for error: `type`,
`loc`, `msg`) and dump an answer as pydantic's JSON mode does. Compiled once per model, on first
use. Only what the API's models use is supported; anything else is refused when compiled
(refuse_unsupported, type_node), so the OpenAPI document cannot promise a check that never runs."""

from __future__ import annotations

import copy
import enum
import re
import types
import typing
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal, Union

from fincert.api.schema import MISSING, BaseModel, BeforeValidator, FieldInfo, config, declared_fields

# --- fields compiled once per model ------------------------------------------


class CompiledField:
    __slots__ = ("alias", "default", "info", "name", "node", "serialization_alias")

    def __init__(self, name: str, node: Node, info: FieldInfo) -> None:
        self.name = name
        self.node = node
        self.info = info
        self.default = info.default
        self.alias = info.get("alias") or name
        self.serialization_alias = info.get("serialization_alias") or info.get("alias") or name


_COMPILED: dict[type[BaseModel], dict[str, CompiledField]] = {}


def model_fields(cls: type[BaseModel]) -> dict[str, CompiledField]:
    """The model's fields, compiled on first use (idempotent: two threads compile alike)."""
    fields = _COMPILED.get(cls)
    if fields is None:
        fields = _COMPILED[cls] = _resolve_fields(cls)
    return fields


def _resolve_fields(cls: type[BaseModel]) -> dict[str, CompiledField]:
    fields: dict[str, CompiledField] = {}
    for name, (hint, info) in declared_fields(cls).items():
        node, field_info = field_node(hint, info)
        fields[name] = CompiledField(name, node, field_info)
    return fields


# --- the type tree ----------------------------------------------------------------------------


class Node:
    """A compiled type: validate() appends pydantic's errors and returns the value, or MISSING."""

    tag = "any"

    def validate(self, value: Any, loc: tuple[Any, ...], errors: list[dict[str, Any]]) -> Any:
        return value

    def dump(self, value: Any) -> Any:
        return _dump_any(value)


def error(errors: list[dict[str, Any]], kind: str, loc: tuple[Any, ...], msg: str) -> Any:
    errors.append({"type": kind, "loc": loc, "msg": msg})
    return MISSING


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _unicode_error(errors: list[dict[str, Any]], loc: tuple[Any, ...]) -> Any:
    return error(
        errors,
        "string_unicode",
        loc,
        "Input should be a valid string, unable to parse raw data as a unicode string",
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class Str(Node):
    tag = "str"

    def __init__(self, info: FieldInfo) -> None:
        self.min_length = info.get("min_length")
        self.max_length = info.get("max_length")
        self.pattern = info.get("pattern")
        # pydantic matches with Rust's regex crate, where `$` is the very end of the text; in
        # Python's re it also matches before a final newline ("123456\n" would pass ^[0-9]{6}$).
        self.regex = re.compile(rust_dollar(self.pattern)) if self.pattern else None
        self.constrained = any(c is not None for c in (self.min_length, self.max_length, self.pattern))

    def validate(self, value: Any, loc: tuple[Any, ...], errors: list[dict[str, Any]]) -> Any:
        if type(value) is not str:
            return error(errors, "string_type", loc, "Input should be a valid string")
        if self.constrained and _has_surrogate(value):
            # pydantic converts a constrained string to Rust's str to measure it, which a lone
            # surrogate (a JSON escape like \ud800) cannot become.
            return _unicode_error(errors, loc)
        if self.min_length is not None and len(value) < self.min_length:
            return error(
                errors,
                "string_too_short",
                loc,
                f"String should have at least {_plural(self.min_length, 'character')}",
            )
        if self.max_length is not None and len(value) > self.max_length:
            return error(
                errors,
                "string_too_long",
                loc,
                f"String should have at most {_plural(self.max_length, 'character')}",
            )
        if self.regex is not None and self.regex.search(value) is None:
            return error(
                errors, "string_pattern_mismatch", loc, f"String should match pattern '{self.pattern}'"
            )
        return value


def rust_dollar(pattern: str) -> str:
    # An unescaped `$` outside a character class becomes \Z (end of text only).
    out: list[str] = []
    escaped = in_class = False
    for char in pattern:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            out.append(char)
            escaped = True
        elif char == "[":
            in_class = True
            out.append(char)
        elif char == "]":
            in_class = False
            out.append(char)
        elif char == "$" and not in_class:
            out.append(r"\Z")
        else:
            out.append(char)
    return "".join(out)


class Int(Node):
    tag = "int"

    def __init__(self, info: FieldInfo) -> None:
        self.ge = info.get("ge")
        self.le = info.get("le")

    def validate(self, value: Any, loc: tuple[Any, ...], errors: list[dict[str, Any]]) -> Any:
        if type(value) is not int:
            return error(errors, "int_type", loc, "Input should be a valid integer")
        if self.ge is not None and value < self.ge:
            return error(
                errors, "greater_than_equal", loc, f"Input should be greater than or equal to {self.ge}"
            )
        if self.le is not None and value > self.le:
            return error(errors, "less_than_equal", loc, f"Input should be less than or equal to {self.le}")
        return value


class Bool(Node):
    tag = "bool"

    def validate(self, value: Any, loc: tuple[Any, ...], errors: list[dict[str, Any]]) -> Any:
        if type(value) is not bool:
            return error(errors, "bool_type", loc, "Input should be a valid boolean")
        return value


class LiteralOf(Node):
    def __init__(self, values: tuple[Any, ...]) -> None:
        self.values = values
        self.tag = "literal[" + ",".join(repr(v) for v in values) + "]"
        shown = [repr(v) for v in values]
        self.expected = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"

    def validate(self, value: Any, loc: tuple[Any, ...], errors: list[dict[str, Any]]) -> Any:
        if type(value) is str and _has_surrogate(value) and any(type(v) is str for v in self.values):
            return _unicode_error(errors, loc)
        for allowed in self.values:
            if type(value) is type(allowed) and value == allowed:
                return value
        return error(errors, "literal_error", loc, f"Input should be {self.expected}")


class Nullable(Node):
    def __init__(self, inner: Node) -> None:
        self.inner = inner
        self.tag = f"nullable[{inner.tag}]"

    def validate(self, value: Any, loc: tuple[Any, ...], errors: list[dict[str, Any]]) -> Any:
        return None if value is None else self.inner.validate(value, loc, errors)

    def dump(self, value: Any) -> Any:
        return None if value is None else self.inner.dump(value)


class UnionOf(Node):
    def __init__(self, members: list[Node]) -> None:
        self.members = members
        self.tag = "union[" + ",".join(m.tag for m in members) + "]"

    def validate(self, value: Any, loc: tuple[Any, ...], errors: list[dict[str, Any]]) -> Any:
        # Strict smart mode: the members are told apart by their fields or values, so at most
        # one accepts; when none does, each member's errors, under the member's tag.
        collected: list[dict[str, Any]] = []
        for member in self.members:
            member_errors: list[dict[str, Any]] = []
            result = member.validate(value, (*loc, member.tag), member_errors)
            if not member_errors:
                return result
            collected.extend(member_errors)
        errors.extend(collected)
        return MISSING

    def dump(self, value: Any) -> Any:
        return _dump_any(value)


class ListOf(Node):
    tag = "list"

    def __init__(self, item: Node, info: FieldInfo) -> None:
        self.item = item
        self.min_length = info.get("min_length")
        self.max_length = info.get("max_length")
        self.tag = f"list[{item.tag}]"

    def validate(self, value: Any, loc: tuple[Any, ...], errors: list[dict[str, Any]]) -> Any:
        if type(value) is not list:
            return error(errors, "list_type", loc, "Input should be a valid list")
        if self.max_length is not None and len(value) > self.max_length:
            return error(
                errors,
                "too_long",
                loc,
                f"List should have at most {_plural(self.max_length, 'item')} after validation, not {len(value)}",
            )
        before = len(errors)
        items = [self.item.validate(v, (*loc, i), errors) for i, v in enumerate(value)]
        if len(errors) > before:
            return MISSING
        if self.min_length is not None and len(items) < self.min_length:
            return error(
                errors,
                "too_short",
                loc,
                f"List should have at least {_plural(self.min_length, 'item')} after validation, not {len(items)}",
            )
        return items

    def dump(self, value: Any) -> Any:
        return [self.item.dump(v) for v in value]


class DictOf(Node):
    tag = "dict"

    def validate(self, value: Any, loc: tuple[Any, ...], errors: list[dict[str, Any]]) -> Any:
        raise TypeError("dict fields are for responses only")


class ModelOf(Node):
    def __init__(self, cls: type[BaseModel]) -> None:
        self.cls = cls
        self.tag = cls.__name__

    def validate(self, value: Any, loc: tuple[Any, ...], errors: list[dict[str, Any]]) -> Any:
        return validate_model(self.cls, value, loc, errors)

    def dump(self, value: Any) -> Any:
        # The declared model's fields, as pydantic dumps a subclass instance in a field typed
        # with its base class.
        return dump_model(value, self.cls)


class Before(Node):
    def __init__(self, func: Callable[[Any], Any], inner: Node) -> None:
        self.func = func
        self.inner = inner
        self.tag = inner.tag

    def validate(self, value: Any, loc: tuple[Any, ...], errors: list[dict[str, Any]]) -> Any:
        return self.inner.validate(self.func(value), loc, errors)


class ResponseOnly(Node):
    """A response-only type (datetime, an enum, Any): dumped, never validated from JSON."""

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def validate(self, value: Any, loc: tuple[Any, ...], errors: list[dict[str, Any]]) -> Any:
        raise TypeError(f"{self.tag} fields are for responses only")


# What Field() may say here: the constraints validated above, and what only documents.
_SUPPORTED_FIELD_ARGUMENTS = {
    "min_length",
    "max_length",
    "pattern",
    "ge",
    "le",
    "description",
    "examples",
    "alias",
    "serialization_alias",
    "title",
    "json_schema_extra",
}


def refuse_unsupported(info: FieldInfo) -> None:
    """The document would promise what validation does not do (gt, discriminator, ...)."""
    unsupported = set(info.kwargs) - _SUPPORTED_FIELD_ARGUMENTS
    if unsupported:
        raise TypeError(f"Field arguments {sorted(unsupported)} are not supported by fincert.api.schema")


def field_node(hint: Any, info: FieldInfo) -> tuple[Node, FieldInfo]:
    """The compiled type of a field, and its FieldInfo with Annotated's constraints merged in."""
    befores: list[Callable[[Any], Any]] = []
    if typing.get_origin(hint) is typing.Annotated:
        base, *extras = typing.get_args(hint)
        merged = dict(info.kwargs)
        for extra in extras:
            if isinstance(extra, FieldInfo):
                merged = {**extra.kwargs, **merged}
            elif isinstance(extra, BeforeValidator):
                befores.append(extra.func)
        info = FieldInfo(info.default, **merged)
        hint = base
    refuse_unsupported(info)
    node = type_node(hint, info)
    for func in reversed(befores):
        node = Before(func, node)
    return node, info


_EMPTY = FieldInfo()


def type_node(hint: Any, info: FieldInfo) -> Node:
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        return field_node(hint, info)[0]
    if origin in (Union, types.UnionType):
        args = typing.get_args(hint)
        non_null = [a for a in args if not _is_none(a)]
        inner = (
            type_node(non_null[0], info)
            if len(non_null) == 1
            else UnionOf([type_node(a, _EMPTY) for a in non_null])
        )
        return Nullable(inner) if len(non_null) < len(args) else inner
    if origin is Literal:
        return LiteralOf(typing.get_args(hint))
    if origin is list:
        (item,) = typing.get_args(hint)
        return ListOf(type_node(item, _EMPTY), info)
    if origin is dict:
        return DictOf()
    if hint is str:
        return Str(info)
    if hint is bool:
        return Bool()
    if hint is int:
        return Int(info)
    if isinstance(hint, type) and issubclass(hint, BaseModel):
        return ModelOf(hint)
    if hint is datetime:
        return ResponseOnly("datetime")
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return ResponseOnly("enum")
    if hint is Any:
        return ResponseOnly("any")
    raise TypeError(f"unsupported field type {hint!r}")


def _is_none(hint: Any) -> bool:
    if hint is type(None) or hint is None:
        return True
    if typing.get_origin(hint) is typing.Annotated:
        return _is_none(typing.get_args(hint)[0])
    return False


# --- validation -------------------------------------------------------------------------------


def validate_model(
    cls: type[BaseModel], value: Any, loc: tuple[Any, ...], errors: list[dict[str, Any]]
) -> Any:
    """The model from a parsed JSON value, or MISSING with pydantic's errors appended."""
    if isinstance(value, cls):
        return value
    if type(value) is not dict:
        # Powertools validates with from_attributes=True, which words a refused non-object so.
        return error(
            errors,
            "model_attributes_type",
            loc,
            "Input should be a valid dictionary or object to extract fields from",
        )
    settings = config(cls)
    if settings.get("extra") == "forbid" and any(_has_surrogate(key) for key in value):
        # To tell extra keys apart pydantic reads every key as a Rust string first: the whole
        # object is refused (a model that ignores extras never reads them).
        return _unicode_error(errors, loc)
    if not settings.get("strict"):
        # pydantic's lax mode coerces ("1" -> 1, 1 -> True); request bodies never do (a client
        # bug is refused, not guessed at), and this module only knows strict mode.
        raise TypeError(f"{cls.__name__} is not strict: only strict models validate requests")
    by_name = settings.get("populate_by_name", False)
    before = len(errors)
    values: dict[str, Any] = {}
    used: set[str] = set()
    for name, field in model_fields(cls).items():
        key = field.alias if field.alias in value else (name if by_name and name in value else None)
        if key is None:
            if field.default is MISSING:
                error(errors, "missing", (*loc, field.alias), "Field required")
            else:
                values[name] = copy.deepcopy(field.default)
            continue
        used.add(key)
        values[name] = field.node.validate(value[key], (*loc, field.alias), errors)
    if settings.get("extra") == "forbid":
        for key in value:
            if key not in used:
                error(errors, "extra_forbidden", (*loc, key), "Extra inputs are not permitted")
    if len(errors) > before:
        return MISSING
    instance = object.__new__(cls)
    for name, item in values.items():
        object.__setattr__(instance, name, item)
    return instance


def parse(cls: type[BaseModel], value: Any, loc: tuple[Any, ...] = ()) -> tuple[Any, list[dict[str, Any]]]:
    errors: list[dict[str, Any]] = []
    result = validate_model(cls, value, loc, errors)
    return (None if errors else result), errors


# --- serialisation (what Powertools' jsonable_encoder makes of a pydantic model) --------------


def dump_model(instance: BaseModel, declared: type[BaseModel] | None = None) -> dict[str, Any]:
    cls = declared or type(instance)
    omit_none = config(cls).get("omit_none", False)
    out: dict[str, Any] = {}
    for name, field in model_fields(cls).items():
        value = getattr(instance, name)
        if value is None and omit_none:
            continue
        out[field.serialization_alias] = field.node.dump(value)
    return out


def _dump_any(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return dump_model(value)
    if isinstance(value, enum.Enum):
        return _dump_any(value.value)
    if isinstance(value, datetime):
        return dump_datetime(value)
    if isinstance(value, dict):
        return {k: _dump_any(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_dump_any(v) for v in value]
    return value


def dump_datetime(value: datetime) -> str:
    """pydantic's JSON form: ISO 8601, `Z` for UTC, microseconds only when there are some."""
    text = value.isoformat()
    if value.tzinfo is not None and value.utcoffset() == UTC.utcoffset(None):
        text = text.removesuffix("+00:00") + "Z"
    return text


def dump(value: Any) -> Any:
    """Any handler result (a model, a list of models, a dict) as JSON-ready values."""
    return _dump_any(value)
