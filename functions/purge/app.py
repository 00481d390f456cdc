"""Daily idle purge (fincert.domain.purge): `plan` runs on the EventBridge schedule and
enqueues what is due; `work` is triggered by the purge queue."""

from typing import Any

from aws_lambda_powertools import Logger
from fincert.scheduled import queue_url, run_planner, run_worker
from fincert.wiring import services

logger = Logger(service="fincert")


def _queue():
    svc = services()
    return svc.job_queue(queue_url(svc.settings.purge_queue_url, "PURGE_QUEUE_URL"))


@logger.inject_lambda_context(clear_state=True)
def plan(event: dict[str, Any], context: Any) -> dict[str, Any]:
    svc = services()
    return run_planner(svc.purge_job, svc.store, _queue(), context, logger)


@logger.inject_lambda_context(clear_state=True)
def work(event: dict[str, Any], context: Any) -> dict[str, Any]:
    svc = services()
    return run_worker(svc.purge_job, svc.store, _queue(), event, context, logger)
