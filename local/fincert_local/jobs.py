"""Run the daily jobs on demand, as AWS would: the planner with an EventBridge scheduled event,
then the worker with SQS-shaped events built from the messages the planner put on the queue
(read back from moto), deleting what the worker did not report as failed (Lambda's event source
mapping with ReportBatchItemFailures). Used by `python -m fincert_local run-job` and the tests.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from fincert_local.gateway import Gateway
from fincert_local.state import DEFAULT_STATE, load_state
from fincert_local.template import load_template, repo_root


@dataclass(frozen=True)
class JobFunctions:
    planner: str
    worker: str
    queue_url_variable: str


JOBS: dict[str, JobFunctions] = {
    "renewal": JobFunctions("RenewalPlannerFunction", "RenewalWorkerFunction", "RENEWAL_QUEUE_URL"),
    "purge": JobFunctions("PurgePlannerFunction", "PurgeWorkerFunction", "PURGE_QUEUE_URL"),
}


def scheduled_event(function_id: str, region: str, at: datetime | None = None) -> dict[str, Any]:
    """What EventBridge hands a scheduled function."""
    at = at or datetime.now(UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:123456789012:rule/fincert-{function_id}Daily"],
        "detail": {},
    }


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda's SQS event source mapping builds from received messages."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


@dataclass
class DrainReport:
    batches: int = 0
    messages: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)  # message bodies the worker failed


def drain(gateway: Gateway, job: str, region: str, max_batches: int = 10_000) -> DrainReport:
    """Feeds the job's queue to its worker, 10 messages per invocation, until the queue is empty.
    Failed messages stay on the queue, invisible for its visibility timeout, as on AWS."""
    functions = JOBS[job]
    sqs = boto3.client("sqs", region_name=region)
    url = os.environ[functions.queue_url_variable]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    report = DrainReport()
    for _ in range(max_batches):
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            break
        result = gateway.invoke(functions.worker, sqs_event(messages, arn, region))
        failed_ids = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed_ids]
        if done:  # at most 10: one receive's worth
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        report.batches += 1
        report.messages += len(messages)
        report.failed += [json.loads(m["Body"]) for m in messages if m["MessageId"] in failed_ids]
    return report


def run_job(gateway: Gateway, job: str, region: str, at: datetime | None = None) -> dict[str, Any]:
    """Planner, then the worker until the queue is drained."""
    functions = JOBS[job]
    planned = gateway.invoke(functions.planner, scheduled_event(functions.planner, region, at))
    drained = drain(gateway, job, region)
    return {
        "planned": planned,
        "worker_batches": drained.batches,
        "messages": drained.messages,
        "failed": drained.failed,
    }


# --- `python -m fincert_local run-job` --------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("job", choices=sorted(JOBS), help="which daily job")
    parser.add_argument("--state", type=Path, help="the running stack's state file (default: make local's)")


def run(args: argparse.Namespace) -> int:
    state = load_state(args.state or DEFAULT_STATE)
    if state is None:
        return 2
    os.environ.update(state["environment"])  # moto's endpoint, credentials, the template's variables
    gateway = Gateway(load_template(), repo_root(), region=state["region"])
    # The handlers' log lines go to stderr (their loggers bind to the stdout of the moment they
    # are imported, which is inside this block), so stdout carries only the result.
    with contextlib.redirect_stdout(sys.stderr):
        result = run_job(gateway, args.job, state["region"])
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 1 if result["failed"] else 0
