"""SQS: the only code that talks to SQS. The scheduled jobs' planners enqueue work here."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fincert.adapters.aws_errors import aws_call
from fincert.errors import ServiceUnavailable

_BATCH = 10  # SendMessageBatch's limit
_ATTEMPTS = 3


class SqsJobQueue:
    def __init__(self, client: Callable[[], Any], queue_url: str):
        self._client = client
        self._url = queue_url

    def send(self, messages: Sequence[Mapping[str, object]]) -> None:
        for start in range(0, len(messages), _BATCH):
            pending = {
                str(i): json.dumps(message, separators=(",", ":"))
                for i, message in enumerate(messages[start : start + _BATCH])
            }
            for _ in range(_ATTEMPTS):
                entries = [{"Id": i, "MessageBody": body} for i, body in pending.items()]
                with aws_call("SQS"):
                    response = self._client().send_message_batch(QueueUrl=self._url, Entries=entries)
                # A batch can half succeed: send again only what failed.
                pending = {f["Id"]: pending[f["Id"]] for f in response.get("Failed", [])}
                if not pending:
                    break
            if pending:
                raise ServiceUnavailable("SQS refused messages, retry later", retry_after=1)
