"""GET /v1/health: public, cheap (no AWS call on a warm container, one DynamoDB read on a cold
one, none to KMS), and honest: 503 until the CA is bootstrapped."""

from __future__ import annotations

from fincert_local.openapi import build_openapi
from fincert_local.template import api_routes, load_template

from tests.support.in_process import Api


def test_health_needs_no_credentials_and_a_warm_container_calls_no_aws(gateway, ca, aws_calls):
    api = Api(gateway)
    aws_calls.clear()  # the CA's bootstrap
    first = api.get("/v1/health")
    assert first.status == 200
    assert first.json() == {"status": "ok", "certificate_authority": "ready"}
    assert first.header("Cache-Control") == "no-store"
    assert [c for c in aws_calls.calls if not c.startswith("dynamodb.")] == []
    assert len(aws_calls.calls) <= 1  # the CA record, on this container's first request
    aws_calls.clear()
    assert api.get("/v1/health").status == 200
    assert aws_calls.calls == []


def test_health_is_503_until_the_ca_is_bootstrapped(gateway):
    response = Api(gateway).get("/v1/health")
    assert response.status == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response.header("Retry-After")


def test_health_is_a_public_documented_route():
    (route,) = [r for r in api_routes(load_template()) if r.path == "/v1/health"]
    assert (route.method, route.authorized) == ("GET", False)
    operation = build_openapi()["paths"]["/v1/health"]["get"]
    assert "security" not in operation
    assert set(operation["responses"]) == {"200", "503"}
