"""SMS through SNS: the only code that talks to SNS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from fincert.adapters.aws_errors import aws_call, error_code
from fincert.errors import InvalidRequest

_UNDELIVERABLE = frozenset({"InvalidParameter", "InvalidParameterValue", "OptedOut", "AuthorizationError"})


class SnsSmsSender:
    def __init__(self, client: Callable[[], Any], sender_id: str = "FINCERT"):
        self._client = client
        self._sender_id = sender_id

    def send_sms(self, phone_e164: str, text: str) -> None:
        try:
            self._publish(phone_e164, text)
        except ClientError as e:
            # SNS refuses this number (opted out, not deliverable, or not verified while the
            # account is in the SMS sandbox): the client's input decides it, so a 4xx, not a 5xx.
            if error_code(e) in _UNDELIVERABLE:
                raise InvalidRequest(
                    "SMS cannot be delivered to this number", code="phone_unreachable"
                ) from e
            raise

    def _publish(self, phone_e164: str, text: str) -> None:
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
