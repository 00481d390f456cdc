"""What a deployed stack tells the operator's CLI: its outputs, parameters and resources
(CloudFormation DescribeStacks / ListStackResources). Knows no setting names: fincert.admin_target
maps them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from fincert.adapters.aws_errors import error_code
from fincert.errors import NotFound


@dataclass(frozen=True)
class StackDescription:
    name: str
    region: str
    outputs: dict[str, str]
    parameters: dict[str, str]
    # Logical id -> physical id; read only when asked (one more call per 100 resources).
    resources: dict[str, str] = field(default_factory=dict)


def describe_stack(client: Any, stack_name: str, *, with_resources: bool = False) -> StackDescription:
    """The stack's outputs and parameters (and resources); NotFound stack_not_found when there is
    no such stack in the client's region."""
    try:
        stacks = client.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as e:
        if error_code(e) == "ValidationError" and "does not exist" in str(e):
            raise NotFound(
                f"no stack {stack_name} in {client.meta.region_name}", code="stack_not_found"
            ) from None
        raise
    stack = stacks[0]
    resources: dict[str, str] = {}
    if with_resources:
        for page in client.get_paginator("list_stack_resources").paginate(StackName=stack_name):
            for summary in page.get("StackResourceSummaries", []):
                if summary.get("PhysicalResourceId"):
                    resources[summary["LogicalResourceId"]] = summary["PhysicalResourceId"]
    return StackDescription(
        name=stack_name,
        region=client.meta.region_name,
        outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
        parameters={p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])},
        resources=resources,
    )
