"""Requests released at once against the running local stack, each on its own connection."""

from __future__ import annotations

import threading
from collections.abc import Callable

import requests

from tests.support.stack import RunningStack


def race(stack: RunningStack, calls: list[Callable[[requests.Session], requests.Response]]):
    """Runs every call on its own thread and its own connection, all released at once; the
    responses in call order. The connections are opened one by one beforehand: the local gateway
    (http.server, listen backlog 5) resets connections when dozens arrive at once, and an open
    keep-alive connection also makes the requests themselves start together."""
    sessions = []
    for _ in calls:
        http = requests.Session()
        assert http.get(stack.url + "/pki/chain.pem", timeout=30).status_code == 200
        sessions.append(http)
    barrier = threading.Barrier(len(calls))
    responses: list[requests.Response | BaseException | None] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            responses[i] = calls[i](sessions[i])
        except BaseException as e:  # reported below, with the others
            responses[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    for http in sessions:
        http.close()
    failed = [r for r in responses if not isinstance(r, requests.Response)]
    assert not failed, failed
    return responses
