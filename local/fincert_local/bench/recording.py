"""Counting AWS round trips in this process: botocore's calls, by the Lambda function making them.

botocore_recorder() patches botocore's client while it is open; recording() collects the calls
made in the current context (not moto's server threads) while it is open; an AttributingGateway
notes which function each call comes from.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fincert_local.gateway import Gateway

_CURRENT_FUNCTION: contextvars.ContextVar[str | None] = contextvars.ContextVar("bench_function", default=None)
_RECORDING: contextvars.ContextVar[list | None] = contextvars.ContextVar("bench_recording", default=None)


@dataclass(frozen=True)
class Call:
    function_id: str | None  # which Lambda function made it
    operation: str  # "dynamodb.GetItem"


class AttributingGateway(Gateway):
    """The local gateway, noting which function each AWS call comes from (so the authorizer's
    calls can be told apart from the handler's)."""

    def invoke(self, function_id: str, event: dict) -> Any:
        token = _CURRENT_FUNCTION.set(function_id)
        try:
            return super().invoke(function_id, event)
        finally:
            _CURRENT_FUNCTION.reset(token)


@contextlib.contextmanager
def botocore_recorder() -> Iterator[None]:
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def _make_api_call(self: Any, operation_name: str, api_params: dict) -> Any:
        recording = _RECORDING.get()  # None in every thread but the one measuring (moto's server)
        if recording is not None:
            recording.append(
                Call(_CURRENT_FUNCTION.get(), f"{self.meta.service_model.service_name}.{operation_name}")
            )
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = _make_api_call
    try:
        yield
    finally:
        BaseClient._make_api_call = original


@contextlib.contextmanager
def recording() -> Iterator[list[Call]]:
    """The calls made in this context while open (inside a botocore_recorder())."""
    calls: list[Call] = []
    token = _RECORDING.set(calls)
    try:
        yield calls
    finally:
        _RECORDING.reset(token)


@contextlib.contextmanager
def recording_calls() -> Iterator[list[Call]]:
    """recording() with its own botocore_recorder()."""
    with recording() as calls, botocore_recorder():
        yield calls
