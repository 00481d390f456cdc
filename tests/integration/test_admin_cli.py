"""The operator commands (fincert-admin), each against moto: the CA, and the institutions'
whole life (register, list, rotate a key, origins, deactivate and reactivate), as the bank's and
its customers' requests through the gateway see it."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

import boto3
import pytest
from cryptography import x509
from fincert.adapters.dynamodb import keys
from fincert.admin import main
from fincert.admin_target import STACK_OUTPUTS, STACK_PARAMETERS
from fincert.domain.institutions import DEFAULT_SCOPES, authenticate_api_key
from fincert.settings import REQUIRED_VARIABLES
from fincert.wiring import use_services
from fincert_local.template import load_template

from tests.support import log_safety
from tests.support.customers import connected
from tests.support.in_process import PKI_BASE_URL, REGION, Api
from tests.support.table import item
from tests.support.window import BANK_ORIGIN, Window, mint, minted, opened


def preflight(api: Api, path: str, origin: str):
    headers = {"Origin": origin, "Access-Control-Request-Method": "POST"}
    return api.request("OPTIONS", path, api_key="", headers=headers)


def test_bootstrap_ca_prints_the_chain_and_is_idempotent(svc, capsys):
    assert main(["bootstrap-ca"]) == 0
    first = capsys.readouterr().out
    issuing, root = x509.load_pem_x509_certificates(first.encode())
    issuing.verify_directly_issued_by(root)
    assert main(["bootstrap-ca"]) == 0
    assert capsys.readouterr().out == first, "a second bootstrap returns the same CA"


def test_register_institution_prints_a_working_key_once(svc, capsys):
    assert main(["register-institution", "--id", "hana-bank", "--name", "Hana", "--scope", "enroll"]) == 0
    printed = json.loads(capsys.readouterr().out)
    log_safety.remember_secret(printed["api_key"])
    principal = authenticate_api_key(svc.store, printed["api_key"])
    assert principal.institution_id == "hana-bank"
    assert principal.scopes == frozenset({"enroll"})


def test_registering_an_existing_institution_fails_without_a_new_key(svc, capsys):
    main(["register-institution", "--id", "hana-bank", "--name", "Hana"])
    first_key = json.loads(capsys.readouterr().out)["api_key"]
    log_safety.remember_secret(first_key)
    assert main(["register-institution", "--id", "hana-bank", "--name", "Hana again"]) == 1
    assert "institution_exists" in capsys.readouterr().err
    assert authenticate_api_key(svc.store, first_key).institution_id == "hana-bank"


# --- institution management (every subcommand, against moto) -----------------------------------
def run(capsys, *argv: str) -> tuple[int, object, str]:
    """(exit code, the JSON printed, stderr); any key printed is remembered as a secret."""
    # What earlier in-process API calls wrote (their EMF metric lines) is not the command's output.
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    printed = json.loads(captured.out) if captured.out.strip() else None
    if isinstance(printed, dict) and "api_key" in printed:
        log_safety.remember_secret(printed["api_key"])
    return code, printed, captured.err


def register(capsys, institution_id: str = "web-bank", *extra: str) -> str:
    code, printed, err = run(
        capsys,
        "register-institution",
        "--id",
        institution_id,
        "--name",
        "Web Bank",
        "--origin",
        BANK_ORIGIN,
        *extra,
    )
    assert code == 0, err
    return printed["api_key"]


def test_register_without_scope_grants_the_documented_default_and_says_so(svc, capsys):
    code, printed, err = run(capsys, "register-institution", "--id", "hana-bank", "--name", "Hana")
    assert code == 0
    assert printed["scopes"] == sorted(DEFAULT_SCOPES) == ["connect", "enroll"]
    assert "default" in err and "connect and enroll" in err
    assert authenticate_api_key(svc.store, printed["api_key"]).scopes == frozenset(DEFAULT_SCOPES)


def test_list_institutions_shows_each_without_its_key(svc, capsys):
    first = register(capsys, "web-bank", "--scope", "connect")
    second = register(capsys, "card-bank", "--scope", "enroll")
    code, listed, _ = run(capsys, "list-institutions")
    assert code == 0
    assert [(i["institution_id"], i["scopes"], i["active"]) for i in listed] == [
        ("card-bank", ["enroll"], True),
        ("web-bank", ["connect"], True),
    ]
    assert listed[1]["origins"] == [BANK_ORIGIN]
    text = json.dumps(listed)
    stored_hash = svc.store.get_institution("web-bank").api_key_hash
    assert first.split("_", 2)[2] not in text and second.split("_", 2)[2] not in text
    assert stored_hash not in text


@pytest.mark.parametrize(
    "command",
    [
        ["rotate-api-key", "--id", "old-bank"],
        ["add-origin", "--id", "old-bank", "--origin", "https://old.example"],
        ["remove-origin", "--id", "old-bank", "--origin", BANK_ORIGIN],
        ["deactivate-institution", "--id", "old-bank"],
        ["reactivate-institution", "--id", "old-bank"],
    ],
    ids=lambda argv: argv[0],
)
def test_an_institution_from_before_the_listing_is_listed_after_any_change(svc, capsys, command):
    key = register(capsys, "old-bank")
    log_safety.remember_secret(key)
    listing = keys.institution_listing("old-bank")
    boto3.client("dynamodb", region_name=REGION).delete_item(
        TableName=svc.settings.table_name, Key={"pk": {"S": listing.pk}, "sk": {"S": listing.sk}}
    )
    assert run(capsys, "list-institutions")[1] == []
    code, _, err = run(capsys, *command)
    assert code == 0, err
    assert [i["institution_id"] for i in run(capsys, "list-institutions")[1]] == ["old-bank"]


def test_a_rotated_key_works_at_once_and_the_old_one_until_the_grace_period_ends(clock, gateway, capsys):
    old_key = register(capsys)
    code, rotated, _ = run(capsys, "rotate-api-key", "--id", "web-bank", "--grace-hours", "2")
    assert code == 0
    new_key = rotated["api_key"]
    assert (
        new_key != old_key
        and rotated["previous_key_valid_until"] == (clock.at + timedelta(hours=2)).isoformat()
    )
    assert mint(Api(gateway, new_key), "connect").status == 201
    assert mint(Api(gateway, old_key), "connect").status == 201, "the old key works during the grace period"
    clock.at += timedelta(hours=2)
    assert mint(Api(gateway, old_key), "connect").status == 401, "and not after it"
    assert mint(Api(gateway, new_key), "connect").status == 201


def test_a_leaked_key_is_rotated_out_at_once_with_no_grace(clock, gateway, capsys):
    old_key = register(capsys)
    _, rotated, _ = run(capsys, "rotate-api-key", "--id", "web-bank", "--grace-hours", "0")
    assert mint(Api(gateway, old_key), "connect").status == 401
    assert mint(Api(gateway, rotated["api_key"]), "connect").status == 201
    # A second rotation drops the key the first one kept, grace or not.
    _, again, _ = run(capsys, "rotate-api-key", "--id", "web-bank")
    assert mint(Api(gateway, rotated["api_key"]), "connect").status == 201
    assert mint(Api(gateway, again["api_key"]), "connect").status == 201
    assert run(capsys, "rotate-api-key", "--id", "web-bank", "--grace-hours", "721")[0] == 1


def test_the_authorizer_reads_an_institution_for_its_api_key_strongly_consistent(
    clock, gateway, capsys, aws_calls
):
    """moto is always consistent; DynamoDB is not, unless asked: an eventually consistent read
    could still find a key rotated out without grace, or a deactivated bank, active."""
    key = register(capsys)
    aws_calls.clear()
    assert mint(Api(gateway, key), "connect").status == 201
    reads = [
        json.loads(body)
        for call, body in zip(aws_calls.calls, aws_calls.bodies, strict=True)
        if call == "dynamodb.GetItem" and b"INST#web-bank" in body
    ]
    assert reads and reads[0].get("ConsistentRead") is True, reads  # the first: the authorizer's


def test_a_rotation_without_grace_does_not_depend_on_the_operators_clock(clock, gateway, capsys):
    old_key = register(capsys)
    service_time = clock.at
    clock.at = service_time + timedelta(hours=2)  # the operator's laptop, running ahead
    _, rotated, _ = run(capsys, "rotate-api-key", "--id", "web-bank", "--grace-hours", "0")
    clock.at = service_time
    assert mint(Api(gateway, old_key), "connect").status == 401
    assert mint(Api(gateway, rotated["api_key"]), "connect").status == 201
    stored = item(keys.institution("web-bank"))
    assert "previous_api_key_hash" not in stored and "previous_key_valid_until" not in stored


def test_origins_added_and_removed_decide_cors_at_once(svc, ca, gateway, capsys):
    api = Api(gateway, register(capsys))
    customer = connected(api)
    other = "https://m.web-bank.example"
    assert preflight(api, "/v1/history", other).status == 403
    code, added, _ = run(capsys, "add-origin", "--id", "web-bank", "--origin", other)
    assert code == 0 and added["origins"] == [BANK_ORIGIN, other]
    assert preflight(api, "/v1/history", other).status == 204
    # The customer's live session follows the institution's origins, not a copy taken at connection.
    assert (
        customer.call("GET", "/v1/history", headers={"Origin": other}).header("Access-Control-Allow-Origin")
        == other
    )
    code, removed, _ = run(capsys, "remove-origin", "--id", "web-bank", "--origin", other)
    assert code == 0 and removed["origins"] == [BANK_ORIGIN]
    assert preflight(api, "/v1/history", other).status == 403
    assert (
        customer.call("GET", "/v1/history", headers={"Origin": other}).header("Access-Control-Allow-Origin")
        is None
    )
    assert svc.store.get_institution("web-bank").allowed_origins == (BANK_ORIGIN,)


def test_an_origin_another_institution_uses_stays_registered_for_it(svc, capsys):
    register(capsys, "web-bank")
    register(capsys, "card-bank")
    assert run(capsys, "remove-origin", "--id", "web-bank", "--origin", BANK_ORIGIN)[0] == 0
    assert [i.institution_id for i in svc.store.institutions_of_origin(BANK_ORIGIN)] == ["card-bank"]
    assert run(capsys, "remove-origin", "--id", "card-bank", "--origin", BANK_ORIGIN)[0] == 0
    assert svc.store.institutions_of_origin(BANK_ORIGIN) == []


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["add-origin", "--id", "web-bank", "--origin", "https://bank.example/path"], "origin_invalid"),
        (["add-origin", "--id", "no-bank", "--origin", "https://bank.example"], "institution_not_found"),
        (["remove-origin", "--id", "web-bank", "--origin", "https://never.example"], "origin_not_found"),
        (["remove-origin", "--id", "no-bank", "--origin", "https://bank.example"], "institution_not_found"),
        (["rotate-api-key", "--id", "no-bank"], "institution_not_found"),
        (["deactivate-institution", "--id", "no-bank"], "institution_not_found"),
        (["reactivate-institution", "--id", "no-bank"], "institution_not_found"),
    ],
)
def test_operator_mistakes_are_one_line_and_change_nothing(svc, capsys, argv, code):
    register(capsys)
    before = svc.store.get_institution("web-bank")
    exit_code, _, err = run(capsys, *argv)
    assert exit_code == 1
    lines = [line for line in err.splitlines() if not line.startswith("fincert-admin: the stack")]
    assert len(lines) == 1 and code in lines[0] and "Traceback" not in err
    assert svc.store.get_institution("web-bank") == before
    assert svc.store.get_institution("no-bank") is None


def test_deactivation_stops_the_key_sessions_tickets_and_windows_at_once(ca, gateway, capsys):
    api = Api(gateway, register(capsys))
    customer = connected(api)
    pending = minted(api, "connect")  # handed to a browser, not yet redeemed
    window = opened(api, "connect")
    assert customer.call("GET", "/v1/history").status == 200
    assert window.call("GET", "/v1/window").status == 200

    code, shown, _ = run(capsys, "deactivate-institution", "--id", "web-bank")
    assert code == 0 and shown["active"] is False
    assert mint(api, "connect").status == 401
    assert customer.call("GET", "/v1/history").status == 401
    assert window.call("GET", "/v1/window").status == 401
    assert Window(api, pending["ticket"]).redeem().status == 401

    code, shown, _ = run(capsys, "reactivate-institution", "--id", "web-bank")
    assert code == 0 and shown["active"] is True
    assert mint(api, "connect").status == 201
    assert customer.call("GET", "/v1/history").status == 200, "an unexpired session works again"
    assert Window(api, pending["ticket"]).redeem().status == 201, "a refused ticket was not used up"


# --- finding the stack ------------------------------------------------------------------------
def _without_settings(monkeypatch) -> None:
    for name in REQUIRED_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("FINCERT_LOCAL_STATE", raising=False)


def test_a_deployed_stack_is_found_by_its_name_from_its_outputs(aws, svc, capsys, monkeypatch):
    """The stack declares template.yaml's outputs (and those the CLI reads); the settings that
    are template parameters come from the stack's parameters."""
    env = aws.function_environment() | {"PKI_BASE_URL": PKI_BASE_URL}
    read = {output: env[name] for name, (output, _) in STACK_OUTPUTS.items() if name not in STACK_PARAMETERS}
    declared = {output: "declared" for output in load_template()["Outputs"]}
    template = {
        "Parameters": {"PkiBaseUrl": {"Type": "String"}, "CertificatePolicyOid": {"Type": "String"}},
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {name: {"Value": value} for name, value in (declared | read).items()},
    }
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName="fincert-prod",
        TemplateBody=json.dumps(template),
        Parameters=[
            {"ParameterKey": "PkiBaseUrl", "ParameterValue": PKI_BASE_URL},
            {"ParameterKey": "CertificatePolicyOid", "ParameterValue": env["CERTIFICATE_POLICY_OID"]},
        ],
    )
    _without_settings(monkeypatch)
    code, printed, err = run(
        capsys, "--stack-name", "fincert-prod", "register-institution", "--id", "web-bank", "--name", "Web"
    )
    assert code == 0 and f"stack fincert-prod in {REGION}" in err
    assert authenticate_api_key(svc.store, printed["api_key"]).institution_id == "web-bank", (
        "in the stack's table"
    )
    code, listed, _ = run(capsys, "--stack-name", "fincert-prod", "list-institutions")
    assert [i["institution_id"] for i in listed] == ["web-bank"]


def test_a_stack_deployed_before_an_output_existed_answers_through_its_resources(aws, capsys, monkeypatch):
    keys_ = {
        logical: {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {}}}
        for logical in (
            "RootCaKey",
            "IssuingCaKey",
            "SubscriberKeyWrapKey",
            "IdentityHmacKey",
            "ContentMacKey",
        )
    }
    table = {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
        },
    }
    template = {
        "Parameters": {"PkiBaseUrl": {"Type": "String"}, "CertificatePolicyOid": {"Type": "String"}},
        "Resources": {"FincertTable": table, **keys_},
        "Outputs": {"ApiUrl": {"Value": "https://api.example/v1"}},
    }
    cfn = boto3.client("cloudformation", region_name=REGION)
    cfn.create_stack(
        StackName="fincert-old",
        TemplateBody=json.dumps(template),
        Parameters=[
            {"ParameterKey": "PkiBaseUrl", "ParameterValue": PKI_BASE_URL},
            {"ParameterKey": "CertificatePolicyOid", "ParameterValue": "1.3.6.1.4.1.32473.1.1"},
        ],
    )
    table_name = cfn.describe_stack_resource(StackName="fincert-old", LogicalResourceId="FincertTable")[
        "StackResourceDetail"
    ]["PhysicalResourceId"]
    _without_settings(monkeypatch)
    code, _, err = run(
        capsys, "--stack-name", "fincert-old", "register-institution", "--id", "old-bank", "--name", "Old"
    )
    assert code == 0, err
    stored = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=table_name, Key={"pk": {"S": "INST#old-bank"}, "sk": {"S": "INSTITUTION"}}
    )
    assert "Item" in stored, "written to the stack's own table, found through its resources"


def test_an_unknown_stack_is_one_line(aws, capsys, monkeypatch):
    _without_settings(monkeypatch)
    code, _, err = run(capsys, "--stack-name", "no-such-stack", "list-institutions")
    assert code == 1
    assert err.strip() == f"fincert-admin: stack_not_found: no stack no-such-stack in {REGION}"


def test_without_any_stack_the_cli_says_how_to_name_one(aws, capsys, monkeypatch, tmp_path):
    _without_settings(monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("fincert.admin_target._checkout", lambda: [tmp_path])
    code, _, err = run(capsys, "list-institutions")
    assert code == 1 and len(err.splitlines()) == 1
    assert "no_stack" in err and "make local" in err and "--stack-name" in err


def test_a_state_file_left_by_a_stopped_local_stack_is_one_line(aws, capsys, monkeypatch, tmp_path):
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    state = tmp_path / ".local-stack" / "state.json"
    state.parent.mkdir()
    state.write_text(
        json.dumps({"moto_url": f"http://127.0.0.1:{port}", "environment": {}, "region": REGION})
    )
    _without_settings(monkeypatch)
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "list-institutions")
    assert code == 1 and len(err.splitlines()) == 1
    assert "not running" in err and f"127.0.0.1:{port}" in err and "make local" in err


def test_an_aws_refusal_is_one_line_naming_it(aws, capsys, monkeypatch):
    monkeypatch.setenv("TABLE_NAME", "no-such-table")
    use_services(None)  # rebuilt from the environment, as a fresh process would
    code, _, err = run(capsys, "list-institutions")
    assert code == 1
    (line,) = [line for line in err.splitlines() if not line.startswith("fincert-admin: the stack")]
    assert "ResourceNotFoundException" in line and "Traceback" not in err


def test_a_session_token_names_its_own_institution_or_nothing(ca, gateway, other_bank, capsys):
    """The institution in a token is checked against the session's: a customer of one bank cannot
    borrow another (active) bank's name to outlive their own bank's deactivation."""
    api = Api(gateway, register(capsys))
    customer = connected(api)
    prefix, institution, rest = customer.token.split(".", 2)
    assert (prefix, institution) == ("fcs", "web-bank")
    assert customer.call("GET", "/v1/history").status == 200
    customer.token = f"fcs.{other_bank['institution_id']}.{rest}"
    assert customer.call("GET", "/v1/history").status == 401
