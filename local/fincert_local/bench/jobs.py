"""The daily jobs' planners: DynamoDB items read to find what is due, per due item (docs/design.md:
<= 1.2 with 100,000 credentials of which 1% are due; the budget is in budgets.py).

Counted: the items the queries return (what DynamoDB bills and what the planner handles), not
moto's own walk of its index. The items are built with the table's key schema
(fincert.adapters.dynamodb.keys), loaded directly, and each planner is fired as EventBridge would.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from datetime import date, timedelta

from fincert_local.bench.budgets import JOBS_BUDGET
from fincert_local.bench.recording import recording_calls
from fincert_local.gateway import Gateway
from fincert_local.jobs import JOBS, scheduled_event

DEFAULT_JOBS_CREDENTIALS = 100_000
DUE_FRACTION = 0.01


def _bench_items(n: int, today: date, rng: random.Random) -> tuple[list[dict], dict[str, int]]:
    """n accounts, each with one active credential, in the shapes the jobs query: 1% of the
    credentials inside their renewal window (up to 3 days late: a missed run) and 1% of the
    accounts idle long enough to be warned or purged; the rest due some day in the next 3 years."""
    from fincert.adapters.dynamodb import keys
    from fincert.domain.schedule import IDLE_PERIOD, WARNING_NOTICE

    due = {"renewal": 0, "purge": 0}
    items: list[dict] = []
    due_every = round(1 / DUE_FRACTION)
    for i in range(n):
        account_id, credential_id = f"acct_bench{i:07d}", f"cred_bench{i:07d}"
        if i % due_every == 0:
            window_start = today - timedelta(days=rng.randrange(3))
            due["renewal"] += 1
        else:
            window_start = today + timedelta(days=1 + rng.randrange(3 * 365))
        kind = "renew" if rng.random() < 0.8 else "expiry"
        if i % due_every == due_every // 2:
            warned = rng.random() < 0.5
            idle_days = (IDLE_PERIOD if warned else IDLE_PERIOD - WARNING_NOTICE).days + rng.randrange(3)
            due["purge"] += 1
        else:
            warned, idle_days = rng.random() < 0.02, rng.randrange(300)
        last_used = (today - timedelta(days=idle_days)).isoformat()
        items.append(
            keys.account(account_id).as_dict()
            | {
                "last_used_day": last_used,
                "due_pk": keys.due_partition("idle-warned" if warned else "idle", account_id),
                "due_sk": f"{last_used}#{account_id}",
            }
            | ({"warned_on": (today - timedelta(days=31)).isoformat()} if warned else {})
        )
        items.append(
            keys.credential(account_id, credential_id).as_dict()
            | {
                "status": "active",
                "due_pk": keys.due_partition(kind, account_id),
                "due_sk": f"{window_start.isoformat()}#{account_id}#{credential_id}",
            }
        )
    return items, due


def _load(table: str, items: list[dict]) -> None:
    import boto3
    from boto3.dynamodb.types import TypeSerializer

    client = boto3.client("dynamodb")
    serialize = TypeSerializer().serialize
    for start in range(0, len(items), 25):
        pending = [
            {"PutRequest": {"Item": {k: serialize(v) for k, v in item.items()}}}
            for item in items[start : start + 25]
        ]
        while pending:
            response = client.batch_write_item(RequestItems={table: pending})
            pending = response.get("UnprocessedItems", {}).get(table, [])


class _LongestLambda:
    """A context with Lambda's longest timeout (15 minutes) ahead. moto walks the whole table for
    every index query (seconds per query at 200,000 items, where DynamoDB takes milliseconds):
    under the planner's own 300 s it would hand most of its queries over to the workers, which
    measures moto, not the planner."""

    function_name = "bench-planner"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:ap-northeast-2:123456789012:function:bench-planner"
    aws_request_id = "bench"

    def __init__(self) -> None:
        self._deadline = time.monotonic() + 15 * 60

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def measure_jobs(gateway: Gateway, region: str, credentials: int) -> dict:
    """Loads the table directly (BatchWriteItem), then fires each job's planner with a scheduled
    event and reads its report: items the `due` queries returned, entries enqueued."""
    import boto3
    from botocore.config import Config
    from fincert.adapters.clients import AwsClients
    from fincert.clock import kst_date
    from fincert.settings import get_settings
    from fincert.wiring import Services, services, use_services

    # The same reason as _LongestLambda: one moto index query outlasts the clients' 5 s timeout.
    use_services(Services(get_settings(), clients=AwsClients(config=Config(read_timeout=900))))
    svc = services()
    today = kst_date(svc.clock.now())
    items, due = _bench_items(credentials, today, random.Random(4))  # noqa: S311 - test data, repeatable
    started = time.perf_counter()
    _load(svc.settings.table_name, items)
    load_s = time.perf_counter() - started
    rows = []
    sqs = boto3.client("sqs")
    for job, job_functions in JOBS.items():
        with recording_calls() as calls:
            planner = gateway.handler(job_functions.planner)
            report = planner(scheduled_event(job_functions.planner, region), _LongestLambda())
        per_due = report["items_read"] / due[job] if due[job] else 0.0
        rows.append(
            {
                "job": job,
                "due": due[job],
                "enqueued": report["enqueued"],
                "items_read": report["items_read"],
                "items_read_per_due_item": round(per_due, 3),
                "budget": JOBS_BUDGET,
                "over_budget": per_due > JOBS_BUDGET or report["enqueued"] != due[job],
                "operations": dict(Counter(c.operation for c in calls)),
            }
        )
        # The fake entries are for the planners only: no worker acts on them.
        sqs.purge_queue(QueueUrl=os.environ[job_functions.queue_url_variable])
    use_services(None)
    return {
        "credentials": credentials,
        "accounts": credentials,
        "load_seconds": round(load_s, 1),
        "rows": rows,
    }
