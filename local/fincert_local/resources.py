"""Create template.yaml's DynamoDB tables, KMS keys and SQS queues in moto.

Plain boto3 clients, so the same code works in-process under `moto.mock_aws` and against a moto
server chosen by the standard AWS_ENDPOINT_URL variable. Tests build their tables and keys through
`create_resources`, which is what keeps them from drifting from the deployed infrastructure.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from fincert_local.template import functions, pseudo_parameters, resolve, resources_of_type

STACK_NAME = "fincert-local"


@dataclass
class LocalResources:
    template: dict
    region: str
    account_id: str
    parameters: dict[str, str]  # template parameters: defaults + overrides
    refs: dict[str, str] = field(default_factory=dict)  # logical id -> physical name / key id
    attrs: dict[tuple[str, str], str] = field(default_factory=dict)  # (logical id, "Arn") -> arn

    def resolve(self, value: Any) -> Any:
        names = {**pseudo_parameters(self.region, self.account_id, STACK_NAME), **self.parameters}
        return resolve(value, self.refs, self.attrs, names)

    def function_environment(self, function_id: str | None = None) -> dict[str, str]:
        """Globals.Function.Environment.Variables merged with the function's own, resolved.

        With no function_id: the variables of every function together, which is what one local
        process serving all handlers needs; a name two functions set differently cannot be served
        by one process, so that raises.
        """
        global_vars = self.template.get("Globals", {}).get("Function", {}).get("Environment", {})
        merged = dict(global_vars.get("Variables", {}))
        specs = functions(self.template)
        chosen = [specs[function_id]] if function_id else list(specs.values())
        seen: dict[str, tuple[str, Any]] = {}
        for spec in chosen:
            for name, value in spec.environment.items():
                if name in seen and seen[name][1] != value:
                    raise ValueError(f"{name} differs between {seen[name][0]} and {spec.logical_id}")
                seen[name] = (spec.logical_id, value)
                merged[name] = value
        return {name: _env_string(self.resolve(value)) for name, value in merged.items()}


def _env_string(value: Any) -> str:
    # CloudFormation hands Lambda strings only; YAML booleans become "true"/"false".
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def template_parameters(template: dict, overrides: dict[str, str] | None = None) -> dict[str, str]:
    declared = template.get("Parameters", {})
    overrides = dict(overrides or {})
    unknown = set(overrides) - set(declared)
    if unknown:
        raise ValueError(f"unknown template parameters: {sorted(unknown)}")
    values = {}
    for name, spec in declared.items():
        if name not in overrides and "Default" not in spec:
            raise ValueError(f"template parameter {name} has no default; pass it in parameter_overrides")
        value = str(overrides.get(name, spec.get("Default")))
        allowed = spec.get("AllowedValues")
        if allowed is not None and value not in [str(v) for v in allowed]:
            raise ValueError(f"template parameter {name}={value!r} not in {allowed}")
        values[name] = value
    return values


# One client per service for the whole template (clients: service name -> client).
Clients = Callable[[str], Any]


def _create_kms_key(res: LocalResources, logical_id: str, props: dict, clients: Clients) -> None:
    kms = clients("kms")
    # KeyPolicy is not applied: moto does not enforce key policies, so it would change nothing.
    metadata = kms.create_key(
        Description=res.resolve(props.get("Description", "")),
        KeySpec=props.get("KeySpec", "SYMMETRIC_DEFAULT"),
        KeyUsage=props.get("KeyUsage", "ENCRYPT_DECRYPT"),
    )["KeyMetadata"]
    if props.get("EnableKeyRotation"):
        kms.enable_key_rotation(KeyId=metadata["KeyId"])
    res.refs[logical_id] = metadata["KeyId"]
    res.attrs[(logical_id, "Arn")] = metadata["Arn"]
    res.attrs[(logical_id, "KeyId")] = metadata["KeyId"]


def _index(spec: dict, provisioned: bool) -> dict:
    index = {"IndexName": spec["IndexName"], "KeySchema": spec["KeySchema"], "Projection": spec["Projection"]}
    if provisioned and "ProvisionedThroughput" in spec:
        index["ProvisionedThroughput"] = _throughput(spec["ProvisionedThroughput"])
    return index


def _throughput(spec: dict) -> dict:
    return {name: int(spec[name]) for name in ("ReadCapacityUnits", "WriteCapacityUnits")}


def _create_dynamodb_table(res: LocalResources, logical_id: str, props: dict, clients: Clients) -> None:
    dynamodb = clients("dynamodb")
    name = res.resolve(props.get("TableName", f"{STACK_NAME}-{logical_id}"))
    billing = props.get("BillingMode", "PROVISIONED")
    provisioned = billing == "PROVISIONED"
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": billing,
    }
    if provisioned:
        request["ProvisionedThroughput"] = _throughput(props["ProvisionedThroughput"])
    if props.get("GlobalSecondaryIndexes"):
        request["GlobalSecondaryIndexes"] = [_index(i, provisioned) for i in props["GlobalSecondaryIndexes"]]
    if props.get("LocalSecondaryIndexes"):
        request["LocalSecondaryIndexes"] = [_index(i, False) for i in props["LocalSecondaryIndexes"]]
    stream = props.get("StreamSpecification")
    if stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    # SSE and point-in-time recovery are left out: they change nothing a local run can observe.
    description = dynamodb.create_table(**request)["TableDescription"]
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
        )
    res.refs[logical_id] = name
    res.attrs[(logical_id, "Arn")] = description["TableArn"]
    if "LatestStreamArn" in description:
        res.attrs[(logical_id, "StreamArn")] = description["LatestStreamArn"]


# SQS attributes the template may set, as CreateQueue takes them (strings; RedrivePolicy as JSON).
_SQS_ATTRIBUTES = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
)


def _create_sqs_queue(res: LocalResources, logical_id: str, props: dict, clients: Clients) -> None:
    sqs = clients("sqs")
    name = res.resolve(props.get("QueueName", f"{STACK_NAME}-{logical_id}"))
    attributes = {key: str(res.resolve(props[key])) for key in _SQS_ATTRIBUTES if key in props}
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = json.dumps(res.resolve(props["RedrivePolicy"]))
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    res.refs[logical_id] = url  # Ref of a queue is its URL
    res.attrs[(logical_id, "Arn")] = arn
    res.attrs[(logical_id, "QueueName")] = name
    res.attrs[(logical_id, "QueueUrl")] = url


def _create_sqs_queues(res: LocalResources, queues: dict[str, dict], clients: Clients) -> None:
    # A queue names its dead-letter queue (RedrivePolicy): those without one first.
    ordered = sorted(queues.items(), key=lambda item: "RedrivePolicy" in item[1].get("Properties", {}))
    for logical_id, resource in ordered:
        _create_sqs_queue(res, logical_id, resource.get("Properties", {}), clients)


# Creation order matters: a table may name a key (SSE), never the reverse. Types not listed
# (functions, layers, the API, schedules) are served by the gateway or not needed locally.
_CREATORS: dict[str, Callable[[LocalResources, str, dict, Clients], None]] = {
    "AWS::KMS::Key": _create_kms_key,
    "AWS::DynamoDB::Table": _create_dynamodb_table,
}


def create_resources(
    template: dict,
    *,
    region: str,
    parameter_overrides: dict[str, str] | None = None,
    session: boto3.Session | None = None,
) -> LocalResources:
    session = session or boto3.Session()
    # Creating a client costs milliseconds of CPU (the tests create these resources per test).
    clients: Clients = functools.cache(lambda service: session.client(service, region_name=region))
    account_id = clients("sts").get_caller_identity()["Account"]
    res = LocalResources(
        template=template,
        region=region,
        account_id=account_id,
        parameters=template_parameters(template, parameter_overrides),
    )
    for resource_type, create in _CREATORS.items():
        for logical_id, resource in resources_of_type(template, resource_type).items():
            create(res, logical_id, resource.get("Properties", {}), clients)
    _create_sqs_queues(res, resources_of_type(template, "AWS::SQS::Queue"), clients)
    return res
