"""CORS: a customer's browser may call the customer routes straight from the institution's
registered origins, and only from those; the session's institution decides, not the origin."""

from __future__ import annotations

import pytest
from fincert.domain.institutions import register_institution

from tests.support import log_safety
from tests.support.customers import Customer, connected
from tests.support.in_process import Api
from tests.support.people import CUSTOMER

WEB_BANK_ORIGIN = "https://www.web-bank.example"


@pytest.fixture
def web_bank(svc, ca, gateway) -> Api:
    _, api_key = register_institution(
        svc.store, "web-bank", "Web Bank", ["enroll", "connect"], [WEB_BANK_ORIGIN]
    )
    log_safety.remember_secret(api_key)
    return Api(gateway, api_key)


def preflight(api: Api, path: str, origin: str):
    headers = {"Origin": origin, "Access-Control-Request-Method": "POST"}
    return api.request("OPTIONS", path, api_key="", headers=headers)


def test_preflight_allows_registered_origins_only(web_bank):
    allowed = preflight(web_bank, "/csc/v1/credentials/authorize", WEB_BANK_ORIGIN)
    assert allowed.status == 204
    assert allowed.header("Access-Control-Allow-Origin") == WEB_BANK_ORIGIN
    assert "Authorization" in allowed.header("Access-Control-Allow-Headers")
    refused = preflight(web_bank, "/csc/v1/credentials/authorize", "https://evil.example")
    assert refused.status == 403
    assert refused.header("Access-Control-Allow-Origin") is None


def test_responses_carry_cors_headers_only_for_the_sessions_institution(web_bank, api):
    customer = Customer(web_bank, CUSTOMER)
    customer.issue()
    customer.connect()
    mine = customer.call("GET", "/v1/history", headers={"Origin": WEB_BANK_ORIGIN})
    assert mine.status == 200
    assert mine.header("Access-Control-Allow-Origin") == WEB_BANK_ORIGIN
    foreign = customer.call("GET", "/v1/history", headers={"Origin": "https://evil.example"})
    assert foreign.header("Access-Control-Allow-Origin") is None
    # A session of another institution does not get web-bank's origin, though it is registered.
    other = connected(api, {"name": "이영희", "phone": "010-2222-3333", "birth_date": "19791231"})
    elsewhere = other.call("GET", "/v1/history", headers={"Origin": WEB_BANK_ORIGIN})
    assert elsewhere.status == 200
    assert elsewhere.header("Access-Control-Allow-Origin") is None


def test_institutions_register_only_well_formed_origins(svc, ca):
    from fincert.errors import InvalidRequest

    for origin in ["https://bank.example/path", "*", "https://BANK.example", "javascript:alert(1)"]:
        with pytest.raises(InvalidRequest):
            register_institution(svc.store, "odd-bank", "Odd", ["connect"], [origin])
    assert svc.store.get_institution("odd-bank") is None


def test_a_deactivated_institutions_origins_fail_preflight_like_unknown_ones(web_bank, svc):
    from fincert.domain.institutions import set_active

    path = "/csc/v1/credentials/authorize"
    set_active(svc.store, "web-bank", False)
    refused = preflight(web_bank, path, WEB_BANK_ORIGIN)
    unknown = preflight(web_bank, path, "https://evil.example")
    assert refused.status == 403
    assert (refused.status, refused.json()) == (unknown.status, unknown.json())
    assert refused.header("Access-Control-Allow-Origin") is None

    # An origin another, active institution also registered still passes: its customers call.
    _, other_key = register_institution(svc.store, "card-bank", "Card Bank", ["connect"], [WEB_BANK_ORIGIN])
    log_safety.remember_secret(other_key)
    assert preflight(web_bank, path, WEB_BANK_ORIGIN).status == 204
    set_active(svc.store, "card-bank", False)
    assert preflight(web_bank, path, WEB_BANK_ORIGIN).status == 403

    set_active(svc.store, "web-bank", True)
    allowed = preflight(web_bank, path, WEB_BANK_ORIGIN)
    assert allowed.status == 204 and allowed.header("Access-Control-Allow-Origin") == WEB_BANK_ORIGIN


def test_an_origin_item_left_without_institutions_fails_preflight(web_bank, svc):
    """remove-origin deletes the origin's item in a second step; until then it names no one."""
    from fincert.adapters.dynamodb import keys

    from tests.support.table import Table, typed_key

    orphan = "https://left.example"
    table = Table.in_process(svc)
    table.client.put_item(TableName=table.name, Item=typed_key(keys.origin(orphan)))
    refused = preflight(web_bank, "/v1/history", orphan)
    assert refused.status == 403 and refused.header("Access-Control-Allow-Origin") is None


def test_an_origin_shared_by_more_institutions_than_one_batch_read_passes_for_its_active_one(web_bank, svc):
    """The origin's institutions are read in batches of 100 (BatchGetItem's limit): the active
    one passes the preflight wherever it sorts among the ids the origin names."""
    from fincert.adapters.dynamodb import keys

    from tests.support.table import Table, typed_key

    shared = "https://shared.example"
    _, key = register_institution(svc.store, "zz-last-bank", "Last Bank", ["connect"], [shared])
    log_safety.remember_secret(key)
    table = Table.in_process(svc)
    # 120 ids of institutions that no longer exist, all sorting before the active one.
    gone = {f"aa-gone-{n:03d}" for n in range(120)}
    table.client.update_item(
        TableName=table.name,
        Key=typed_key(keys.origin(shared)),
        UpdateExpression="ADD institutions :gone",
        ExpressionAttributeValues={":gone": {"SS": sorted(gone)}},
    )
    allowed = preflight(web_bank, "/v1/history", shared)
    assert allowed.status == 204 and allowed.header("Access-Control-Allow-Origin") == shared
