"""Lambda glue shared by the daily jobs' functions (functions/renewal, functions/purge): the
scheduled planner and the SQS worker, made by one factory (job_handlers) so each function's
app.py is one line.

The worker reports failures per message (Powertools batch utilities -> ReportBatchItemFailures):
one entry failing does not fail the batch, and only it is redelivered (then the DLQ; the entry
also stays in `due` for the next day's planner)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from fincert.domain.jobs import Job, plan, work
from fincert.domain.metrics import NO_METRICS
from fincert.domain.stores import DueEntries
from fincert.errors import ConfigurationError
from fincert.ports import JobQueue, Metrics

if TYPE_CHECKING:
    from fincert.settings import Settings
    from fincert.wiring import Services

PlanHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
WorkHandler = Callable[[dict[str, Any], Any], PartialItemFailureResponse]


def run_planner(job: Job, store: DueEntries, queue: JobQueue, context: Any, logger: Logger) -> dict[str, Any]:
    report = plan(store, queue, job.tasks(), time_left_ms=context.get_remaining_time_in_millis)
    summary = {
        "enqueued": report.enqueued,
        "items_read": report.items_read,
        "by_kind": report.by_kind,
        "handed_over": report.handed_over,
        "complete": report.complete,
    }
    logger.info("due entries planned", extra=summary)
    return summary


def run_worker(
    job: Job,
    store: DueEntries,
    queue: JobQueue,
    event: dict[str, Any],
    context: Any,
    logger: Logger,
    metrics: Metrics = NO_METRICS,
) -> PartialItemFailureResponse:
    def handle(record: SQSRecord) -> str:
        message = json.loads(record.body)
        try:
            outcome = work(
                job,
                store,
                queue,
                message,
                time_left_ms=context.get_remaining_time_in_millis,
                metrics=metrics,
            )
        except Exception as e:
            # Keys of the entry only (account/credential ids): never personal data.
            logger.warning(
                "job entry failed",
                extra={"kind": message.get("kind"), "entry": message.get("entry"), "error": type(e).__name__},
            )
            raise
        logger.info(
            "job entry done",
            extra={"kind": message["kind"], "entry": message.get("entry"), "outcome": outcome},
        )
        return outcome

    return process_partial_response(
        event=event,
        record_handler=handle,
        # A batch where every message failed is reported like any other (each one redelivered),
        # not raised: the answer Lambda gets is the same, the log says which entries failed.
        processor=BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False),
        context=context,
    )


def queue_url(url: str, name: str) -> str:
    if not url:
        raise ConfigurationError(f"{name} is not set")
    return url


# job name -> (the job, its queue's URL in the settings, that setting's environment variable)
_JOBS: dict[str, tuple[Callable[[Services], Job], Callable[[Settings], str], str]] = {
    "renewal": (lambda svc: svc.renewal_job, lambda s: s.renewal_queue_url, "RENEWAL_QUEUE_URL"),
    "purge": (lambda svc: svc.purge_job, lambda s: s.purge_queue_url, "PURGE_QUEUE_URL"),
}


def job_handlers(name: str) -> tuple[PlanHandler, WorkHandler]:
    """The `plan` handler (on the EventBridge schedule: enqueues what is due) and the `work`
    handler (on the job's SQS queue) of one daily job."""
    from fincert.wiring import services

    job_of, queue_url_of, queue_env = _JOBS[name]
    logger = Logger(service="fincert")

    def queue(svc: Services) -> JobQueue:
        return svc.job_queue(queue_url(queue_url_of(svc.settings), queue_env))

    @logger.inject_lambda_context(clear_state=True)
    def plan(event: dict[str, Any], context: Any) -> dict[str, Any]:
        svc = services()
        return run_planner(job_of(svc), svc.store, queue(svc), context, logger)

    @logger.inject_lambda_context(clear_state=True)
    def work(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
        svc = services()
        return run_worker(job_of(svc), svc.store, queue(svc), event, context, logger, svc.metrics)

    return plan, work
