"""Powertools' event handler, made safe for the local gateway's threads (local only, never deployed).

`ApiGatewayResolver.resolve` keeps the event being handled, and its Lambda context, in class
attributes of `BaseRouter` (`BaseRouter.current_event = ...`): one value for the whole process.
On Lambda that is safe, since a process handles one event at a time. The local gateway handles
requests on parallel threads in one process, so two requests in flight, in any two functions,
read each other's event: the mixed load (fincert_local.mixed) saw a wrong PIN answered 200 because
its request was judged with another customer's body, and devices registered on the wrong account.

apply() makes those two attributes per thread (each request runs on a thread of its own): the
class attributes become data descriptors backed by a threading.local, and the module's own name
`BaseRouter`, which its code writes them through, becomes a proxy that sends those two writes to
the descriptors and everything else to the class. Each warm container still serves one event at a
time (the gateway's pool of containers), so the per-app state Powertools keeps on the resolver
instance (its `context`, ...) is never shared either.
"""

from __future__ import annotations

import threading
from typing import Any

PER_INVOCATION = ("current_event", "lambda_context")
_applied = False
_lock = threading.Lock()


class _PerThread:
    """A data descriptor whose value is the current thread's own."""

    def __init__(self) -> None:
        self._local = threading.local()

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        return getattr(self._local, "value", None)

    def __set__(self, obj: Any, value: Any) -> None:
        self._local.value = value


class _ClassProxy:
    """Stands for BaseRouter in api_gateway's module globals: writes and reads of the per-invocation
    attributes go to the per-thread descriptors, everything else to the class itself."""

    def __init__(self, cls: type, per_thread: dict[str, _PerThread]) -> None:
        object.__setattr__(self, "_cls", cls)
        object.__setattr__(self, "_per_thread", per_thread)

    def __getattr__(self, name: str) -> Any:
        per_thread = object.__getattribute__(self, "_per_thread")
        if name in per_thread:
            return per_thread[name].__get__(None)
        return getattr(object.__getattribute__(self, "_cls"), name)

    def __setattr__(self, name: str, value: Any) -> None:
        per_thread = object.__getattribute__(self, "_per_thread")
        if name in per_thread:
            per_thread[name].__set__(None, value)
        else:
            setattr(object.__getattribute__(self, "_cls"), name, value)


def apply() -> None:
    """Idempotent; call before any request is served."""
    global _applied
    with _lock:
        if _applied:
            return
        from aws_lambda_powertools.event_handler import api_gateway

        cls = api_gateway.BaseRouter
        per_thread = {name: _PerThread() for name in PER_INVOCATION}
        for name, descriptor in per_thread.items():
            setattr(cls, name, descriptor)
        api_gateway.BaseRouter = _ClassProxy(cls, per_thread)  # type: ignore[misc]
        _applied = True
