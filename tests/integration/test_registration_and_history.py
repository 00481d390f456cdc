"""Other-institution registration (타기관 등록) and the customer's usage history: bank B sees and
signs nothing of a customer until that customer registers with B (connected + PIN), and the
history is the customer's own, listed only with their session."""

from __future__ import annotations

from tests.support.customers import Customer, connected
from tests.support.in_process import Api
from tests.support.people import CUSTOMER, other_customer


def at_other_bank(gateway, other_bank) -> Customer:
    customer = Customer(Api(gateway, other_bank["api_key"]), CUSTOMER)
    customer.connect()
    return customer


def test_registration_with_the_pin_makes_the_certificate_usable_at_the_other_bank(api, gateway, other_bank):
    issued_at_a = connected(api)
    at_b = at_other_bank(gateway, other_bank)
    at_b.credential_id = issued_at_a.credential_id
    assert at_b.call("GET", "/v1/history").json()["error"]["code"] == "institution_not_registered"
    assert at_b.sign_contents([{"text": "x"}], ["raw"], "login").status == 403

    wrong = at_b.register_here(pin="975313")
    assert (wrong.status, wrong.json()["error"]["code"]) == (400, "pin_invalid")
    assert at_b.register_here().status == 204
    assert at_b.call("POST", "/csc/v1/credentials/list", {}).json() == {
        "credentialIDs": [issued_at_a.credential_id]
    }
    assert at_b.authorize().status == 200
    events = [e["event"] for e in at_b.call("GET", "/v1/history").json()["entries"]]
    assert "institution_registered" in events
    assert at_b.register_here().status == 204  # again: idempotent


def test_a_customer_with_no_certificate_cannot_register(api):
    # Connections need a certificate in the first place: the confirm says so after the right code.
    stranger = Customer(api, other_customer(9))
    verification_id = stranger.start_connection()
    code = api.last_sms_code(stranger.phone)
    response = api.post(f"/v1/connections/{verification_id}/confirm", {"sms_code": code})
    assert response.json()["error"]["code"] == "certificate_not_found"


def test_history_is_newest_first_and_paginates_without_overlap(api):
    customer = connected(api)
    for _ in range(4):
        assert customer.authorize().status == 200
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        path = "/v1/history?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = customer.call("GET", path).json()
        seen += [f"{e['at']}|{e['event']}" for e in page["entries"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    # Every entry exactly once (no overlap, none skipped). Two authorizations may share a
    # millisecond, so entries are counted by event rather than told apart by time.
    assert sorted(entry.split("|")[1] for entry in seen) == ["authorized"] * 4 + ["connected", "issued"]
    assert seen == sorted(seen, reverse=True)
    assert pages >= 3


def test_history_cursors_cannot_reach_another_customer(api):
    alice = connected(api)
    bob = connected(api, other_customer(4))
    alice.authorize()
    alices_cursor = alice.call("GET", "/v1/history?limit=1").json()["next_cursor"]
    bobs_view = bob.call("GET", f"/v1/history?cursor={alices_cursor}").json()
    assert all(e["institution_id"] for e in bobs_view["entries"])
    assert not any(e["event"] == "authorized" for e in bobs_view["entries"])  # Bob never authorized
    for bad in ["%%%", "QUJD", "x" * 201]:
        response = bob.call("GET", f"/v1/history?cursor={bad}")
        assert response.status in {400, 422}, bad


def test_no_institution_lists_history_on_its_own(api):
    connected(api)
    response = api.get("/v1/history")
    assert (response.status, response.json()["error"]["code"]) == (403, "customer_session_required")


def test_history_holds_no_personal_data(api):
    customer = connected(api)
    customer.authorize()
    text = customer.call("GET", "/v1/history").body.decode()
    for value in ["홍길동", "1234-5678", "19900101", customer.pin]:
        assert value not in text


def test_a_bank_lists_only_what_happened_at_that_bank(api, gateway, other_bank):
    issued_at_a = connected(api)
    at_b = at_other_bank(gateway, other_bank)
    assert at_b.register_here().status == 204
    seen_by_b = at_b.call("GET", "/v1/history?limit=100").json()["entries"]
    assert {e["institution_id"] for e in seen_by_b} == {other_bank["institution_id"]}
    assert "institution_registered" in [e["event"] for e in seen_by_b]
    seen_by_a = [e["event"] for e in issued_at_a.call("GET", "/v1/history?limit=100").json()["entries"]]
    assert "issued" in seen_by_a
    assert "institution_registered" not in seen_by_a
