"""`python -m fincert_local load --mixed`, short: customers doing everything at once for 12 s
against a stack it starts, then the invariants read back from the stored state (issue 11, item 10).

Fails on any 5xx, unanswered request or broken invariant, never on timing."""

import json

from fincert_local import load, mixed


def test_four_customers_mixing_every_operation_break_nothing(tmp_path, capsys):
    out = tmp_path / "mixed.json"

    code = load.main(["--mixed", "--clients", "4", "--seconds", "12", "--seed", "7", "--json", str(out)])

    printed = capsys.readouterr().out
    result = json.loads(out.read_text())
    assert result["errors_5xx"] == 0 and result["transport_errors"] == 0, result["server_errors"]
    assert result["stored_state_checked"]
    assert result["invariants_broken"] == [] and result["violations"] == [], printed
    assert code == 0, printed
    # The mix happened: signatures, refusals while suspended, wrong PINs, restores, devices.
    statuses = result["statuses"]
    assert statuses.get("sign_csc 200", 0) > 0 and statuses.get("wrong_pin 400", 0) > 0, statuses
    assert statuses.get("suspend 200", 0) > 0 and statuses.get("restore 200", 0) > 0, statuses
    assert statuses.get("register_device 201", 0) > 0, statuses
    assert result["latency_ms"]["p99"] >= result["latency_ms"]["p50"] > 0
    assert result["rss_mb"]["before"] and result["rss_mb"]["after"]
    assert "invariants     hold" in printed and result["stop_seconds"] < 10


def _item(pk: str, sk: str, **attributes: dict) -> dict:
    return {"pk": {"S": pk}, "sk": {"S": sk}, **attributes}


def _customer(account_id: str, **model) -> mixed.MixedCustomer:
    customer = mixed.MixedCustomer("", "", "EC_P256", mixed.Tally(), None)  # type: ignore[arg-type]
    customer.account_id, customer.credential_id = account_id, "cred_1"
    for name, value in model.items():
        setattr(customer, name, value)
    return customer


def test_the_stored_state_check_finds_each_broken_invariant():
    account = "ACCT#a1"
    healthy = [
        _item(account, "ACCOUNT", pin_attempts={"N": "3"}, pin_cleared={"N": "1"}),
        _item(account, "CRED#cred_1", status={"S": "active"}),
        _item(account, "HIST#2026-11-30T01:00:00Z#1", event={"S": "signed"}),
        _item(account, "DEVICE#dev_1"),
    ]
    customer = _customer("a1", wrong_pins=2, devices={"dev_1"})
    assert mixed.check_stored_state(healthy, [customer]) == []

    suspend = {"M": {"action": {"S": "suspend"}}}
    broken = [
        _item(account, "ACCOUNT", pin_attempts={"N": "3"}, pin_cleared={"N": "0"}),
        _item(account, "CRED#cred_1", status={"S": "active"}),
        _item(account, "CRED#cred_0", status={"S": "active"}),
        _item(account, "HIST#2026-11-30T01:00:00Z#1", event={"S": "status_changed"}, detail=suspend),
        _item(account, "HIST#2026-11-30T01:00:01Z#2", event={"S": "signed"}),
        *(_item(account, f"DEVICE#dev_{n}") for n in range(6)),
    ]
    found = "\n".join(mixed.check_stored_state(broken, [customer]))
    assert "2 active certificates" in found
    assert "6 devices" in found
    assert "signed while suspended" in found
    assert "PIN counter 3, the customer entered 2" in found
