"""template.yaml keeps audit entries append-only for every function (issue 11 item 14): one
managed policy denies UpdateItem, DeleteItem (in transactions too) and their batch and PartiQL
forms on items whose partition key is an audit entry's, and every function that can reach the
table carries it. tests/integration/test_audit_records.py holds the service's own requests to it."""

from __future__ import annotations

import pytest
from fincert.adapters.dynamodb import keys
from fincert_local.template import load_template, resources_of_type

from tests.support.iam import AUDIT_POLICY_ID, audit_deny_statements, denied

TEMPLATE = load_template()
DENY = audit_deny_statements(TEMPLATE)
AUDIT_KEY = keys.history("acc_x", "2026-11-25T14:30:00.000Z", "h1").pk


def _reaches_dynamodb(policies: list) -> bool:
    text = repr(policies)
    return "DynamoDB" in text or "dynamodb:" in text


@pytest.mark.parametrize("function_id", sorted(resources_of_type(TEMPLATE, "AWS::Serverless::Function")))
def test_every_function_that_reaches_the_table_carries_the_audit_deny(function_id):
    policies = TEMPLATE["Resources"][function_id]["Properties"].get("Policies", [])
    if not _reaches_dynamodb(policies):
        assert policies == [] or {"Ref": AUDIT_POLICY_ID} in policies
        return
    assert {"Ref": AUDIT_POLICY_ID} in policies, f"{function_id} could change or delete audit entries"


@pytest.mark.parametrize(
    "action",
    [
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:PartiQLUpdate",
        "dynamodb:PartiQLDelete",
    ],
)
def test_changing_or_deleting_an_audit_entry_is_denied(action):
    assert AUDIT_KEY.startswith(keys.AUDIT_PREFIX)
    assert denied(DENY, action, [AUDIT_KEY])
    # A batch or transaction with one audit key among others is denied as a whole.
    assert denied(DENY, action, [keys.account_pk("acc_x"), AUDIT_KEY])
    # A time-stamp token's record is an audit record too (RFC 3161 tokens issued).
    token_key = keys.timestamp_token(0xABC).pk
    assert token_key.startswith(keys.TIMESTAMP_TOKEN_PREFIX)
    assert denied(DENY, action, [token_key])


def test_the_deny_leaves_every_other_item_and_adding_audit_entries_alone():
    for pk in (
        keys.account_pk("acc_x"),
        keys.serial(0x1234).pk,
        keys.purge_record("acc_x").pk,
        keys.enrollment("enr_x").pk,
        keys.AUDIT_PREFIX.lower() + "acc_x",
    ):
        assert not denied(DENY, "dynamodb:UpdateItem", [pk]), pk
        assert not denied(DENY, "dynamodb:DeleteItem", [pk]), pk
    assert not denied(DENY, "dynamodb:PutItem", [AUDIT_KEY])
    assert not denied(DENY, "dynamodb:Query", [AUDIT_KEY])


def test_the_deny_covers_the_table_and_its_indexes():
    [statement] = DENY
    resources = statement["Resource"]
    assert {"Fn::GetAtt": ["FincertTable", "Arn"]} in resources
    assert {"Fn::Sub": "${FincertTable.Arn}/index/*"} in resources
