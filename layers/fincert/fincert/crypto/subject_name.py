"""The subscriber certificate's common name, `<name>(<suffix>)`, and how much name it can hold.

fincert.crypto.x509_profile builds the subject from this; the enrollment and re-verification
routes check a name against it before anything is sent, encrypted or written (issue 11: a name
the certificate cannot hold used to pass enrollment and fail every confirm). Apart from the
profile so that the routes that only check a name do not import cryptography's X.509 code.
Nothing here imports cryptography.
"""

from __future__ import annotations

import secrets
import unicodedata

# RFC 5280 Appendix A: ub-common-name INTEGER ::= 64. RFC 5280 counts characters, but
# cryptography's NameAttribute (and other encoders and decoders) count the UTF8String's bytes,
# so the stricter reading is the limit: 64 UTF-8 bytes.
UB_COMMON_NAME_BYTES = 64
# The per-account suffix that keeps namesakes' DNs apart: 12 upper-case hex digits (6 random bytes).
HOLDER_SUFFIX_CHARS = 12
# What is left for the name in CN=<name>(<suffix>), in UTF-8 bytes (50: 16 Hangul syllables).
MAX_HOLDER_NAME_BYTES = UB_COMMON_NAME_BYTES - len("()") - HOLDER_SUFFIX_CHARS


def new_holder_suffix() -> str:
    return secrets.token_hex(HOLDER_SUFFIX_CHARS // 2).upper()


def certificate_name(holder_name: str) -> str:
    """The name as the common name carries it: NFC, without surrounding whitespace."""
    return unicodedata.normalize("NFC", holder_name.strip())


def holder_name_fits(holder_name: str) -> bool:
    """Whether the certificate can hold this name next to a holder suffix."""
    return len(certificate_name(holder_name).encode("utf-8")) <= MAX_HOLDER_NAME_BYTES


def subscriber_common_name(holder_name: str, holder_suffix: str) -> str:
    name = certificate_name(holder_name)
    suffix = unicodedata.normalize("NFC", holder_suffix.strip())
    if not name or not suffix:
        raise ValueError("holder name and suffix must not be empty")
    if any(unicodedata.category(ch).startswith("C") for ch in name + suffix):
        raise ValueError("holder name and suffix must not contain control or format characters")
    common_name = f"{name}({suffix})"
    if len(common_name.encode("utf-8")) > UB_COMMON_NAME_BYTES:
        raise ValueError(f"common name longer than {UB_COMMON_NAME_BYTES} UTF-8 bytes")
    return common_name
