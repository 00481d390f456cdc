"""`python -m fincert_local run-job` fires a daily job in the running local stack as EventBridge
would, and drains the job's SQS queue into its worker (README: "Daily jobs")."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import boto3
import pytest
from boto3.dynamodb.conditions import Attr
from fincert.adapters.dynamodb import keys
from fincert.clock import kst_date

from tests.support.customers import issue
from tests.support.people import new_enrollment
from tests.support.stack import REPO, RunningStack

pytestmark = pytest.mark.e2e


def run_job(stack: RunningStack, job: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "fincert_local", "run-job", job, "--state", str(stack.state_file)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_run_job_renews_a_due_certificate_in_the_local_stack(stack):
    body, phone = new_enrollment(auto_renew=True)
    issued = issue(stack, body)
    table = boto3.resource("dynamodb", endpoint_url=stack.moto_url, region_name=stack.region).Table(
        stack.table_name
    )
    [credential] = table.scan(
        FilterExpression=Attr("sk").eq(keys.CREDENTIAL_PREFIX + issued["credential_id"])
    )["Items"]
    # Three years on, in one step: its renewal window opens today.
    _, account_id, credential_id = credential["due_sk"].split("#")
    today = kst_date(datetime.now(UTC)).isoformat()
    table.update_item(
        Key=keys.credential(account_id, credential_id).as_dict(),
        UpdateExpression="SET due_sk = :due",
        ExpressionAttributeValues={":due": f"{today}#{account_id}#{credential_id}"},
    )

    result = run_job(stack, "renewal")
    assert result["planned"]["by_kind"].get("renew", 0) >= 1 and result["failed"] == []
    account = table.get_item(Key=keys.account(account_id).as_dict())["Item"]
    assert account["active_credential_id"] != issued["credential_id"], "renewed"
    texts = stack.get("/_local/sms", params={"phone": phone}).json()["messages"]
    assert any("자동 갱신" in text for text in texts)


def test_run_job_purge_runs_with_nothing_due(stack):
    result = run_job(stack, "purge")
    assert result["planned"]["complete"] is True and result["failed"] == []
