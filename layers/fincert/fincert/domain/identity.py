"""Who a customer is, normalised so one person always maps to one blind index (docs/design.md#identity-accounts-and-credentials:
name NFC-normalised with all whitespace removed, phone in E.164, birth date YYYYMMDD)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from fincert.crypto.subject_name import MAX_HOLDER_NAME_BYTES, holder_name_fits
from fincert.errors import InvalidRequest
from fincert.ports import KeyManagement

# Versioned: KMS HMAC keys cannot rotate automatically, so a new key means a new version and
# a re-index, never a silent change of meaning.
PERSON_INDEX_VERSION = "v1"

_KOREAN_MOBILE = re.compile(r"^01[016789]\d{7,8}$")
_E164_KOREAN_MOBILE = re.compile(r"^\+821[016789]\d{7,8}$")
_MAX_NAME_CHARS = 40


@dataclass(frozen=True)
class Identity:
    name: str
    phone: str
    birth_date: str  # YYYYMMDD

    @classmethod
    def normalise(cls, name: str, phone: str, birth_date: str, *, today: date) -> Identity:
        """Every route that takes an identity (enrollment, connection, PIN reset, status change)
        comes through here, so each refuses a name no certificate can hold, before any AWS call."""
        normalised = normalise_name(name)
        check_name_fits_certificate(name)
        return cls(normalised, normalise_phone(phone), normalise_birth_date(birth_date, today=today))

    def person_index_message(self) -> bytes:
        return f"fincert-person-{PERSON_INDEX_VERSION}|{self.name}|{self.phone}|{self.birth_date}".encode()

    def phone_index_message(self) -> bytes:
        return f"fincert-phone-{PERSON_INDEX_VERSION}|{self.phone}".encode()

    def blind_indexes(self, kms: KeyManagement, hmac_key_id: str) -> tuple[str, str]:
        """(person index, phone index): KMS HMACs, so a table dump does not say who is who."""
        person = f"{PERSON_INDEX_VERSION}:" + kms.generate_mac(hmac_key_id, self.person_index_message()).hex()
        phone = f"{PERSON_INDEX_VERSION}:" + kms.generate_mac(hmac_key_id, self.phone_index_message()).hex()
        return person, phone


def display_name(name: str) -> str:
    """The name as a certificate shows it: NFC, whitespace runs folded to one space. The blind
    index uses normalise_name (no whitespace at all) so that spacing never splits a person."""
    return " ".join(unicodedata.normalize("NFC", name).split())


def check_name_fits_certificate(name: str) -> None:
    """The name as the certificate shows it (display_name) must fit the subscriber profile's
    common name, counted in UTF-8 bytes (fincert.crypto.subject_name). Refused, never shortened:
    it is a legal name."""
    if not holder_name_fits(display_name(name)):
        raise InvalidRequest(
            f"the name is longer than a certificate can hold ({MAX_HOLDER_NAME_BYTES} bytes in UTF-8)",
            code="name_too_long",
            max_bytes=MAX_HOLDER_NAME_BYTES,
        )


def normalise_name(name: str) -> str:
    normalised = "".join(unicodedata.normalize("NFC", name).split())
    if not normalised or len(normalised) > _MAX_NAME_CHARS:
        raise InvalidRequest(f"name must be 1 to {_MAX_NAME_CHARS} characters", code="name_invalid")
    if not all(ch.isalpha() or ch in "-.'" for ch in normalised):
        raise InvalidRequest("name may contain letters only", code="name_invalid")
    return normalised


def normalise_phone(phone: str) -> str:
    """Korean mobile numbers, as typed (010-1234-5678, 01012345678) or in E.164 (+821012345678)."""
    digits = re.sub(r"[\s-]", "", phone)
    if _E164_KOREAN_MOBILE.match(digits):
        return digits
    if _KOREAN_MOBILE.match(digits):
        return "+82" + digits[1:]
    raise InvalidRequest("phone must be a Korean mobile number such as 010-1234-5678", code="phone_invalid")


def national_phone(phone_e164: str) -> str:
    """A stored (E.164) Korean mobile number in its national form: +821012345678 -> 01012345678."""
    return "0" + phone_e164.removeprefix("+82")


def normalise_birth_date(birth_date: str, *, today: date) -> str:
    if not re.fullmatch(r"\d{8}", birth_date):
        raise InvalidRequest("birth_date must be 8 digits, YYYYMMDD", code="birth_date_invalid")
    try:
        born = date(int(birth_date[:4]), int(birth_date[4:6]), int(birth_date[6:]))
    except ValueError as e:
        raise InvalidRequest("birth_date is not a calendar date", code="birth_date_invalid") from e
    if born.year < 1900 or born > today:
        raise InvalidRequest("birth_date is out of range", code="birth_date_invalid")
    return birth_date


def identity_context(person_index: str) -> dict[str, str]:
    """KMS encryption context of an account's identity ciphertext (name, phone, birth date)."""
    return {"purpose": "identity", "person_index": person_index}
