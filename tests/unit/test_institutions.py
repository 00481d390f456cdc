"""Member institutions and their API keys (fincert.domain.institutions) with the DynamoDB store on
moto."""

from __future__ import annotations

import hashlib

import pytest
from fincert.domain.institution_records import Institution, Principal, Scope
from fincert.domain.institutions import (
    authenticate_api_key,
    register_institution,
    require_scope,
)
from fincert.domain.tokens import secret_hash
from fincert.errors import Conflict, Forbidden, InvalidRequest, Unauthenticated

SECRET_43 = "A" * 43


def test_register_returns_a_key_that_authenticates_as_the_institution(store):
    institution, api_key = register_institution(
        store, "demo-bank", "Demo Bank", ["enroll"], ["https://bank.example"]
    )
    principal = authenticate_api_key(store, api_key)
    assert principal == Principal(institution_id="demo-bank", scopes=frozenset({"enroll"}))
    assert institution.allowed_origins == ("https://bank.example",)
    assert store.get_institution("demo-bank") == institution


def test_api_key_has_the_documented_shape(store):
    _, api_key = register_institution(store, "demo-bank", "Demo Bank", ["enroll"])
    prefix, institution_id, secret = api_key.split("_", 2)
    assert (prefix, institution_id) == ("fck", "demo-bank")
    assert len(secret) == 43  # 256 random bits, base64url


def test_only_a_hash_of_the_key_is_stored(store):
    _, api_key = register_institution(store, "demo-bank", "Demo Bank", ["enroll"])
    secret = api_key.split("_", 2)[2]
    stored = store.get_institution("demo-bank")
    assert stored.api_key_hash == "sha256:" + hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in stored.api_key_hash
    assert api_key not in stored.api_key_hash


def test_every_registration_gets_its_own_secret(store):
    _, first = register_institution(store, "bank-one", "One", ["enroll"])
    _, second = register_institution(store, "bank-two", "Two", ["enroll"])
    assert first.split("_", 2)[2] != second.split("_", 2)[2]


def test_wrong_secret_is_unauthenticated(store):
    _, api_key = register_institution(store, "demo-bank", "Demo Bank", ["enroll"])
    secret = api_key.split("_", 2)[2]
    tampered = secret[:-1] + ("B" if secret[-1] != "B" else "C")
    with pytest.raises(Unauthenticated):
        authenticate_api_key(store, f"fck_demo-bank_{tampered}")


def test_a_key_presented_under_another_institutions_id_is_unauthenticated(store):
    _, api_key = register_institution(store, "demo-bank", "Demo Bank", ["enroll"])
    register_institution(store, "other-bank", "Other Bank", ["enroll"])
    secret = api_key.split("_", 2)[2]
    with pytest.raises(Unauthenticated):
        authenticate_api_key(store, f"fck_other-bank_{secret}")


def test_a_key_of_an_unknown_institution_is_unauthenticated(store):
    _, api_key = register_institution(store, "demo-bank", "Demo Bank", ["enroll"])
    secret = api_key.split("_", 2)[2]
    with pytest.raises(Unauthenticated):
        authenticate_api_key(store, f"fck_no-such-bank_{secret}")


@pytest.mark.parametrize(
    "api_key",
    [
        "",
        "fck",
        "fck__" + SECRET_43,
        "fck_demo-bank_",
        "fck_demo-bank_" + SECRET_43[:-1],  # one character short
        "fck_demo-bank_" + SECRET_43 + "A",  # one character long
        "fck_demo-bank_" + SECRET_43[:-1] + "=",  # padding is not base64url output
        " fck_demo-bank_" + SECRET_43,
        "Bearer fck_demo-bank_" + SECRET_43,
        "xyz_demo-bank_" + SECRET_43,
        "FCK_demo-bank_" + SECRET_43,
        "fck_Demo-Bank_" + SECRET_43,
        "fck_demo.bank_" + SECRET_43,
        "fck_ab_" + SECRET_43,  # institution ids have at least 3 characters
        "fck_" + "a" * 33 + "_" + SECRET_43,  # and at most 32
        "fck_demo-bank_" + "가" * 43,
    ],
)
def test_malformed_keys_are_unauthenticated_without_a_lookup(store, dynamodb, api_key):
    register_institution(store, "demo-bank", "Demo Bank", ["enroll"])
    dynamodb.calls.clear()
    with pytest.raises(Unauthenticated) as refused:
        authenticate_api_key(store, api_key)
    assert refused.value.code == "unauthorized"
    assert dynamodb.calls == []


def test_a_valid_key_with_a_trailing_newline_is_unauthenticated(store):
    # A malformed key: `$` in a Python regex also matches before a final newline.
    _, api_key = register_institution(store, "demo-bank", "Demo Bank", ["enroll"])
    with pytest.raises(Unauthenticated):
        authenticate_api_key(store, api_key + "\n")


def test_an_inactive_institution_is_unauthenticated(store):
    secret = "s3cret-with_dashes-and_underscores-00000000"
    assert len(secret) == 43
    store.put_institution(
        Institution(
            institution_id="closed-bank",
            name="Closed Bank",
            api_key_hash=secret_hash(secret),
            scopes=frozenset({"enroll"}),
            active=False,
        )
    )
    with pytest.raises(Unauthenticated):
        authenticate_api_key(store, f"fck_closed-bank_{secret}")


def test_secrets_starting_with_an_underscore_or_dash_still_parse(store):
    for institution_id, secret in (("bank-a", "_" + "x" * 42), ("bank-b", "-" + "y" * 42)):
        store.put_institution(
            Institution(
                institution_id=institution_id,
                name=institution_id,
                api_key_hash=secret_hash(secret),
                scopes=frozenset({"enroll"}),
            )
        )
        principal = authenticate_api_key(store, f"fck_{institution_id}_{secret}")
        assert principal.institution_id == institution_id


def test_duplicate_registration_is_a_conflict_and_keeps_the_first_key(store):
    first, api_key = register_institution(store, "demo-bank", "Demo Bank", ["enroll"])
    with pytest.raises(Conflict) as refused:
        register_institution(store, "demo-bank", "Impostor Bank", [])
    assert refused.value.code == "institution_exists"
    assert store.get_institution("demo-bank") == first
    assert authenticate_api_key(store, api_key).institution_id == "demo-bank"


@pytest.mark.parametrize(
    "institution_id",
    ["", "ab", "a" * 33, "-bank", "bank-", "Bank", "bank_1", "bank.1", "bank 1", "은행", "bank\n"],
)
def test_invalid_institution_ids_are_refused_before_any_write(store, dynamodb, institution_id):
    with pytest.raises(InvalidRequest) as refused:
        register_institution(store, institution_id, "Bank", ["enroll"])
    assert refused.value.code == "institution_id_invalid"
    assert dynamodb.calls == []


@pytest.mark.parametrize("institution_id", ["abc", "a" * 32, "bank-1", "0-0"])
def test_boundary_institution_ids_are_accepted(store, institution_id):
    _, api_key = register_institution(store, institution_id, "Bank", ["enroll"])
    assert authenticate_api_key(store, api_key).institution_id == institution_id


def test_scopes_are_carried_to_the_principal(store):
    _, api_key = register_institution(store, "view-bank", "View Bank", [])
    principal = authenticate_api_key(store, api_key)
    assert principal.scopes == frozenset()
    with pytest.raises(Forbidden):
        require_scope(principal, Scope.ENROLL)


def test_require_scope_allows_a_granted_scope():
    require_scope(Principal("demo-bank", frozenset({Scope.ENROLL.value})), Scope.ENROLL)


def test_require_scope_refuses_a_missing_scope_with_forbidden():
    with pytest.raises(Forbidden) as refused:
        require_scope(Principal("demo-bank", frozenset({"other"})), Scope.ENROLL)
    assert refused.value.code == "scope_missing"


def test_a_rotated_out_key_works_until_its_grace_period_ends_and_not_at_that_instant(store):
    from datetime import UTC, datetime, timedelta

    from fincert.domain.institutions import rotate_api_key

    _, old_key = register_institution(store, "demo-bank", "Demo Bank", ["enroll"])
    now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    _, new_key = rotate_api_key(store, "demo-bank", now, timedelta(hours=1))
    assert authenticate_api_key(store, new_key, now).institution_id == "demo-bank"
    assert authenticate_api_key(store, old_key, now + timedelta(minutes=59)).institution_id == "demo-bank"
    with pytest.raises(Unauthenticated):
        authenticate_api_key(store, old_key, now + timedelta(hours=1))
    with pytest.raises(Unauthenticated):
        authenticate_api_key(store, old_key)  # without the time, only the current key


def test_a_deactivated_institutions_key_is_unauthenticated_until_reactivated(store):
    from fincert.domain.institutions import set_active

    _, api_key = register_institution(store, "demo-bank", "Demo Bank", ["enroll"])
    assert set_active(store, "demo-bank", False).active is False
    with pytest.raises(Unauthenticated):
        authenticate_api_key(store, api_key)
    set_active(store, "demo-bank", True)
    assert authenticate_api_key(store, api_key).institution_id == "demo-bank"
