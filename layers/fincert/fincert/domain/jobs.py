"""The daily jobs' fan-out: a planner (the scheduled function) queries the sparse `due` index
for what is due and enqueues one message per entry on the job's SQS queue; workers (SQS-triggered)
act on each entry. Nothing here scans: each query returns only due entries.

A planner short of time hands each unfinished query (with the key it stopped at) to the workers
as a "plan" message, so planning resumes on SQS instead of starting over tomorrow. Entries stay
in `due` until acted on, so whatever fails (a worker fault, a message that reaches the DLQ) is
planned again by the next day's run; every worker step is conditional, so a duplicate message
changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

from fincert.domain.job_records import DueEntry
from fincert.domain.metrics import JOB_KINDS, JOB_RESULTS, NO_METRICS
from fincert.domain.stores import DueEntries
from fincert.errors import FincertError
from fincert.ports import JobQueue, Metrics

PAGE = 100  # entries per query (and per planner time check)
RESERVE_MS = 30_000  # stop this long before Lambda's time limit: one page and its sends fit
PLAN = "plan"


@dataclass(frozen=True)
class PlanTask:
    kind: str  # what a worker does with each entry
    due_pk: str
    before: str  # due_sk upper bound, exclusive
    start_key: dict[str, str] | None = None  # where a previous planner stopped


@dataclass
class PlanReport:
    enqueued: int = 0
    items_read: int = 0  # `due` entries the queries returned: the cost of finding the work
    handed_over: int = 0  # queries left to the workers (time ran out)
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.handed_over == 0


class TimeBudgetExhausted(FincertError):
    """Lambda's time limit is near: this message goes back to the queue for another worker."""

    code = "time_budget_exhausted"


class Job(Protocol):
    def tasks(self) -> list[PlanTask]:
        """The queries of what is due now."""
        ...

    def handlers(self) -> Mapping[str, Callable[[DueEntry], str]]:
        """kind -> act on one entry, returning an outcome name (no personal data)."""
        ...


def plan(
    store: DueEntries,
    queue: JobQueue,
    tasks: Sequence[PlanTask],
    *,
    time_left_ms: Callable[[], int] = lambda: 10**9,
    reserve_ms: int = RESERVE_MS,
) -> PlanReport:
    report = PlanReport()
    for index, task in enumerate(tasks):
        start_key = task.start_key
        while True:
            if time_left_ms() < reserve_ms:
                rest = [replace(task, start_key=start_key), *tasks[index + 1 :]]
                queue.send([{"kind": PLAN, "task": asdict(t)} for t in rest])
                report.handed_over = len(rest)
                return report
            page = store.query_due(task.due_pk, task.before, PAGE, start_key)
            report.items_read += len(page.entries)
            if page.entries:
                queue.send([{"kind": task.kind, "entry": asdict(entry)} for entry in page.entries])
                report.enqueued += len(page.entries)
                report.by_kind[task.kind] = report.by_kind.get(task.kind, 0) + len(page.entries)
            start_key = page.next_key
            if start_key is None:
                break
    return report


def work(
    job: Job,
    store: DueEntries,
    queue: JobQueue,
    message: Mapping[str, Any],
    *,
    time_left_ms: Callable[[], int] = lambda: 10**9,
    reserve_ms: int = RESERVE_MS,
    metrics: Metrics = NO_METRICS,
) -> str:
    """Acts on one queued message; raises to have it retried (the queue redelivers it). Each
    message is counted as done or failed (JobResults) by its kind."""
    kind = message.get("kind")
    job_kind = kind if kind in JOB_KINDS else "other"
    try:
        outcome = _work(job, store, queue, message, time_left_ms=time_left_ms, reserve_ms=reserve_ms)
    except Exception:
        metrics.count(JOB_RESULTS, Job=job_kind, Result="failed")
        raise
    metrics.count(JOB_RESULTS, Job=job_kind, Result="done")
    return outcome


def _work(
    job: Job,
    store: DueEntries,
    queue: JobQueue,
    message: Mapping[str, Any],
    *,
    time_left_ms: Callable[[], int],
    reserve_ms: int,
) -> str:
    if time_left_ms() < reserve_ms:
        raise TimeBudgetExhausted("not enough time left for this message")
    kind = message["kind"]
    if kind == PLAN:
        report = plan(
            store, queue, [PlanTask(**message["task"])], time_left_ms=time_left_ms, reserve_ms=reserve_ms
        )
        return f"planned {report.enqueued}"
    handler = job.handlers().get(kind)
    if handler is None:
        # Not retryable: redelivering it would fail the same way until the DLQ takes it.
        raise ValueError(f"unknown job message kind {kind!r}")
    return handler(DueEntry(**message["entry"]))
