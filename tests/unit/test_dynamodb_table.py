"""The table's attribute (de)serialisation and time formats take shortcuts for speed (CPU per
signature, docs/design.md#other-budgets); they must give exactly what boto3's TypeSerializer /
TypeDeserializer and strptime give."""

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from fincert.adapters.dynamodb.table import (
    attribute_values,
    deserialize,
    dump_item,
    from_iso,
    iso,
    load_item,
    serialize,
)


class _Status(StrEnum):
    ACTIVE = "active"


VALUES = [
    "",
    "acct_abc",
    "홍길동",
    True,
    False,
    0,
    1,
    -1,
    2**31,
    10**38 - 1,
    -(10**38) + 1,
    Decimal("1.5"),
    Decimal("12345678901234567890"),
    b"",
    b"\x00\xff key",
    bytearray(b"abc"),
    Binary(b"bin"),
    {"a", "b"},
    frozenset({"x", "y", "z"}),
    set(),
    {"a", _Status.ACTIVE},
    {1, 2},
    {b"x", b"y"},
    ["a", 1, True, None, {"k": "v"}],
    {"k": "v", "n": 3, "nested": {"b": False}},
    None,
    _Status.ACTIVE,
]


def _id(value: object) -> str:
    """repr, but the same in every process (pytest-xdist's workers must collect the same test
    ids): a set's members sorted, and no memory address."""
    if isinstance(value, set | frozenset):
        members = ", ".join(sorted(map(repr, value)))
        return f"{type(value).__name__}({{{members}}})" if value else f"{type(value).__name__}()"
    if type(value) is object:
        return "object()"
    return repr(value)


@pytest.mark.parametrize("value", VALUES, ids=_id)
def test_serialize_is_boto3s(value):
    assert serialize(value) == TypeSerializer().serialize(value)
    assert type(serialize(value)) is type(TypeSerializer().serialize(value))


@pytest.mark.parametrize("value", [10**38, -(10**38), 1.5, object()], ids=_id)
def test_what_boto3_refuses_is_refused_alike(value):
    with pytest.raises(Exception) as expected:
        TypeSerializer().serialize(value)
    with pytest.raises(expected.type):
        serialize(value)


@pytest.mark.parametrize("value", [v for v in VALUES], ids=_id)
def test_deserialize_is_boto3s(value):
    wire = TypeSerializer().serialize(value)
    assert deserialize(wire) == TypeDeserializer().deserialize(wire)
    assert type(deserialize(wire)) is type(TypeDeserializer().deserialize(wire))


def test_items_and_values_round_trip():
    item = {"pk": "ACCT#a", "sk": "CRED#c", "n": 5, "on": True, "gone": None, "key": b"k", "set": {"x"}}
    dumped = dump_item(item)
    assert "gone" not in dumped
    assert dumped == {k: TypeSerializer().serialize(v) for k, v in item.items() if v is not None}
    assert load_item(dumped) == {k: TypeDeserializer().deserialize(v) for k, v in dumped.items()}
    assert attribute_values({":n": 1, ":s": "x"}) == {":n": {"N": "1"}, ":s": {"S": "x"}}


@pytest.mark.parametrize(
    "text",
    ["2026-11-29T23:00:00Z", "2000-02-29T00:00:00Z", "1999-12-31T23:59:59Z", "2026-1-5T1:2:3Z"],
)
def test_from_iso_is_strptimes(text):
    expected = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert from_iso(text) == expected and from_iso(text).tzinfo is UTC


@pytest.mark.parametrize(
    "text", ["2026-02-30T00:00:00Z", "2026-11-29T24:00:00Z", "2026-11-29 23:00:00Z", "2026-11-29T23:00:00"]
)
def test_from_iso_refuses_what_strptime_refuses(text):
    with pytest.raises(ValueError):
        datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    with pytest.raises(ValueError):
        from_iso(text)


def test_from_iso_reads_what_iso_writes():
    moment = datetime(2026, 11, 29, 23, 0, 1, tzinfo=UTC)
    assert from_iso(iso(moment)) == moment
