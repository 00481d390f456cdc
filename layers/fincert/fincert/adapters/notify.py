"""SMS through SNS: the only code that talks to SNS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fincert.adapters.aws_errors import aws_call


class SnsSmsSender:
    def __init__(self, client: Callable[[], Any], sender_id: str = "FINCERT"):
        self._client = client
        self._sender_id = sender_id

    def send_sms(self, phone_e164: str, text: str) -> None:
        with aws_call("SNS"):
            self._client().publish(
                PhoneNumber=phone_e164,
                Message=text,
                MessageAttributes={
                    # Codes must arrive now or not at all: transactional, not promotional.
                    "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
                    "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": self._sender_id},
                },
            )
