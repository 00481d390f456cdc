"""Signing with a customer's certificate: the CSC API's authorize (PIN -> SAD) and signHash, and the
FinCert-style "sign these contents" call returning CMS SignedData and/or raw signatures.

Round trips (docs/design.md#round-trips, budget 3 each):
  authorize: reserve a PIN slot (1), KMS VerifyMac (2), one transaction: forgive the slot, write
             the SAD and the history line (3).
  signHash:  read the SAD and the credential in one BatchGetItem (1), KMS Decrypt of the key (2),
             spend the SAD and write the history line in one transaction (3). The SAD is spent in
             the step that releases the signatures: a fault before it leaves the SAD usable, and
             of two requests racing with one SAD only one gets its signatures out.
  sign_contents (ours, 5 whatever the number of contents and formats): reserve a PIN slot (1),
             KMS VerifyMac (2), read the credential (3), KMS Decrypt of the key (4), one
             transaction: forgive the slot, check the certificate is still the active one, write
             the history line (5). The signatures leave only if it commits.
The subscriber key is decrypted in Lambda memory for each request and dropped with it: CSC SCAL1-
like sole control enforced by IAM, KMS encryption context and the PIN, not an HSM (docs/).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from cryptography import x509

from fincert.clock import kst_date
from fincert.crypto.keys import KeyAlgorithm, private_key_from_kms_decryption
from fincert.crypto.signatures import (
    SignatureScheme,
    SubscriberKey,
    build_cms,
    build_detached_cms_over_digest,
    resolve_scheme,
)
from fincert.domain.access import require_customer, require_secret_entry_allowed
from fincert.domain.enrollment import subscriber_key_context
from fincert.domain.model import (
    Credential,
    CredentialStatus,
    GrantActivation,
    HistoryEvent,
    Principal,
    ReleaseSignature,
    SignatureActivation,
    history,
)
from fincert.domain.pin_attempts import PinChecker
from fincert.domain.schedule import is_expired
from fincert.domain.stores import AccountReads, SignatureActivations
from fincert.domain.tokens import new_id, secret_hash
from fincert.errors import ConditionFailed, Conflict, FincertError, Forbidden, Gone, InvalidRequest, NotFound
from fincert.ports import Clock, KeyManagement
from fincert.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from fincert.domain.ca import CertificateAuthority


class SigningStorage(AccountReads, SignatureActivations, Protocol):
    """The storage roles this use case needs (fincert.domain.stores)."""


SAD_LIFETIME = timedelta(minutes=5)
MAX_SIGNATURES_PER_SAD = 10  # CSC "multisign"
SAD_PREFIX = "sad"
_SAD = re.compile(r"sad\.(sad_[A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})")
SHA256_LENGTH = 32


class SignType(StrEnum):
    """What a FinCert-style signature is for; recorded in the customer's history with its code."""

    LOGIN = "login"
    TRANSFER = "transfer"
    PRODUCT = "product"
    CONTRACT = "contract"
    PAYMENT = "payment"
    CERTIFICATE_ISSUANCE = "certificate_issuance"
    ASSET_LINKING = "asset_linking"
    AUTHENTICATOR_MANAGEMENT = "authenticator_management"
    OTHER = "other"

    @property
    def code(self) -> str:
        """KFTC FinCert's two-digit sign-type code (its SDK's signType)."""
        return SIGN_TYPE_CODES[self]

    @classmethod
    def parse(cls, value: str) -> SignType:
        """A name (`transfer`) or FinCert's code (`02`)."""
        if value in _SIGN_TYPES_BY_CODE:
            return _SIGN_TYPES_BY_CODE[value]
        try:
            return cls(value)
        except ValueError:
            raise InvalidRequest(
                "sign_type must be a sign-type name or FinCert's two-digit code", code="sign_type_invalid"
            ) from None


SIGN_TYPE_CODES: dict[SignType, str] = {
    SignType.LOGIN: "01",
    SignType.TRANSFER: "02",
    SignType.PRODUCT: "03",
    SignType.CONTRACT: "04",
    SignType.PAYMENT: "05",
    SignType.CERTIFICATE_ISSUANCE: "06",
    SignType.ASSET_LINKING: "07",
    SignType.AUTHENTICATOR_MANAGEMENT: "08",
    SignType.OTHER: "99",
}
_SIGN_TYPES_BY_CODE = {code: sign_type for sign_type, code in SIGN_TYPE_CODES.items()}


class SignatureFormat(StrEnum):
    CMS_ATTACHED = "cms_attached"
    CMS_DETACHED = "cms_detached"
    RAW = "raw"  # PKCS#1 v1.5 (RSA) or DER ECDSA-Sig-Value (EC) over SHA-256 of the content


# --- what a FinCert-style call signs ----------------------------------------------------------------
# Limits in bytes, because bytes are what is signed (8192 Hangul syllables would be 24 KiB).
MAX_CONTENTS = 10
MAX_CONTENT_BYTES = 8192
# All contents of one call together: the bank API's whole request body is 16 KiB, so this is what
# one request can carry at most anyway; other callers of sign_contents are held to the same.
MAX_TOTAL_CONTENT_BYTES = 16 * 1024


class ContentKind(StrEnum):
    TEXT = "text"  # UTF-8 text, as shown to the customer
    BINARY = "binary"  # bytes (a file)
    HASH = "hash"  # only the content's SHA-256 digest: cms_detached or raw only


@dataclass(frozen=True)
class SignContent:
    """One content to sign. `data` is the text's UTF-8 bytes, the binary's bytes, or, for a
    hash, the 32-byte SHA-256 digest. `name` is a binary content's file name: for showing it
    to the customer, never signed and never stored (a file name can carry personal data)."""

    kind: ContentKind
    data: bytes
    name: str | None = None

    def __post_init__(self) -> None:
        if self.kind is ContentKind.HASH:
            if len(self.data) != SHA256_LENGTH:
                raise InvalidRequest(
                    "a sha256 content is a 32-byte SHA-256 digest", code="content_sha256_invalid"
                )
        elif not self.data:
            raise InvalidRequest("a content must not be empty", code="content_empty")
        elif len(self.data) > MAX_CONTENT_BYTES:
            raise InvalidRequest(
                f"a content is at most {MAX_CONTENT_BYTES} bytes (text counted in UTF-8)",
                code="content_too_large",
                max_bytes=MAX_CONTENT_BYTES,
            )

    @classmethod
    def text(cls, text: str) -> SignContent:
        return cls(ContentKind.TEXT, text.encode("utf-8"))

    @classmethod
    def binary(cls, data: bytes, name: str | None = None) -> SignContent:
        return cls(ContentKind.BINARY, data, name)

    @classmethod
    def from_base64(cls, value: str, name: str | None = None) -> SignContent:
        """Binary content sent as standard base64 (with padding)."""
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRequest(
                "a base64 content must be standard base64", code="content_base64_invalid"
            ) from None
        return cls.binary(data, name)

    @classmethod
    def from_sha256(cls, value: str) -> SignContent:
        """A SHA-256 digest written as 64 hex digits or as base64 (44 characters)."""
        try:
            digest = (
                bytes.fromhex(value)
                if len(value) == 2 * SHA256_LENGTH
                else base64.b64decode(value, validate=True)
            )
        except (binascii.Error, ValueError):
            raise InvalidRequest(
                "a sha256 content is 64 hex digits or the base64 of 32 bytes", code="content_sha256_invalid"
            ) from None
        return cls(ContentKind.HASH, digest)

    @property
    def sha256(self) -> bytes:
        return self.data if self.kind is ContentKind.HASH else hashlib.sha256(self.data).digest()

    @property
    def size(self) -> int:
        """What the content counts against MAX_TOTAL_CONTENT_BYTES: its bytes (a hash, its digest)."""
        return len(self.data)


@dataclass(frozen=True)
class ContentSignatures:
    """One content's signatures: its SHA-256 and one signature per format asked, in that order."""

    sha256: bytes
    signatures: dict[SignatureFormat, bytes]


@dataclass(frozen=True)
class SignedContents:
    """What sign_contents made: per content, in the order given, its signatures."""

    credential: Credential
    sign_type: SignType
    formats: tuple[SignatureFormat, ...]
    contents: tuple[ContentSignatures, ...]


def check_sign_request(contents: Sequence[SignContent], formats: Sequence[SignatureFormat]) -> None:
    """What a FinCert-style call may ask, judged before the PIN (no attempt, no write, no KMS)."""
    if not 1 <= len(contents) <= MAX_CONTENTS:
        raise InvalidRequest(f"give 1 to {MAX_CONTENTS} contents", code="contents_count_invalid")
    total = sum(c.size for c in contents)
    if total > MAX_TOTAL_CONTENT_BYTES:
        raise InvalidRequest(
            f"the contents are at most {MAX_TOTAL_CONTENT_BYTES} bytes together",
            code="contents_too_large",
            max_bytes=MAX_TOTAL_CONTENT_BYTES,
        )
    if not formats or len(set(formats)) != len(formats):
        raise InvalidRequest("give one or more distinct formats", code="formats_invalid")
    if SignatureFormat.CMS_ATTACHED in formats:
        hash_indexes = [i for i, c in enumerate(contents) if c.kind is ContentKind.HASH]
        if hash_indexes:
            # An attached SignedData carries the content, and a digest is not the content.
            raise InvalidRequest(
                "a sha256 content can be signed as cms_detached or raw, not cms_attached",
                code="hash_content_not_attachable",
                contents=hash_indexes,
            )


@dataclass(frozen=True)
class Authorization:
    sad: str
    expires_in: int


def _decode_hashes(hashes_b64: list[str]) -> list[bytes]:
    digests = []
    for value in hashes_b64:
        try:
            digest = base64.b64decode(value, validate=True)
        except ValueError:
            raise InvalidRequest("every hash must be base64", code="hash_invalid") from None
        if len(digest) != SHA256_LENGTH:
            raise InvalidRequest("every hash must be a 32-byte SHA-256 digest", code="hash_invalid")
        digests.append(digest)
    return digests


def _canonical_b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


class SigningService:
    def __init__(
        self,
        *,
        store: SigningStorage,
        kms: KeyManagement,
        clock: Clock,
        settings: Settings,
        pins: PinChecker,
        certificate_authority: Callable[[], CertificateAuthority],
    ):
        self._store = store
        self._kms = kms
        self._clock = clock
        self._settings = settings
        self._pins = pins
        self._certificate_authority = certificate_authority

    # --- CSC credentials/list and credentials/info ---------------------------------------------
    def list_credentials(self, principal: Principal) -> list[str]:
        """The customer's active credential, if registered with the calling institution: an
        institution sees nothing of certificates not registered with it."""
        account_id = require_customer(principal)
        account = self._store.get_account(account_id)
        if account is None or account.active_credential_id is None:
            return []
        if principal.institution_id not in account.institutions:
            return []
        return [account.active_credential_id]

    def credential(self, principal: Principal, credential_id: str) -> Credential:
        """A credential of the calling customer, registered with the calling institution; 404 for
        anything else, alike."""
        account_id = require_customer(principal)
        account = self._store.get_account(account_id)
        if account is None or principal.institution_id not in account.institutions:
            raise NotFound("no such credential", code="credential_not_found")
        credential = self._store.get_credential(account_id, credential_id)
        if credential is None:
            raise NotFound("no such credential", code="credential_not_found")
        return credential

    def chain(self) -> list[x509.Certificate]:
        ca = self._certificate_authority()
        return [ca.issuing_certificate, ca.root_certificate]

    # --- CSC credentials/authorize: PIN -> SAD --------------------------------------------------
    def authorize(
        self,
        principal: Principal,
        credential_id: str,
        pin: str,
        num_signatures: int,
        hashes_b64: list[str] | None,
    ) -> Authorization:
        account_id = require_customer(principal)
        require_secret_entry_allowed(principal)
        if not 1 <= num_signatures <= MAX_SIGNATURES_PER_SAD:
            raise InvalidRequest(
                f"numSignatures must be 1 to {MAX_SIGNATURES_PER_SAD}", code="num_signatures_invalid"
            )
        bound: frozenset[str] = frozenset()
        if hashes_b64 is not None:
            digests = _decode_hashes(hashes_b64)
            if len(digests) != num_signatures or len(set(digests)) != len(digests):
                raise InvalidRequest(
                    "give numSignatures distinct hashes, or none", code="num_signatures_invalid"
                )
            bound = frozenset(_canonical_b64(d) for d in digests)
        correct = self._pins.check(
            account_id, pin, principal.institution_id, credential_id=credential_id, to_sign=True
        )
        now = self._clock.now()
        sad_secret = secrets.token_urlsafe(32)
        activation = SignatureActivation(
            sad_id=new_id("sad"),
            account_id=account_id,
            credential_id=credential_id,
            institution_id=principal.institution_id,
            secret_hash=secret_hash(sad_secret),
            hashes=bound,
            remaining=num_signatures,
            expires_at=now + SAD_LIFETIME,
        )
        try:
            correct.accept(
                kst_date(now),
                history(
                    HistoryEvent.AUTHORIZED,
                    now,
                    principal.institution_id,
                    credential_id,
                    signatures=str(num_signatures),
                ),
                GrantActivation(activation),
            )
        except ConditionFailed:
            raise Conflict("the PIN changed meanwhile; authorize again", code="pin_changed") from None
        return Authorization(
            f"{SAD_PREFIX}.{activation.sad_id}.{sad_secret}", int(SAD_LIFETIME.total_seconds())
        )

    # --- CSC signatures/signHash -----------------------------------------------------------------
    def sign_hashes(
        self,
        principal: Principal,
        credential_id: str,
        sad: str,
        hashes_b64: list[str],
        sign_algo: str,
        hash_algo: str | None,
        sign_algo_params: bytes | None,
    ) -> list[bytes]:
        account_id = require_customer(principal)
        if not 1 <= len(hashes_b64) <= MAX_SIGNATURES_PER_SAD:
            raise InvalidRequest(f"give 1 to {MAX_SIGNATURES_PER_SAD} hashes", code="hash_invalid")
        digests = _decode_hashes(hashes_b64)
        match = _SAD.fullmatch(sad)
        if not match:
            raise InvalidRequest("the SAD is not valid", code="sad_invalid")
        sad_id, sad_secret = match.groups()
        now = self._clock.now()
        activation, credential = self._store.load_for_signing(account_id, sad_id, credential_id)
        if (
            activation is None
            or not hmac.compare_digest(activation.secret_hash, secret_hash(sad_secret))
            or activation.credential_id != credential_id
            or activation.institution_id != principal.institution_id
        ):
            raise InvalidRequest("the SAD is not valid for this credential", code="sad_invalid")
        if activation.expires_at <= now:
            raise InvalidRequest("the SAD expired; authorize again", code="sad_expired")
        if activation.remaining < len(digests):
            raise InvalidRequest("the SAD has no signatures left for these hashes", code="sad_exhausted")
        if activation.hashes and not {_canonical_b64(d) for d in digests} <= activation.hashes:
            raise InvalidRequest("the SAD was authorized for other hashes", code="sad_hash_mismatch")
        credential = self._usable(credential, now)
        issued_at = activation.expires_at - SAD_LIFETIME
        if credential.status_changed_at is not None and issued_at < credential.status_changed_at:
            # Issued before a suspension that was lifted since: what was authorised then is not
            # authorised now.
            raise InvalidRequest(
                "the SAD was issued before the certificate's status changed; authorize again",
                code="sad_invalid",
            )
        scheme = resolve_scheme(
            KeyAlgorithm(credential.key_algorithm), sign_algo, hash_algo, sign_algo_params
        )
        key = self._private_key(credential)
        signatures = [scheme.sign(key, digest) for digest in digests]
        try:
            self._store.consume_activation(
                activation,
                len(digests),
                now,
                history(
                    HistoryEvent.SIGNED,
                    now,
                    principal.institution_id,
                    credential_id,
                    hashes=",".join(d.hex() for d in digests),
                    via="csc",
                ),
            )
        except ConditionFailed as e:
            if "credential" in e.reasons:
                raise Forbidden("the certificate is no longer active", code="credential_not_active") from None
            raise InvalidRequest("the SAD was already used", code="sad_exhausted") from None
        return signatures

    # --- FinCert-style: sign these contents with one PIN entry ---------------------------------
    def sign_contents(
        self,
        principal: Principal,
        contents: Sequence[SignContent],
        sign_type: SignType,
        formats: Sequence[SignatureFormat],
        pin: str,
        credential_id: str | None = None,
    ) -> SignedContents:
        """Signs every content in every format asked, after one PIN check: FinCert's sign call,
        several contents for one PIN entry. All or nothing: the signatures are released only
        by the transaction that accepts the PIN and writes the one history line (all the
        contents' hashes); a PIN, a certificate or a fault that stops one stops all."""
        account_id = require_customer(principal)
        require_secret_entry_allowed(principal)
        check_sign_request(contents, formats)
        correct = self._pins.check(
            account_id, pin, principal.institution_id, credential_id=credential_id, to_sign=True
        )
        active_id = correct.account.active_credential_id
        if active_id is None:
            raise NotFound("this customer has no financial certificate", code="certificate_not_found")
        now = self._clock.now()
        try:
            credential = self._usable(self._store.get_credential(account_id, active_id), now)
        except FincertError:
            correct.forgive()  # the PIN was right; the certificate cannot sign
            raise
        key = self._private_key(credential)
        issuing = self._certificate_authority().issuing_certificate
        signed = tuple(
            ContentSignatures(
                content.sha256,
                {f: _sign(f, content, key, credential, issuing, now) for f in formats},
            )
            for content in contents
        )
        try:
            correct.accept(
                kst_date(now),
                history(
                    HistoryEvent.SIGNED,
                    now,
                    principal.institution_id,
                    credential.credential_id,
                    sign_type=sign_type.value,
                    sign_type_code=sign_type.code,
                    formats=",".join(f.value for f in formats),
                    contents=str(len(contents)),
                    kinds=",".join(c.kind.value for c in contents),
                    hashes=",".join(c.sha256.hex() for c in signed),
                    via="fincert",
                ),
                ReleaseSignature(credential.credential_id),
            )
        except ConditionFailed:
            current = self._store.get_account(account_id)
            if current is not None and current.pin_verifier == correct.account.pin_verifier:
                # The PIN stands; the certificate was suspended, revoked or replaced meanwhile.
                correct.forgive()
                raise Forbidden("the certificate is no longer active", code="credential_not_active") from None
            raise Conflict("the PIN changed meanwhile; sign again", code="pin_changed") from None
        return SignedContents(credential, sign_type, tuple(formats), signed)

    # --- shared ------------------------------------------------------------------------------
    @staticmethod
    def _usable(credential: Credential | None, now: datetime) -> Credential:
        if credential is None:
            raise NotFound("no such credential", code="credential_not_found")
        if credential.status != CredentialStatus.ACTIVE:
            raise Forbidden(f"the certificate is {credential.status.value}", code="credential_not_active")
        if is_expired(credential.not_after, now):
            raise Gone("the certificate expired; reissue it", code="credential_expired")
        return credential

    def _private_key(self, credential: Credential) -> SubscriberKey:
        der = self._kms.decrypt(
            self._settings.key_wrap_key_id,
            credential.wrapped_private_key,
            subscriber_key_context(credential.account_id, credential.credential_id),
        )
        # Straight out of KMS authenticated decryption under its context: no RSA re-validation
        # (see private_key_from_kms_decryption). Loaded per request, never cached.
        return private_key_from_kms_decryption(der)


def _sign(
    signature_format: SignatureFormat,
    content: SignContent,
    key: SubscriberKey,
    credential: Credential,
    issuing_certificate: x509.Certificate,
    now: datetime,
) -> bytes:
    if signature_format == SignatureFormat.RAW:
        # Over the SHA-256 digest: the same signature whether the content or only its hash came.
        return SignatureScheme.default_for(key).sign(key, content.sha256)
    detached = signature_format == SignatureFormat.CMS_DETACHED
    if content.kind is ContentKind.HASH:
        # check_sign_request refused a hash with cms_attached: only detached gets here.
        return build_detached_cms_over_digest(
            credential.certificate_der, key, content.data, issuing_certificate, now
        )
    return build_cms(credential.certificate_der, key, content.data, issuing_certificate, detached=detached)
