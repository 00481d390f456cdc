"""template.yaml's SnapStart parameter (docs/snapstart.md), with both of its values: the API's
functions, and they only, run through a published alias, which the routes' integrations and the
authorizer invoke, and have SnapStart exactly when the parameter says Enabled. `make template`
runs `sam validate --lint` over both renderings; what SAM generates from these properties (the
integrations' and the authorizer's URIs naming the alias, the permissions on it) is in
docs/snapstart.md#what-was-checked."""

from __future__ import annotations

import pytest
from fincert_local.template import api_routes, authorizer, functions, load_template

TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]


def _condition(name: str, parameter_value: str) -> bool:
    """The template's condition for a value of the SnapStart parameter (Fn::Equals of a Ref)."""
    [(function, (left, right))] = TEMPLATE["Conditions"][name].items()
    assert function == "Fn::Equals"
    assert left == {"Ref": "SnapStart"}
    return parameter_value == right


def _value(value, parameter_value: str):
    """A property as CloudFormation resolves it for that parameter value (Fn::If on SnapStart's)."""
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
        condition, yes, no = value["Fn::If"]
        return _value(yes if _condition(condition, parameter_value) else no, parameter_value)
    if isinstance(value, dict):
        return {key: _value(item, parameter_value) for key, item in value.items()}
    return value


def _api_functions() -> set[str]:
    return {route.function_id for route in api_routes(TEMPLATE)} | {authorizer(TEMPLATE).function_id}


def test_the_parameter_is_off_unless_asked_for():
    parameter = TEMPLATE["Parameters"]["SnapStart"]
    assert parameter["Default"] == "Disabled"
    assert parameter["AllowedValues"] == ["Disabled", "Enabled"]
    assert _condition("SnapStartOn", "Enabled") is True
    assert _condition("SnapStartOn", "Disabled") is False


@pytest.mark.parametrize(("value", "apply_on"), [("Enabled", "PublishedVersions"), ("Disabled", "None")])
def test_every_api_function_runs_through_a_published_alias_with_snapstart_as_the_parameter_says(
    value, apply_on
):
    api = _api_functions()
    assert {
        "AuthorizerFunction",
        "SigningFunction",
        "CscFunction",
        "EnrollmentFunction",
        "PkiFunction",
    } <= api
    for function_id in sorted(api):
        properties = RESOURCES[function_id]["Properties"]
        # SnapStart snapshots published versions only; the alias is what the API invokes.
        assert properties["AutoPublishAlias"] == "live", function_id
        # A new version whenever any property or the layer's content changes, not only the code.
        assert properties["AutoPublishAliasAllProperties"] is True, function_id
        assert properties["VersionDeletionPolicy"] == "Delete", function_id
        assert _value(properties["SnapStart"], value) == {"ApplyOn": apply_on}, function_id
    assert RESOURCES["FincertLayer"]["Properties"]["PublishLambdaVersion"] is True


def test_the_authorizer_is_invoked_through_its_alias_and_the_local_stack_still_finds_it():
    institution = TEMPLATE["Resources"]["FincertApi"]["Properties"]["Auth"]["Authorizers"]
    assert institution["InstitutionAuthorizer"]["FunctionArn"] == {"Ref": "AuthorizerFunction.Alias"}
    assert authorizer(TEMPLATE).function_id == "AuthorizerFunction"


def test_the_scheduled_jobs_have_neither_snapstart_nor_an_alias():
    # Nobody waits on them, and a version's snapshot is billed while it is cached: see
    # docs/snapstart.md#which-functions.
    jobs = set(functions(TEMPLATE)) - _api_functions()
    assert {"RenewalPlannerFunction", "PurgeWorkerFunction", "ReconcilerFunction"} <= jobs
    for function_id in sorted(jobs):
        properties = RESOURCES[function_id]["Properties"]
        assert not {"SnapStart", "AutoPublishAlias"} & set(properties), function_id


def test_no_api_function_uses_what_snapstart_refuses():
    # Lambda refuses SnapStart with provisioned concurrency, EFS, more than 512 MB of ephemeral
    # storage, and on runtimes before python3.12.
    runtime = TEMPLATE["Globals"]["Function"]["Runtime"]
    assert runtime.startswith("python3.")
    assert int(runtime.removeprefix("python3.")) >= 12
    for function_id in sorted(_api_functions()):
        properties = RESOURCES[function_id]["Properties"]
        assert "Runtime" not in properties or properties["Runtime"] == runtime, function_id
        assert "ProvisionedConcurrencyConfig" not in properties, function_id
        assert "FileSystemConfigs" not in properties, function_id
        assert properties.get("EphemeralStorage", {"Size": 512})["Size"] <= 512, function_id
