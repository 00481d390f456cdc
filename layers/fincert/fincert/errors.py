"""Domain errors. Each carries a stable machine-readable `code`; fincert.api.errors maps the
categories below to HTTP statuses (the only place that knows HTTP)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fincert.domain.account_records import Account
    from fincert.domain.enrollment_records import Enrollment
    from fincert.domain.session_records import Verification
    from fincert.domain.ticket_records import UiTicket


class FincertError(Exception):
    code = "internal_error"
    default_message = "internal error"

    def __init__(self, message: str | None = None, *, code: str | None = None, **details: Any):
        self.message = message or self.default_message
        if code:
            self.code = code
        self.details = details
        super().__init__(self.message)


class ConfigurationError(FincertError):
    code = "configuration_error"


# --- what the client did wrong (4xx) ---------------------------------------------------------
class InvalidRequest(FincertError):
    code = "invalid_request"
    default_message = "the request is invalid"


class WeakPin(InvalidRequest):
    """The PIN breaks the policy; `code` says which rule (pin_format, pin_repeated_digits, ...)."""

    code = "pin_weak"
    default_message = "the PIN is not allowed"


class PayloadTooLarge(InvalidRequest):
    code = "payload_too_large"
    default_message = "the request body is too large"


class UnsupportedMediaType(InvalidRequest):
    code = "unsupported_media_type"
    default_message = "send the body as application/json"


class Unauthenticated(FincertError):
    code = "unauthorized"
    default_message = "missing or invalid credentials"


class Forbidden(FincertError):
    code = "forbidden"
    default_message = "not allowed for these credentials"


class NotFound(FincertError):
    code = "not_found"
    default_message = "not found"


class Conflict(FincertError):
    code = "conflict"
    default_message = "the request conflicts with the current state"


class InProgress(Conflict):
    """Another request is changing the same thing right now; retrying shortly succeeds."""

    retry_after = 1


class Gone(FincertError):
    """The object existed but can no longer be used (expired, attempts exhausted)."""

    code = "gone"
    default_message = "no longer available"


class RateLimited(FincertError):
    code = "rate_limited"
    default_message = "too many requests, retry later"

    def __init__(self, message: str | None = None, *, retry_after: int = 60, **kw: Any):
        super().__init__(message, **kw)
        self.retry_after = retry_after


# --- what went wrong on our side that a retry may fix (503) ----------------------------------
class ServiceUnavailable(FincertError):
    code = "service_unavailable"
    default_message = "a dependency is unavailable, retry later"

    def __init__(self, message: str | None = None, *, retry_after: int = 1, **kw: Any):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class IssuingCaExpiring(ServiceUnavailable):
    """A certificate issued now would end after the issuing CA's certificate, and stop validating
    at the CA's end (RFC 5280 6.1.3 checks every certificate of the path against the time). Only
    the operator can change that (a CA rollover), so the hint is long."""

    code = "issuing_ca_expiring"
    default_message = "no certificate can be issued now: the issuing CA ends too soon; retry later"

    def __init__(self, message: str | None = None, **kw: Any):
        super().__init__(message, retry_after=3600, **kw)


# --- raised by adapters, translated by the domain ----------------------------------------------
class ConditionFailed(FincertError):
    """A conditional write lost (DynamoDB ConditionalCheckFailed / TransactionCanceled)."""

    code = "condition_failed"

    def __init__(
        self,
        message: str | None = None,
        *,
        reasons: list[str] | None = None,
        stored: dict[str, Any] | None = None,
        **kw: Any,
    ):
        super().__init__(message, **kw)
        self.reasons = reasons or []
        self.stored = stored  # the item as it was, when the write asked DynamoDB for it


class DecryptionRefused(FincertError):
    """KMS refused to decrypt: wrong key or wrong encryption context (a moved ciphertext)."""

    code = "decryption_refused"


class EnrollmentUnavailable(FincertError):
    """claim_enrollment's condition failed; `stored` is the enrollment as it is (None: absent).
    The domain decides what that means for the client."""

    code = "enrollment_unavailable"

    def __init__(self, stored: Enrollment | None):
        super().__init__("enrollment cannot be claimed")
        self.stored = stored


class VerificationUnavailable(FincertError):
    """claim_verification's condition failed; `stored` is the verification as it is (None:
    absent). The domain decides what that means for the client."""

    code = "verification_unavailable"

    def __init__(self, stored: Verification | None):
        super().__init__("verification cannot be claimed")
        self.stored = stored


class TicketUnavailable(FincertError):
    """open_ticket's condition failed; `stored` is the ticket as it is (None: absent). The domain
    tells a used ticket from an expired or a wrong one."""

    code = "ticket_unavailable"

    def __init__(self, stored: UiTicket | None):
        super().__init__("the ticket cannot be redeemed")
        self.stored = stored


class PinSlotRefused(FincertError):
    """reserve_pin_attempt's condition failed; `account` is the account as stored (None: gone).
    The domain tells a locked PIN from a credential or institution that does not qualify."""

    code = "pin_slot_refused"

    def __init__(self, account: Account | None):
        super().__init__("no PIN attempt can be reserved")
        self.account = account


class Locked(Forbidden):
    """Too many wrong PINs: refused even with the right one until the customer is re-verified."""

    code = "pin_locked"
    default_message = "the PIN is locked after too many wrong attempts; reset it through your bank"


class PinAttemptInFlight(InProgress):
    """Every PIN attempt the count allows is taken by attempts not judged yet: this one is not
    judged either (it would have to be counted before they are), and is not told "locked",
    which only 5 wrong PINs judged make true. Retrying once they are judged gets an answer."""

    code = "pin_attempt_in_flight"
    default_message = "other PIN attempts are being checked; retry in a moment"
