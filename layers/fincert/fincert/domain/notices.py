"""Reading a customer's phone number to tell them something (renewal, expiry, idle purge): the
only personal data the jobs decrypt. Never logged."""

from __future__ import annotations

import json

from fincert.domain.identity import identity_context
from fincert.ports import KeyManagement
from fincert.settings import Settings


def customer_phone(
    kms: KeyManagement, settings: Settings, identity_ciphertext: bytes, person_index: str
) -> str:
    plaintext = kms.decrypt(settings.key_wrap_key_id, identity_ciphertext, identity_context(person_index))
    return str(json.loads(plaintext)["phone"])
