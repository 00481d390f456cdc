"""The JSON event fixtures in tests/events are the ones `sam local invoke -e` and
`python -m fincert_local invoke` take; they must work against the real handlers."""

from __future__ import annotations

import json

import pytest
from fincert_local.template import api_routes, api_stage, load_template

from tests.support.in_process import EVENTS, load_event


def test_authorizer_event_allows_a_real_key_and_refuses_the_placeholder(gateway, bank):
    event = load_event("authorizer_request.json")
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        gateway.invoke("AuthorizerFunction", event)
    event["headers"]["Authorization"] = f"Bearer {bank['api_key']}"
    result = gateway.invoke("AuthorizerFunction", event)
    assert result["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert result["context"] == {"institution_id": "demo-bank", "scopes": "connect enroll"}


def test_enrollment_start_event_starts_an_enrollment(gateway, bank):
    result = gateway.invoke("EnrollmentFunction", load_event("enrollment_start.json"))
    assert result["statusCode"] == 201, result["body"]
    assert json.loads(result["body"])["enrollment_id"].startswith("enr_")


def test_enrollment_confirm_event_with_a_placeholder_id_is_a_clean_404(gateway, bank):
    result = gateway.invoke("EnrollmentFunction", load_event("enrollment_confirm.json"))
    assert result["statusCode"] == 404
    assert json.loads(result["body"])["error"]["code"] == "enrollment_not_found"


@pytest.mark.parametrize("name", ["pki_chain.json", "pki_issuing_ca.json"])
def test_pki_events_are_served(gateway, ca, name):
    result = gateway.invoke("PkiFunction", load_event(name))
    assert result["statusCode"] == 200


def test_signing_event_is_a_well_formed_request_for_a_placeholder_customer(gateway, bank):
    """The body has today's shape (a 422 would mean it does not); the placeholder account has no
    certificate: the documented refusal, what a local invocation of the fixture answers."""
    result = gateway.invoke("SigningFunction", load_event("signing_sign.json"))
    assert result["statusCode"] == 404, result["body"]
    assert json.loads(result["body"])["error"]["code"] == "account_not_found"


def test_event_fixtures_carry_the_deployed_stage_and_path():
    """As API Gateway sends them from the execute-api URL: the stage, then the route's path once
    (not `/v1/v1/...`, issue 13), and a route the template has."""
    template = load_template()
    stage = api_stage(template)
    routes = {(route.method, route.path) for route in api_routes(template)}
    events = sorted(EVENTS.glob("*.json"))
    checked = 0
    for path in events:
        event = json.loads(path.read_text(encoding="utf-8"))
        context = event.get("requestContext")
        if context is None:  # a scheduled or SQS event
            continue
        assert context["stage"] == stage, path.name
        if "resource" in event:
            assert (event["httpMethod"], event["resource"]) in routes, path.name
        if "path" in context:
            assert context["path"] == f"/{stage}{event['path']}", path.name
        if "methodArn" in event:
            assert f"/{stage}/{event['httpMethod']}{event['path']}" in event["methodArn"], path.name
        checked += 1
    assert checked >= 10
