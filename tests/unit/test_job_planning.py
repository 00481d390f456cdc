"""The jobs' planner and worker (fincert.domain.jobs) with an in-memory index and queue: what
is read, what is enqueued, and how a planner short of time hands over and resumes."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from fincert.adapters.dynamodb import keys
from fincert.domain import jobs
from fincert.domain.job_records import DueEntry, DuePage
from fincert.domain.jobs import PLAN, PlanTask, TimeBudgetExhausted, plan, work


class Index:
    """due_pk -> sorted due entries; pages like DynamoDB (Limit, ExclusiveStartKey)."""

    def __init__(self, entries: list[DueEntry]):
        self.entries = sorted(entries, key=lambda e: (e.due_pk, e.due_sk))
        self.queries = 0

    def query_due(self, due_pk, before, limit, start_key=None):
        self.queries += 1
        matching = [e for e in self.entries if e.due_pk == due_pk and e.due_sk < before]
        if start_key:
            matching = [e for e in matching if e.due_sk > start_key["due_sk"]]
        page = matching[:limit]
        more = len(matching) > limit
        return DuePage(page, {"due_pk": due_pk, "due_sk": page[-1].due_sk} if more else None)


class Queue:
    def __init__(self):
        self.messages: list[dict] = []

    def send(self, messages):
        self.messages += list(messages)


def entries(due_pk: str, days: list[str]) -> list[DueEntry]:
    return [DueEntry(due_pk, f"{day}#acct_{i}", *keys.account(f"acct_{i}")) for i, day in enumerate(days)]


def test_only_due_entries_are_read_and_each_is_enqueued_once():
    index = Index(
        entries("idle#0", ["2026-01-01", "2026-01-02", "2026-06-01"]) + entries("idle#1", ["2026-01-03"])
    )
    queue = Queue()
    report = plan(
        index, queue, [PlanTask("warn", "idle#0", "2026-02-01"), PlanTask("warn", "idle#1", "2026-02-01")]
    )
    assert (report.items_read, report.enqueued, report.complete) == (3, 3, True)
    assert [m["entry"]["due_sk"][:10] for m in queue.messages] == ["2026-01-01", "2026-01-02", "2026-01-03"]
    assert all(m["kind"] == "warn" for m in queue.messages)


def test_a_planner_out_of_time_hands_over_where_it_stopped_and_a_worker_resumes(monkeypatch):
    monkeypatch.setattr(jobs, "PAGE", 2)
    index = Index(entries("renew#0", [f"2026-01-{d:02d}" for d in range(1, 6)]))
    queue = Queue()
    budget = iter([10**9, 0])  # one page, then Lambda's end is near
    task = PlanTask("renew", "renew#0", "2026-12-31")
    report = plan(
        index, queue, [task, PlanTask("renew", "renew#1", "2026-12-31")], time_left_ms=lambda: next(budget)
    )

    assert (report.enqueued, report.handed_over) == (2, 2)
    handed = [m for m in queue.messages if m["kind"] == PLAN]
    assert handed[0]["task"]["start_key"] == {"due_pk": "renew#0", "due_sk": "2026-01-02#acct_1"}
    assert handed[1]["task"] == asdict(PlanTask("renew", "renew#1", "2026-12-31"))

    class Job:
        def handlers(self):
            return {}

    for message in handed:
        work(Job(), index, queue, message)
    enqueued = [m["entry"]["due_sk"][:10] for m in queue.messages if m["kind"] == "renew"]
    assert enqueued == [f"2026-01-{d:02d}" for d in range(1, 6)], "every entry once, in order"


def test_a_worker_out_of_time_touches_nothing():
    acted = []

    class Job:
        def handlers(self):
            return {"renew": acted.append}

    message = {"kind": "renew", "entry": asdict(entries("renew#0", ["2026-01-01"])[0])}
    with pytest.raises(TimeBudgetExhausted):
        work(Job(), Index([]), Queue(), message, time_left_ms=lambda: 1_000)
    assert acted == []
