"""Helpers for the daily jobs' tests: run a job as AWS would (planner on a schedule event, then
the worker fed the SQS messages the planner enqueued in moto), Seoul wall-clock moments, and the
SMS the jobs sent. The table is read with tests.support.table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fincert.clock import KST
from fincert_local.gateway import recorded_sms
from fincert_local.jobs import run_job

from tests.support.in_process import REGION


def run(gateway, job: str) -> dict:
    result = run_job(gateway, job, REGION)
    return result


def kst(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A Seoul wall-clock moment, as the UTC instant the clock returns."""
    return datetime(year, month, day, hour, minute, second, tzinfo=KST).astimezone(UTC)


def sms_to(phone: str, containing: str) -> list[str]:
    return [text for text in recorded_sms(phone, REGION) if containing in text]


def outcomes(result: dict) -> dict[str, int]:
    return result["planned"]["by_kind"]


DAY = timedelta(days=1)
