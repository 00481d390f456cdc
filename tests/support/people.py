"""Who the tests enroll: the one in-process customer, others, and people of their own for the
shared local stack. The PINs they choose."""

from __future__ import annotations

import secrets

from tests.support import log_safety

PIN = "135790"
WRONG_PIN = "246813"

# The customer of the in-process tests (each test has a table of its own).
CUSTOMER = {
    "name": "홍길동",
    "phone": "010-1234-5678",
    "birth_date": "19900101",
}
PHONE = "+821012345678"
# What the bank sends to enroll CUSTOMER (POST /v1/enrollments).
ENROLLMENT = CUSTOMER | {"terms_accepted": True, "auto_renew": True}
# The fixed personal data and PINs above, as they could appear in a log line: no line may hold
# them (tests/support/log_safety.py judges every line of the run against them).
PERSONAL_DATA = frozenset(
    {
        CUSTOMER["name"],
        CUSTOMER["phone"],
        CUSTOMER["birth_date"],
        PHONE,
        PHONE.removeprefix("+82"),
        "01012345678",
        PIN,
        WRONG_PIN,
    }
)


def other_customer(n: int) -> dict[str, str]:
    """A different person per n (another phone number and name)."""
    return {"name": f"김철수{chr(0xAC00 + n)}", "phone": f"010-5555-{n:04d}", "birth_date": "19850505"}


def e164(phone: str) -> str:
    digits = phone.replace("-", "")
    return digits if digits.startswith("+") else "+82" + digits[1:]


def random_phone() -> str:
    return f"010{secrets.randbelow(10**8):08d}"


def new_identity() -> dict[str, str]:
    """A person of their own: the local stack is shared by the whole session, and a phone number
    is what the SMS outbox and the rate limits are keyed by."""
    phone = random_phone()
    log_safety.remember_secret(phone, e164(phone))
    return {"name": "박지훈", "phone": phone, "birth_date": "19880417"}


def new_enrollment(**overrides) -> tuple[dict, str]:
    """An enrollment request of a new person for the local stack, and the phone its SMS goes to."""
    body = {
        "name": "김민준",
        "phone": random_phone(),
        "birth_date": "19851224",
        "terms_accepted": True,
        "auto_renew": False,
    } | overrides
    return body, e164(body["phone"])
