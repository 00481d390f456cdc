"""Helpers for the daily jobs' tests: run a job as AWS would (planner on a schedule event, then
the worker fed the SQS messages the planner enqueued in moto) and read the table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fincert.clock import KST
from fincert.wiring import services
from fincert_local.gateway import recorded_sms
from fincert_local.jobs import run_job

from tests.conftest import REGION
from tests.integration.test_issuance_rules import table_items


def run(gateway, job: str) -> dict:
    result = run_job(gateway, job, REGION)
    return result


def kst(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A Seoul wall-clock moment, as the UTC instant the clock returns."""
    return datetime(year, month, day, hour, minute, second, tzinfo=KST).astimezone(UTC)


def items() -> list[dict]:
    return table_items(services())


def item(pk: str, sk: str) -> dict | None:
    return next((i for i in items() if i["pk"] == pk and i["sk"] == sk), None)


def account_of(credential_id: str) -> str:
    return next(i["pk"].removeprefix("ACCT#") for i in items() if i["sk"] == f"CRED#{credential_id}")


def credentials(account_id: str) -> dict[str, dict]:
    return {
        i["credential_id"]: i
        for i in items()
        if i["pk"] == f"ACCT#{account_id}" and i["sk"].startswith("CRED#")
    }


def active(account_id: str) -> list[str]:
    return [cid for cid, c in credentials(account_id).items() if c["status"] == "active"]


def serial_record(serial_hex: str) -> dict | None:
    return item(f"SERIAL#{serial_hex}", "SERIAL")


def sms_to(phone: str, containing: str) -> list[str]:
    return [text for text in recorded_sms(phone, REGION) if containing in text]


def outcomes(result: dict) -> dict[str, int]:
    return result["planned"]["by_kind"]


DAY = timedelta(days=1)
