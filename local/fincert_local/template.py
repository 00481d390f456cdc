"""Read template.yaml: the one description of the infrastructure the local stack serves.

Everything the local stack knows about routes, the authorizer, gateway responses, tables, keys and
environment variables comes from here, so local runs and tests cannot drift from what SAM deploys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_ACCOUNT_ID = "123456789012"  # moto's default account; also what methodArns name locally

# Lambda's own defaults when neither the function nor Globals set them.
_LAMBDA_DEFAULT_MEMORY_MB = 128
_LAMBDA_DEFAULT_TIMEOUT_S = 3


def repo_root() -> Path:
    """The checkout this package is installed from (editable install: local/fincert_local/..)."""
    return Path(__file__).resolve().parents[2]


# --- YAML with CloudFormation short tags ------------------------------------------------------


# libyaml's parser when PyYAML was built with it (its wheels are), ~10x faster than the pure-Python
# one: the test suite parses template.yaml twice per test. Same documents, same safe constructors.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CfnLoader(_SafeLoader):
    """A safe loader plus the CloudFormation short-form intrinsic tags (!Ref, !GetAtt, !Sub ...)."""


def _construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


def _long_form(function: str):
    def constructor(loader: yaml.SafeLoader, node: yaml.Node) -> dict:
        return {function: _construct(loader, node)}

    return constructor


def _get_att(loader: yaml.SafeLoader, node: yaml.Node) -> dict:
    value = _construct(loader, node)
    if isinstance(value, str):
        # Only the first dot separates resource from attribute (e.g. "Db.Endpoint.Address").
        value = value.split(".", 1)
    return {"Fn::GetAtt": value}


_CfnLoader.add_constructor("!Ref", _long_form("Ref"))
_CfnLoader.add_constructor("!Condition", _long_form("Condition"))
_CfnLoader.add_constructor("!GetAtt", _get_att)
for _name in (
    "Sub",
    "Join",
    "If",
    "Equals",
    "Select",
    "Split",
    "FindInMap",
    "ImportValue",
    "GetAZs",
    "Base64",
    "Not",
    "And",
    "Or",
    "Cidr",
):
    _CfnLoader.add_constructor(f"!{_name}", _long_form(f"Fn::{_name}"))


def load_template(path: Path | str | None = None) -> dict:
    """Parse a SAM/CloudFormation template, short tags turned into their long forms."""
    path = Path(path) if path is not None else repo_root() / "template.yaml"
    with path.open(encoding="utf-8") as f:
        return yaml.load(f, Loader=_CfnLoader)  # noqa: S506 - _CfnLoader is a SafeLoader subclass


# --- typed views ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_uri: str
    handler: str
    environment: dict[str, Any]  # the function's own Environment.Variables, unresolved
    memory_size: int = _LAMBDA_DEFAULT_MEMORY_MB
    timeout: int = _LAMBDA_DEFAULT_TIMEOUT_S


@dataclass(frozen=True)
class Route:
    function_id: str
    method: str  # upper case; "ANY" matches every method
    path: str  # as in the template, e.g. /v1/enrollments/{enrollment_id}/confirm
    authorized: bool


@dataclass(frozen=True)
class AuthorizerSpec:
    function_id: str
    identity_headers: list[str]
    identity_query_strings: list[str] = field(default_factory=list)
    reauthorize_every: int = 300  # seconds API Gateway caches a policy per identity; 0 = no cache


@dataclass(frozen=True)
class GatewayResponseSpec:
    status: int
    body: str  # the application/json response template
    headers: dict[str, str] = field(default_factory=dict)


def resources_of_type(template: dict, resource_type: str) -> dict[str, dict]:
    return {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") == resource_type
    }


def _function_globals(template: dict) -> dict:
    return template.get("Globals", {}).get("Function", {})


def functions(template: dict) -> dict[str, FunctionSpec]:
    defaults = _function_globals(template)
    specs = {}
    for logical_id, resource in resources_of_type(template, "AWS::Serverless::Function").items():
        props = resource.get("Properties", {})

        def prop(name: str, fallback: Any = None, props: dict = props) -> Any:
            return props.get(name, defaults.get(name, fallback))

        specs[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_uri=prop("CodeUri"),
            handler=prop("Handler"),
            environment=dict(props.get("Environment", {}).get("Variables", {})),
            memory_size=int(prop("MemorySize", _LAMBDA_DEFAULT_MEMORY_MB)),
            timeout=int(prop("Timeout", _LAMBDA_DEFAULT_TIMEOUT_S)),
        )
    return specs


def _the_api(template: dict) -> dict:
    """The properties of the template's one AWS::Serverless::Api (the local gateway serves one)."""
    apis = resources_of_type(template, "AWS::Serverless::Api")
    if len(apis) > 1:
        raise ValueError(f"the local gateway serves one AWS::Serverless::Api, the template has {list(apis)}")
    return next(iter(apis.values()), {}).get("Properties", {})


def api_stage(template: dict) -> str:
    return _the_api(template).get("StageName", "Prod")


def binary_media_types(template: dict) -> list[str]:
    """The API's BinaryMediaTypes as media types ("~1" is how a template spells "/")."""
    return [media.replace("~1", "/").lower() for media in _the_api(template).get("BinaryMediaTypes", [])]


def api_routes(template: dict) -> list[Route]:
    default_authorizer = _the_api(template).get("Auth", {}).get("DefaultAuthorizer")
    routes = []
    for function_id, resource in resources_of_type(template, "AWS::Serverless::Function").items():
        for event_id, event in resource.get("Properties", {}).get("Events", {}).items():
            if event.get("Type") != "Api":
                continue
            props = event["Properties"]
            chosen = props.get("Auth", {}).get("Authorizer", default_authorizer)
            if chosen not in (None, "NONE", default_authorizer):
                raise ValueError(f"{function_id}.{event_id}: only the API's DefaultAuthorizer is supported")
            routes.append(
                Route(
                    function_id=function_id,
                    method=props["Method"].upper(),
                    path=props["Path"],
                    authorized=chosen not in (None, "NONE"),
                )
            )
    return routes


def authorizer(template: dict) -> AuthorizerSpec | None:
    auth = _the_api(template).get("Auth", {})
    name = auth.get("DefaultAuthorizer")
    if name is None:
        return None
    spec = auth["Authorizers"][name]
    if spec.get("FunctionPayloadType", "TOKEN") != "REQUEST":
        raise ValueError(f"authorizer {name}: the local gateway implements REQUEST authorizers only")
    function_arn = spec["FunctionArn"]
    # The function, or its AutoPublishAlias (SAM's `!Ref <Function>.Alias`): locally the same code.
    if isinstance(function_arn, dict) and "Fn::GetAtt" in function_arn:
        function_id = function_arn["Fn::GetAtt"][0]
    elif isinstance(function_arn, dict) and str(function_arn.get("Ref", "")).endswith(".Alias"):
        function_id = function_arn["Ref"].removesuffix(".Alias")
    else:
        raise ValueError(
            f"authorizer {name}: FunctionArn must be !GetAtt <Function>.Arn or !Ref <Function>.Alias"
        )
    identity = spec.get("Identity", {})
    return AuthorizerSpec(
        function_id=function_id,
        identity_headers=list(identity.get("Headers", [])),
        identity_query_strings=list(identity.get("QueryStrings", [])),
        reauthorize_every=int(identity.get("ReauthorizeEvery", 300)),
    )


def gateway_responses(template: dict) -> dict[str, GatewayResponseSpec]:
    responses = {}
    for response_type, spec in _the_api(template).get("GatewayResponses", {}).items():
        templates = spec.get("ResponseTemplates", {})
        headers = spec.get("ResponseParameters", {}).get("Headers", {})
        responses[response_type] = GatewayResponseSpec(
            status=int(spec["StatusCode"]),
            body=templates.get("application/json", ""),
            # SAM header values are API Gateway literals: quoted, e.g. "'*'".
            headers={name: value.strip("'") for name, value in headers.items()},
        )
    return responses


# --- intrinsic functions ----------------------------------------------------------------------


def pseudo_parameters(region: str, account_id: str = DEFAULT_ACCOUNT_ID, stack_name: str = "fincert-local"):
    return {
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": stack_name,
        "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/local",
        "AWS::NoValue": None,
    }


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def resolve(value: Any, refs: dict[str, str], attrs: dict[tuple[str, str], str], parameters: dict) -> Any:
    """Evaluate Ref / Fn::GetAtt / Fn::Sub / Fn::Join in a template value.

    `parameters` holds the template parameters and the pseudo parameters (AWS::Region ...);
    `refs` maps resource logical ids to physical ids, `attrs` (logical id, attribute) to values.
    """

    def ref(name: str) -> Any:
        for table in (parameters, refs):
            if name in table:
                return table[name]
        raise KeyError(f"unresolvable Ref {name!r}")

    def get_att(resource: str, attribute: str) -> Any:
        try:
            return attrs[(resource, attribute)]
        except KeyError:
            raise KeyError(f"unresolvable Fn::GetAtt {resource}.{attribute}") from None

    def sub(text: str, variables: dict) -> str:
        def one(match: re.Match) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} is the escape for a literal ${Literal}
                return "${" + name[1:] + "}"
            if name in variables:
                return str(resolve(variables[name], refs, attrs, parameters))
            if "." in name and name not in parameters:
                return str(get_att(*name.split(".", 1)))
            return str(ref(name))

        return _SUB_VARIABLE.sub(one, text)

    if isinstance(value, list):
        return [resolve(item, refs, attrs, parameters) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        [(key, arg)] = value.items()
        if key == "Ref":
            return ref(arg)
        if key == "Fn::GetAtt":
            resource, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
            return get_att(resource, attribute)
        if key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else arg
            return sub(text, variables)
        if key == "Fn::Join":
            delimiter, items = arg
            return delimiter.join(str(item) for item in resolve(items, refs, attrs, parameters))
        if key.startswith("Fn::"):
            raise NotImplementedError(f"{key} is not supported by fincert_local.template.resolve")
    return {key: resolve(item, refs, attrs, parameters) for key, item in value.items()}
