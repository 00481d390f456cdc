"""Lambda glue shared by the daily jobs' functions (functions/renewal, functions/purge): the
scheduled planner and the SQS worker, so each function's app.py stays two lines per handler.

The worker reports failures per message (Powertools batch utilities -> ReportBatchItemFailures):
one entry failing does not fail the batch, and only it is redelivered (then the DLQ; the entry
also stays in `due` for the next day's planner)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from fincert.domain.jobs import Job, plan, work
from fincert.errors import ConfigurationError
from fincert.ports import JobQueue, Store


def run_planner(job: Job, store: Store, queue: JobQueue, context: Any, logger: Logger) -> dict[str, Any]:
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
    job: Job, store: Store, queue: JobQueue, event: dict[str, Any], context: Any, logger: Logger
) -> dict[str, Any]:
    def handle(record: SQSRecord) -> str:
        message = json.loads(record.body)
        try:
            outcome = work(job, store, queue, message, time_left_ms=context.get_remaining_time_in_millis)
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
