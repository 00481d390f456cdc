"""What the load command's two modes share (load.py and mixed.py): threads for a bounded time,
percentiles, a process's RSS, a client of the stack's DynamoDB."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


def run_threads(work: Callable[[int, float], None], clients: int, seconds: float) -> float:
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=work, args=(i, until), daemon=True) for i in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - started


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def dynamodb_client(state: dict) -> Any:
    import boto3

    env = state["environment"]
    return boto3.client(
        "dynamodb",
        endpoint_url=state["moto_url"],
        region_name=state["region"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
