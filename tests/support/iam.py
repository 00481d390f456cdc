"""template.yaml's deny on audit entries, as IAM would judge a DynamoDB request against it:
enough of IAM's policy evaluation (actions, dynamodb:LeadingKeys with ForAnyValue:StringLike) to
tell which requests the deny stops, so tests can hold the service's own requests to it."""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import Any

from fincert_local.template import load_template

AUDIT_POLICY_ID = "AuditRecordsAppendOnlyPolicy"


def audit_deny_statements(template: dict | None = None) -> list[dict]:
    template = template or load_template()
    policy = template["Resources"][AUDIT_POLICY_ID]
    assert policy["Type"] == "AWS::IAM::ManagedPolicy"
    return [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def denied(statements: Iterable[dict], action: str, leading_keys: Iterable[str]) -> bool:
    """Whether a Deny statement matches `action` (e.g. "dynamodb:UpdateItem") on items whose
    partition keys are `leading_keys`. Only the condition operator the template uses is known;
    any other fails the test rather than being read as "no match"."""
    leading = list(leading_keys)
    for statement in statements:
        if not any(fnmatchcase(action, pattern) for pattern in _as_list(statement["Action"])):
            continue
        conditions = statement.get("Condition", {})
        matched = True
        for operator, tests in conditions.items():
            if operator != "ForAnyValue:StringLike" or set(tests) != {"dynamodb:LeadingKeys"}:
                raise AssertionError(f"condition {operator} {sorted(tests)} not modelled here")
            patterns = _as_list(tests["dynamodb:LeadingKeys"])
            matched &= any(fnmatchcase(key, p) for key in leading for p in patterns)
        if matched:
            return True
    return False


def item_actions(operation: str, params: dict) -> list[tuple[str, list[str]]]:
    """The (IAM action, partition keys) pairs IAM checks for one DynamoDB API call: a
    TransactWriteItems is checked item by item, each against its own action; a BatchWriteItem as
    itself over every key it names."""

    def pk(key_or_item: dict) -> str:
        return key_or_item["pk"]["S"]

    if operation == "TransactWriteItems":
        pairs = []
        for item in params["TransactItems"]:
            ((kind, body),) = item.items()
            action = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}.get(
                kind, "ConditionCheckItem"
            )
            pairs.append((f"dynamodb:{action}", [pk(body.get("Key") or body["Item"])]))
        return pairs
    if operation == "BatchWriteItem":
        keys = [
            pk(request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"])
            for requests in params["RequestItems"].values()
            for request in requests
        ]
        return [("dynamodb:BatchWriteItem", keys)]
    if operation in ("PutItem",):
        return [(f"dynamodb:{operation}", [pk(params["Item"])])]
    if operation in ("UpdateItem", "DeleteItem", "GetItem"):
        return [(f"dynamodb:{operation}", [pk(params["Key"])])]
    if operation == "Query":
        values = params.get("ExpressionAttributeValues", {})
        return [("dynamodb:Query", [v["S"] for name, v in values.items() if name == ":pk" and "S" in v])]
    return [(f"dynamodb:{operation}", [])]
