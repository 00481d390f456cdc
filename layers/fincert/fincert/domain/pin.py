"""The 6-digit PIN policy. Each refusal has its own error code so a bank can tell its customer
exactly which rule the PIN broke."""

from __future__ import annotations

import base64
import itertools
from datetime import timedelta

from fincert.domain.identity import national_phone
from fincert.errors import WeakPin
from fincert.ports import KeyManagement

PIN_VERIFIER_VERSION = "v1"
# Consecutive wrong PINs that lock the PIN until the institution re-verifies the customer.
MAX_PIN_FAILURES = 5
# How long a reserved PIN attempt may still be running. API Gateway ends every request within
# 29 s (its integration timeout; the functions' own timeouts are shorter): an attempt reserved
# longer ago than this and never judged was cut short, and counts as a failure
# (docs/design.md#faults-and-allowed-leftovers).
PIN_ATTEMPT_LIFETIME = timedelta(seconds=30)


def check_pin_format(pin: str) -> None:
    """Exactly 6 ASCII digits: what every PIN entered or set must be, before any AWS call."""
    if len(pin) != 6 or not all("0" <= ch <= "9" for ch in pin):
        raise WeakPin("the PIN must be exactly 6 digits", code="pin_format")


def check_pin_shape(pin: str) -> None:
    """Rules for a new PIN that need nothing but the PIN; checked before any AWS call."""
    check_pin_format(pin)
    if len(set(pin)) == 1:
        raise WeakPin("the PIN must not repeat one digit", code="pin_repeated_digits")
    steps = {int(b) - int(a) for a, b in itertools.pairwise(pin)}
    # Runs of +1 or -1 without wrap-around: 123456 and 987654 are refused, 890123 is not.
    if steps in ({1}, {-1}):
        raise WeakPin("the PIN must not be a run of consecutive digits", code="pin_sequential")


def check_pin_not_birth_date(pin: str, birth_date: str) -> None:
    """birth_date is YYYYMMDD; refuse it as YYMMDD, MMDDYY and DDMMYY."""
    yy, mm, dd = birth_date[2:4], birth_date[4:6], birth_date[6:8]
    if pin in {yy + mm + dd, mm + dd + yy, dd + mm + yy}:
        raise WeakPin("the PIN must not be the birth date", code="pin_birth_date")


def check_pin_not_phone_number(pin: str, phone_e164: str) -> None:
    """Refuse any 6 consecutive digits of the mobile number in its national form (010XXXXXXXX),
    the form people know their number by. phone_e164 is the stored form (+8210...)."""
    if pin in national_phone(phone_e164):
        raise WeakPin("the PIN must not be taken from the mobile number", code="pin_phone_number")


def check_new_pin_against_identity(pin: str, *, birth_date: str, phone_e164: str | None) -> None:
    """The rules for a new PIN that need who the customer is; checked before any write. The
    phone is None only for enrollments started before it travelled with the challenge."""
    check_pin_not_birth_date(pin, birth_date)
    if phone_e164 is not None:
        check_pin_not_phone_number(pin, phone_e164)


def pin_verifier_message(person_index: str, pin: str) -> bytes:
    # Bound to the person so equal PINs of two customers give different verifiers.
    return f"fincert-pin-{PIN_VERIFIER_VERSION}|{person_index}|{pin}".encode()


def make_pin_verifier(kms: KeyManagement, hmac_key_id: str, person_index: str, pin: str) -> str:
    """What the account stores for a PIN: a versioned KMS HMAC, useless without KMS."""
    mac = kms.generate_mac(hmac_key_id, pin_verifier_message(person_index, pin))
    return f"{PIN_VERIFIER_VERSION}:" + base64.b64encode(mac).decode()


def pin_matches(kms: KeyManagement, hmac_key_id: str, person_index: str, pin: str, verifier: str) -> bool:
    """KMS VerifyMac: the comparison is KMS's, constant-time."""
    mac = base64.b64decode(verifier.removeprefix(f"{PIN_VERIFIER_VERSION}:"))
    return kms.verify_mac(hmac_key_id, pin_verifier_message(person_index, pin), mac)
