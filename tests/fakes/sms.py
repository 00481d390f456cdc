"""An in-memory SmsSender implementing fincert.ports.SmsSender, for domain unit tests."""

from __future__ import annotations

import re
import threading

from fincert.errors import ServiceUnavailable

_CODE = re.compile(r"\[(\d{6})\]")


class FakeSms:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: list[BaseException] = []
        self.sent: list[tuple[str, str]] = []  # (phone in E.164, text), in sending order

    # --- test control ------------------------------------------------------------------------
    def fail_next(self, exc: BaseException | None = None) -> None:
        """The next send raises (ServiceUnavailable, as the SNS adapter would) and sends nothing."""
        with self._lock:
            self._failures.append(exc or ServiceUnavailable("SMS gateway unavailable", retry_after=1))

    def texts(self, phone_e164: str) -> list[str]:
        with self._lock:
            return [text for phone, text in self.sent if phone == phone_e164]

    def last_code(self, phone_e164: str) -> str:
        """The 6-digit code between brackets in the last SMS sent to this phone."""
        texts = self.texts(phone_e164)
        if not texts:
            raise AssertionError(f"no SMS sent to {phone_e164}")
        match = _CODE.search(texts[-1])
        if match is None:
            raise AssertionError(f"no [6-digit] code in the last SMS to {phone_e164}")
        return match.group(1)

    # --- SmsSender ---------------------------------------------------------------------------
    def send_sms(self, phone_e164: str, text: str) -> None:
        with self._lock:
            if self._failures:
                raise self._failures.pop(0)
            self.sent.append((phone_e164, text))
