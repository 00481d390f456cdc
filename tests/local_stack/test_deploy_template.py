"""template.yaml as AWS deploys it (issue 13): the URLs clients and relying parties end up with,
the outputs an operator reads, and what the PKI distribution caches. The local stack serves the
same routes (tests/local_stack/test_local_stack.py); `make lint` runs cfn-lint, `sam validate
--lint` and checkov over the same file."""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase

import pytest
from fincert.domain.revocation_status import CRL_REFRESH, ROOT_CRL_REFRESH
from fincert_local.gateway import Gateway
from fincert_local.template import (
    api_routes,
    api_stage,
    binary_media_types,
    load_template,
    repo_root,
    resources_of_type,
)

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CloudFront's Managed-CachingDisabled


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template()


def _sub_text(value) -> str:
    assert set(value) == {"Fn::Sub"}, value
    return value["Fn::Sub"]


def _if(value) -> tuple[str, object, object]:
    assert set(value) == {"Fn::If"}, value
    condition, yes, no = value["Fn::If"]
    return condition, yes, no


def test_the_stage_is_not_a_segment_of_any_route(template):
    """`.../v1/v1/...` was the bug: the execute-api URL is the stage, then the route."""
    stage = api_stage(template)
    first_segments = {route.path.split("/")[1] for route in api_routes(template)}
    assert first_segments >= {"v1", "csc", "pki"}
    assert stage not in first_segments


def test_api_url_is_the_custom_domain_root_or_the_stage_url(template):
    api = template["Resources"]["FincertApi"]["Properties"]
    assert api["EndpointConfiguration"] == {"Type": "REGIONAL"}
    condition, with_domain, without = _if(template["Outputs"]["ApiUrl"]["Value"])
    assert condition == "HasApiDomain"
    # Clients append /v1/..., /csc/v1/..., /pki/...: neither URL may end in a route's segment.
    assert _sub_text(with_domain) == "https://${ApiDomainName}"
    assert (
        _sub_text(without)
        == "https://${FincertApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${FincertApi.Stage}"
    )

    domain = template["Resources"]["ApiDomain"]
    mapping = template["Resources"]["ApiBasePathMapping"]
    assert domain["Condition"] == mapping["Condition"] == "HasApiDomain"
    assert domain["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert domain["Properties"]["SecurityPolicy"] == "TLS_1_2"
    # No BasePath: the stage at the root, so https://DOMAIN/v1/enrollments as routed.
    assert "BasePath" not in mapping["Properties"]
    assert mapping["Properties"]["Stage"] == {"Ref": "FincertApi.Stage"}
    assert mapping["Properties"]["DomainName"] == {"Ref": "ApiDomain"}


def test_every_setting_fincert_admin_needs_is_an_output(template):
    """Each variable the functions run with that names a resource or a parameter, and every KMS
    key, can be read from the stack's outputs instead of the console."""
    outputs = {name: output["Value"] for name, output in template["Outputs"].items()}
    values = [json.dumps(value, sort_keys=True) for value in outputs.values()]
    environment = template["Globals"]["Function"]["Environment"]["Variables"]
    needed = {
        name: value
        for name, value in environment.items()
        if isinstance(value, dict) and not name.startswith("POWERTOOLS_")  # logging, not settings
    }
    assert {"TABLE_NAME", "KEY_WRAP_KEY_ID", "HMAC_KEY_ID", "PKI_BASE_URL"} <= set(needed)
    for name, value in needed.items():
        assert json.dumps(value, sort_keys=True) in values, f"{name} ({value}) is not a stack output"
    for key in resources_of_type(template, "AWS::KMS::Key"):
        assert json.dumps({"Ref": key}) in values, f"KMS key {key} has no output"
    for name in ("ApiUrl", "PkiBaseUrl", "PkiDistributionUrl", "PkiDistributionDomainName", "TableName"):
        assert name in outputs


def test_pki_base_url_is_a_parameter_nothing_derives_from_the_distribution(template):
    """bootstrap-ca writes PkiBaseUrl into the CA certificates: it must be settable before the
    distribution exists, and the functions must not depend on the distribution (no cycle)."""
    environment = template["Globals"]["Function"]["Environment"]["Variables"]
    assert environment["PKI_BASE_URL"] == {"Ref": "PkiBaseUrl"}
    assert template["Parameters"]["PkiBaseUrl"]["Default"].startswith("http://")
    mentions = {
        logical_id
        for logical_id, resource in template["Resources"].items()
        if "PkiDistribution" in json.dumps(resource) and logical_id != "PkiDistribution"
    }
    assert mentions == set()
    assert _sub_text(template["Outputs"]["PkiDistributionUrl"]["Value"]).startswith("http://")


# --- the PKI distribution: plain http, and what it caches ---------------------------------------


@pytest.fixture(scope="module")
def distribution(template) -> dict:
    return template["Resources"]["PkiDistribution"]["Properties"]["DistributionConfig"]


def _behaviour(distribution: dict, path: str) -> dict:
    """CloudFront's choice: the first CacheBehavior whose PathPattern matches, else the default.
    Its patterns are case-sensitive globs where * also crosses '/'."""
    for behaviour in distribution["CacheBehaviors"]:
        if fnmatchcase(path, behaviour["PathPattern"]):
            return behaviour
    return distribution["DefaultCacheBehavior"]


def _cache_policy(template: dict, behaviour: dict) -> dict | str:
    policy = behaviour["CachePolicyId"]
    if isinstance(policy, dict):
        return template["Resources"][policy["Ref"]]["Properties"]["CachePolicyConfig"]
    return policy  # a managed policy's id


def _example_path(template_path: str) -> str:
    return re.sub(
        r"\{[^}]+\}", lambda m: "MEkwRzBFMEMw/ab+cd==" if "+" in m.group(0) else "2029-w47.crl", template_path
    )


def test_the_distribution_forwards_to_the_stage_over_https(template, distribution):
    [origin] = distribution["Origins"]
    assert _sub_text(origin["DomainName"]) == "${FincertApi}.execute-api.${AWS::Region}.amazonaws.com"
    assert origin["OriginPath"] == "/" + api_stage(template)
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"


def test_every_pki_route_is_served_over_plain_http(template, distribution):
    pki_routes = [route for route in api_routes(template) if route.path.startswith("/pki/")]
    assert len(pki_routes) >= 7
    for route in pki_routes:
        assert not route.authorized, route
        behaviour = _behaviour(distribution, _example_path(route.path))
        assert behaviour is not distribution["DefaultCacheBehavior"], route
        assert behaviour["ViewerProtocolPolicy"] == "allow-all", route
        assert route.method in behaviour["AllowedMethods"], route


def test_ocsp_answers_are_never_cached(template, distribution):
    for path in ("/pki/ocsp", "/pki/ocsp/MEkwRzBFMEMw/ab+cd=="):
        behaviour = _behaviour(distribution, path)
        assert behaviour["CachePolicyId"] == CACHING_DISABLED
        # A POST's Content-Type (application/ocsp-request) must reach the handler.
        assert behaviour["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def test_crls_are_cached_at_most_their_rebuild_interval(template, distribution):
    for path, rebuilt in (("/pki/crl/2029-w47.crl", CRL_REFRESH), ("/pki/root.crl", ROOT_CRL_REFRESH)):
        policy = _cache_policy(template, _behaviour(distribution, path))
        assert isinstance(policy, dict), path
        assert 0 < policy["MaxTTL"] <= CRL_REFRESH.total_seconds() <= rebuilt.total_seconds()
        assert policy["DefaultTTL"] <= policy["MaxTTL"]
        keyed = policy["ParametersInCacheKeyAndForwardedToOrigin"]
        assert keyed["QueryStringsConfig"] == {"QueryStringBehavior": "none"}


def test_ca_certificates_may_be_cached_longer(template, distribution):
    for path in ("/pki/root-ca.crt", "/pki/issuing-ca.crt", "/pki/chain.pem"):
        policy = _cache_policy(template, _behaviour(distribution, path))
        assert isinstance(policy, dict) and policy["MaxTTL"] <= 86400


def test_nothing_outside_pki_is_served_by_the_distribution(template, distribution):
    default = distribution["DefaultCacheBehavior"]
    [association] = default["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    function = template["Resources"][association["FunctionARN"]["Fn::GetAtt"][0]]["Properties"]
    assert "statusCode: 404" in function["FunctionCode"]
    for path in ("/v1/enrollments", "/csc/v1/info", "/hosted/v1/window.html"):
        assert _behaviour(distribution, path) is default


def test_a_pki_alias_comes_with_its_certificate(distribution):
    condition, alias_certificate, default_certificate = _if(distribution["ViewerCertificate"])
    assert condition == "HasPkiDomain"
    assert alias_certificate["AcmCertificateArn"] == {"Ref": "PkiCertificateArn"}
    assert default_certificate == {"CloudFrontDefaultCertificate": True}
    assert _if(distribution["Aliases"])[0] == "HasPkiDomain"


# --- operating it: access logs, tracing ---------------------------------------------------------


def test_access_log_lines_are_json_without_paths_or_headers(template):
    stage = template["Resources"]["FincertApi"]["Properties"]
    log_format = stage["AccessLogSetting"]["Format"]
    line = json.loads(re.sub(r"\$context\.[A-Za-z.]+", "x", log_format))
    assert {"requestId", "status", "route", "institution"} <= set(line)
    # $context.path carries enrollment and verification ids; headers carry bearer tokens.
    used = set(re.findall(r"\$context\.[A-Za-z.]+", log_format))
    assert "$context.path" not in used
    assert not any("header" in variable.lower() for variable in used)
    assert stage["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}


def test_one_parameter_turns_tracing_on_for_the_stage_and_the_functions(template):
    assert _if(template["Resources"]["FincertApi"]["Properties"]["TracingEnabled"]) == (
        "TracingOn",
        True,
        False,
    )
    assert _if(template["Globals"]["Function"]["Tracing"]) == ("TracingOn", "Active", "PassThrough")
    assert template["Conditions"]["TracingOn"] == {"Fn::Equals": [{"Ref": "XRayTracing"}, "true"]}


def test_binary_answers_whatever_the_client_accepts(template):
    """API Gateway turns a base64 body back into bytes only when the client's first Accept type
    is a binary media type; openssl, browsers and OS certificate stacks send */* or nothing. The
    local gateway then hands every typed request body over base64-encoded, as API Gateway will."""
    assert "*/*" in binary_media_types(template)
    gateway = Gateway(template, repo_root())
    for media_type in ("application/json", "application/ocsp-request", "text/plain; charset=utf-8"):
        assert gateway.is_binary(media_type), media_type
    assert not gateway.is_binary("")


def test_every_function_logs_to_a_group_of_the_templates_with_the_retention_parameter(template):
    """Lambda would create `/aws/lambda/<function>` on first use, never expiring: the template
    creates a group per function under a name of its own (an older stack already has Lambda's,
    which CloudFormation cannot create again) and names it in the function's LoggingConfig, so
    the retention is a parameter's and the function depends on its group."""
    resources = template["Resources"]
    functions = set(resources_of_type(template, "AWS::Serverless::Function"))
    groups = {
        name: props["Properties"]
        for name, props in resources.items()
        if props["Type"] == "AWS::Logs::LogGroup" and name != "ApiAccessLogGroup"
    }
    named = {_sub_text(group["LogGroupName"]): group for group in groups.values()}
    assert set(named) == {f"/fincert/${{AWS::StackName}}/{function}" for function in functions}
    assert len(named) == len(groups), "one group per function"
    for function in functions:
        logging_config = resources[function]["Properties"]["LoggingConfig"]
        assert logging_config == {"LogGroup": {"Ref": f"{function}LogGroup"}}, function
    assert all(group["RetentionInDays"] == {"Ref": "LogRetentionDays"} for group in groups.values())
    assert resources["ApiAccessLogGroup"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    retention = template["Parameters"]["LogRetentionDays"]
    assert retention["Default"] in retention["AllowedValues"]
