"""fincert.api.schema validates and serialises as pydantic does, model by model.

The API functions no longer import pydantic at run time (issue 12, cold start); the answers to bad
requests must stay exactly as pydantic gave them. Every request model is held here to the
pydantic model fincert.api.openapi_build makes of it (the one that generates the OpenAPI
document): for generated inputs, valid and broken in every way the model's types allow, both
must accept the same values and refuse with the same errors (type, loc, msg, in order). Every
response model is held to pydantic's JSON dump. pydantic is the independent judge here; the
routes' answers as a whole are held by tests/unit/test_request_answers_golden.py."""

from __future__ import annotations

import enum
import importlib
import json
import pkgutil
import typing
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import fincert.api
import pydantic
import pytest
from fincert.api import schema, schema_types
from fincert.api.openapi_build import pydantic_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def _all_models() -> list[type[schema.BaseModel]]:
    for module in pkgutil.iter_modules(fincert.api.__path__):
        if module.name.endswith("models"):
            importlib.import_module(f"fincert.api.{module.name}")
    found: list[type[schema.BaseModel]] = []
    pending = list(schema.BaseModel.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted({c for c in found if c.__module__.startswith("fincert.api")}, key=lambda c: c.__qualname__)


def _validatable(node: schema_types.Node) -> bool:
    if isinstance(node, (schema_types.ResponseOnly, schema_types.DictOf)):
        return False
    if isinstance(node, schema_types.ModelOf):
        return all(_validatable(f.node) for f in schema_types.model_fields(node.cls).values())
    inner = [getattr(node, a) for a in ("inner", "item") if hasattr(node, a)]
    inner += getattr(node, "members", [])
    return all(_validatable(n) for n in inner)


MODELS = _all_models()
# Request bodies are strict (no coercion); schema validates strict models only.
REQUEST_MODELS = [
    m for m in MODELS if schema.config(m).get("strict") and _validatable(schema_types.ModelOf(m))
]
RESPONSE_MODELS = [m for m in MODELS if m not in REQUEST_MODELS]


def test_every_request_body_of_every_route_is_compared_here() -> None:
    from tests.support.request_routes import body_models

    assert body_models() <= set(REQUEST_MODELS)
    assert len(REQUEST_MODELS) >= 20


# --- inputs: valid values of a node, and values that break it ---------------------------------

_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=4),
    st.just([]),
    st.just({}),
    st.lists(st.integers(0, 2), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(0, 1), max_size=2),
)


def _strings(node: schema_types.Str) -> st.SearchStrategy[str]:
    low = node.min_length or 0
    high = node.max_length if node.max_length is not None else low + 8
    if node.pattern:
        fitting = st.from_regex(schema_types.rust_dollar(node.pattern), fullmatch=True)
        return st.one_of(fitting, fitting.map(lambda s: s + "\n"), st.text(max_size=high + 2))
    sizes = sorted({max(low - 1, 0), low, min(low + 1, high), high, high + 1})
    # Lone surrogates: a JSON body may escape one (\ud800), which pydantic refuses in some places.
    alphabet = st.sampled_from(["a", "가", "😀", "e\u0301", " ", "\n", "0", "\ud800", "\udc00"])
    # Long limits (32 K characters) are probed by repeating a drawn character.
    return st.one_of(
        *(
            st.lists(alphabet, min_size=n, max_size=n).map("".join)
            if n <= 64
            else alphabet.map(lambda c, n=n: c * n)
            for n in sizes
        ),
        st.text(max_size=min(high + 2, 40)),
    )


def values_of(node: schema_types.Node, depth: int = 0) -> st.SearchStrategy[Any]:
    if isinstance(node, schema_types.Before):
        return st.one_of(values_of(node.inner, depth), st.sampled_from([1.0, 2.0, 1.5, 0.0, 1000.0, 1001.0]))
    if isinstance(node, schema_types.Str):
        return st.one_of(_strings(node), _JUNK)
    if isinstance(node, schema_types.Int):
        bounds = [b for b in (node.ge, node.le) if b is not None]
        edges = [v for b in bounds for v in (b - 1, b, b + 1)]
        return st.one_of(st.sampled_from(edges or [0, 1]), st.integers(-5, 2000), _JUNK)
    if isinstance(node, schema_types.Bool):
        return st.one_of(st.booleans(), _JUNK)
    if isinstance(node, schema_types.LiteralOf):
        near = [v.upper() if isinstance(v, str) else v for v in node.values]
        near += [v + "\ud800" for v in node.values if isinstance(v, str)]
        return st.one_of(st.sampled_from(node.values), st.sampled_from(near), _JUNK)
    if isinstance(node, schema_types.Nullable):
        return st.one_of(st.none(), values_of(node.inner, depth))
    if isinstance(node, schema_types.UnionOf):
        return st.one_of(*(values_of(m, depth) for m in node.members))
    if isinstance(node, schema_types.ListOf):
        high = node.max_length if node.max_length is not None else 3
        return st.one_of(
            st.lists(values_of(node.item, depth + 1), min_size=0, max_size=min(high + 1, 4)),
            _JUNK,
        )
    if isinstance(node, schema_types.ModelOf):
        return bodies_of(node.cls, depth + 1)
    raise AssertionError(f"no inputs for {node!r}")


def bodies_of(cls: type[schema.BaseModel], depth: int = 0) -> st.SearchStrategy[Any]:
    fields = schema_types.model_fields(cls)
    if depth > 3:
        return _JUNK

    @st.composite
    def body(draw: st.DrawFn) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field in fields.values():
            if draw(st.integers(0, 9)) == 0:  # left out: missing, or its default
                continue
            key = field.alias if draw(st.integers(0, 5)) else field.name
            out[key] = draw(values_of(field.node, depth))
        if draw(st.integers(0, 6)) == 0:
            out[draw(st.sampled_from(["extra", "pin", "PIN", "zz", "x\ud800y"]))] = draw(_JUNK)
        return out

    return st.one_of(body(), body(), _JUNK)


def _pydantic_answer(cls: type[schema.BaseModel], value: Any) -> tuple[Any, list[tuple[Any, ...]]]:
    try:
        # As Powertools validates a body: from_attributes=True (fincert.api.schema's docstring).
        validated = pydantic_model(cls).model_validate(value, from_attributes=True)
    except pydantic.ValidationError as e:
        return None, [(err["type"], tuple(err["loc"]), err["msg"]) for err in e.errors()]
    return validated.model_dump(), []


def _our_answer(cls: type[schema.BaseModel], value: Any) -> tuple[Any, list[tuple[Any, ...]]]:
    parsed, errors = schema_types.parse(cls, value)
    if errors:
        return None, [(err["type"], tuple(err["loc"]), err["msg"]) for err in errors]
    return _plain(parsed), []


def _plain(value: Any) -> Any:
    if isinstance(value, schema.BaseModel):
        return {k: _plain(v) for k, v in value.model_dump().items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@pytest.mark.parametrize("cls", REQUEST_MODELS, ids=lambda c: c.__name__)
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
@given(data=st.data())
def test_request_model_validates_as_pydantic_does(cls: type[schema.BaseModel], data: st.DataObject) -> None:
    value = data.draw(bodies_of(cls))
    assert _our_answer(cls, value) == _pydantic_answer(cls, value), value


# --- responses --------------------------------------------------------------------------------


def _response_values(node: schema_types.Node, depth: int = 0) -> st.SearchStrategy[Any]:
    if isinstance(node, schema_types.ResponseOnly):
        if node.tag == "datetime":
            return (
                st.datetimes(
                    min_value=datetime(2000, 1, 1),
                    max_value=datetime(2100, 1, 1),
                    timezones=st.sampled_from([UTC, timezone(timedelta(hours=9))]) | st.none(),
                )
                | st.just(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
                | st.just(datetime(2026, 11, 30, 9, 0, tzinfo=UTC) + timedelta(microseconds=5))
            )
        return st.just(None)  # replaced per field below
    if isinstance(node, schema_types.DictOf):
        return st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=3)
    if isinstance(node, schema_types.Str):
        return st.text(max_size=6)
    if isinstance(node, schema_types.Int):
        return st.integers(-10, 10_000)
    if isinstance(node, schema_types.Bool):
        return st.booleans()
    if isinstance(node, schema_types.LiteralOf):
        return st.sampled_from(node.values)
    if isinstance(node, schema_types.Nullable):
        return st.none() | _response_values(node.inner, depth)
    if isinstance(node, schema_types.UnionOf):
        return st.one_of(*(_response_values(m, depth) for m in node.members))
    if isinstance(node, schema_types.ListOf):
        return st.lists(_response_values(node.item, depth + 1), max_size=2)
    if isinstance(node, schema_types.ModelOf):
        return responses_of(node.cls, depth + 1)
    if isinstance(node, schema_types.Before):
        return _response_values(node.inner, depth)
    raise AssertionError(f"no values for {node!r}")


def responses_of(cls: type[schema.BaseModel], depth: int = 0) -> st.SearchStrategy[schema.BaseModel]:
    hints = typing.get_type_hints(cls)

    @st.composite
    def build(draw: st.DrawFn) -> schema.BaseModel:
        values: dict[str, Any] = {}
        for name, field in schema_types.model_fields(cls).items():
            hint = hints[name]
            enum_type = next(
                (
                    a
                    for a in (hint, *typing.get_args(hint))
                    if isinstance(a, type) and issubclass(a, enum.Enum)
                ),
                None,
            )
            if enum_type is not None:
                values[name] = draw(st.sampled_from(list(enum_type)))
            elif isinstance(field.node, schema_types.ResponseOnly) and field.node.tag == "any":
                values[name] = draw(st.dictionaries(st.text(max_size=3), st.integers(0, 3), max_size=2))
            else:
                values[name] = draw(_response_values(field.node, depth))
        return cls(**values)

    return build()


@pytest.mark.parametrize("cls", RESPONSE_MODELS, ids=lambda c: c.__name__)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_response_model_dumps_as_pydantic_does(cls: type[schema.BaseModel], data: st.DataObject) -> None:
    instance = data.draw(responses_of(cls))
    twin = pydantic_model(cls).model_validate(_plain(instance), strict=False)
    # Bytes, as the answer is sent: key order, 300 vs 300.0, aliases, left-out fields.
    ours = json.dumps(schema_types.dump_model(instance, cls), separators=(",", ":"))
    assert ours == json.dumps(twin.model_dump(mode="json", by_alias=True), separators=(",", ":"))


# --- query-string integers (lax: history's `limit`) --------------------------------------------


@st.composite
def _integer_texts(draw: st.DrawFn) -> str:
    space = st.sampled_from(["", " ", "\t", "\n", "\x1c", "\x1f", "\x85", "\u3000", "\u2028"])
    sign = draw(st.sampled_from(["", "", "+", "-"]))
    zeros = "0" * draw(st.sampled_from([0, 0, 1, 10, 4299, 4301]))
    length = draw(st.sampled_from([1, 2, 18, 19, 20, 4298, 4299, 4300, 4301]))
    digits = draw(st.sampled_from("123456789")) + "9" * (length - 1)
    if draw(st.booleans()):
        cut = draw(st.integers(1, len(digits)))
        digits = digits[:cut] + draw(st.sampled_from(["_", "__", ""])) + digits[cut:]
    fraction = draw(st.sampled_from(["", "", ".0", ".00", ".5", "."]))
    text = draw(space) + sign + zeros + digits + fraction + draw(space)
    return draw(st.sampled_from([text, text[: draw(st.integers(0, 6))], "abc", "1e2", "٣"]))


@settings(max_examples=600, deadline=None)
@given(text=_integer_texts(), bounded=st.booleans())
def test_query_integers_parse_as_pydantic_parses_them(text: str, bounded: bool) -> None:
    from typing import Annotated

    from fincert.api.routing import _lax

    constraints = {"ge": 1, "le": 100} if bounded else {}
    ours_node = _lax(schema_types.type_node(int, schema.FieldInfo(**constraints)))
    errors: list[dict[str, Any]] = []
    value = ours_node.validate(text, ("query", "limit"), errors)
    ours = (None, [(e["type"], e["msg"]) for e in errors]) if errors else (value, [])
    adapter = pydantic.TypeAdapter(Annotated[int, pydantic.Field(**constraints)])
    try:
        theirs: tuple[Any, list[tuple[str, str]]] = (adapter.validate_python(text), [])
    except pydantic.ValidationError as e:
        theirs = (None, [(err["type"], err["msg"]) for err in e.errors()])
    assert ours == theirs, f"{text[:12]!r}...{text[-12:]!r} ({len(text)} characters)"
