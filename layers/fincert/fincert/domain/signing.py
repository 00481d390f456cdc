"""Signing with a customer's certificate: the CSC API's authorize (PIN -> SAD) and signHash, and the
FinCert-style "sign these contents" call returning CMS SignedData and/or raw signatures.

Round trips (docs/design.md#round-trips, budget 3 each):
  authorize: reserve a PIN slot (1), KMS VerifyMac (2), one transaction: forgive the slot, write
             the SAD and the history line (3).
  signHash:  read the SAD and the credential in one BatchGetItem (1), KMS Decrypt of the key (2),
             spend the SAD and write the history line in one transaction (3). The SAD is spent in
             the step that releases the signatures: a fault before it leaves the SAD usable, and
             of two requests racing with one SAD only one gets its signatures out.
  sign_contents (ours, 5 + one per signature made): reserve a PIN slot (1), KMS VerifyMac (2),
             read the credential (3), KMS Decrypt of the key (4), the TSA's KMS Sign of a time-stamp
             token per signature (N), one transaction:
             forgive the slot, check the certificate is still the active one, write the history
             line and the tokens' ledger records (5 + N). The signatures leave only if it commits.
             Each signature carries its token and the OCSP answer for the certificate, built in
             memory from the credential just read (the responder's key is loaded once per
             container: a GetItem and a KMS Decrypt on a cold start, nothing warm).
The subscriber key is decrypted in Lambda memory for each request and dropped with it: CSC SCAL1-
like sole control enforced by IAM, KMS encryption context and the PIN, not an HSM (docs/).
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from cryptography import x509

from fincert.clock import kst_date
from fincert.crypto.keys import KeyAlgorithm, private_key_from_kms_decryption
from fincert.crypto.signatures import (
    SignatureScheme,
    SubscriberKey,
    add_evidence,
    build_cms,
    build_detached_cms_over_digest,
    cms_signature_value,
    resolve_scheme,
)
from fincert.domain.access import require_customer, require_secret_entry_allowed
from fincert.domain.account_records import Credential, CredentialStatus
from fincert.domain.content_macs import ContentMacs
from fincert.domain.history_records import HistoryEvent, history
from fincert.domain.institution_records import Principal
from fincert.domain.key_custody import subscriber_key_context
from fincert.domain.metrics import NO_METRICS, SIGNATURES
from fincert.domain.pin_attempts import PinChecker
from fincert.domain.pin_unlocks import GrantActivation, ReleaseSignature
from fincert.domain.schedule import is_expired
from fincert.domain.session_records import SignatureActivation
from fincert.domain.sign_requests import (  # re-exported: the signing API of this module
    SHA256_LENGTH,
    ContentKind,
    ContentSignatures,
    RawEvidence,
    SignatureFormat,
    SignContent,
    SignedContents,
    SignType,
    check_sign_request,
)
from fincert.domain.stores import AccountReads, SignatureActivations
from fincert.domain.tokens import new_id, secret_hash
from fincert.errors import ConditionFailed, Conflict, FincertError, Forbidden, Gone, InvalidRequest, NotFound
from fincert.ports import Clock, KeyManagement, Metrics
from fincert.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from fincert.domain.ca import CertificateAuthority
    from fincert.domain.timestamping import SigningEvidence

    # (the customer, the credential signing, the signature values in order, now) -> the evidence
    EvidenceMaker = Callable[[Principal, Credential, Sequence[bytes], datetime], SigningEvidence]


class SigningStorage(AccountReads, SignatureActivations, Protocol):
    """The storage roles this use case needs (fincert.domain.stores)."""


SAD_LIFETIME = timedelta(minutes=5)
MAX_SIGNATURES_PER_SAD = 10  # CSC "multisign"
SAD_PREFIX = "sad"
_SAD = re.compile(r"sad\.(sad_[A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})")


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
        evidence: EvidenceMaker,
        content_macs: ContentMacs,
        metrics: Metrics = NO_METRICS,
    ):
        self._content_macs = content_macs
        self._store = store
        self._kms = kms
        self._clock = clock
        self._settings = settings
        self._pins = pins
        self._certificate_authority = certificate_authority
        self._metrics = metrics
        self._evidence = evidence

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
                    certificate_not_after=credential.not_after,
                    # Keyed: a plain SHA-256 of a templated content is reversed by a dictionary.
                    hashes=",".join(self._content_macs.of(d) for d in digests),
                    via="csc",
                ),
            )
        except ConditionFailed as e:
            if "credential" in e.reasons:
                raise Forbidden("the certificate is no longer active", code="credential_not_active") from None
            raise InvalidRequest("the SAD was already used", code="sad_exhausted") from None
        self._metrics.count(SIGNATURES, len(signatures), Kind="csc_sign_hash")
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
        made = [
            {f: _sign(f, content, key, credential, issuing, now) for f in formats} for content in contents
        ]
        values = [
            signature if f == SignatureFormat.RAW else cms_signature_value(signature)
            for signatures in made
            for f, signature in signatures.items()
        ]
        evidence = self._evidence(principal, credential, values, now)
        tokens = iter(evidence.tokens)
        signed = tuple(
            _with_evidence(content.sha256, signatures, tokens, evidence.ocsp_response)
            for content, signatures in zip(contents, made, strict=True)
        )
        try:
            correct.accept(
                kst_date(now),
                history(
                    HistoryEvent.SIGNED,
                    now,
                    principal.institution_id,
                    credential.credential_id,
                    certificate_not_after=credential.not_after,
                    sign_type=sign_type.value,
                    sign_type_code=sign_type.code,
                    formats=",".join(f.value for f in formats),
                    contents=str(len(contents)),
                    kinds=",".join(c.kind.value for c in contents),
                    hashes=",".join(self._content_macs.of(c.sha256) for c in signed),
                    via="fincert",
                ),
                ReleaseSignature(credential.credential_id, evidence.records),
            )
        except ConditionFailed:
            current = self._store.get_account(account_id)
            if current is not None and current.pin_verifier == correct.account.pin_verifier:
                # The PIN stands; the certificate was suspended, revoked or replaced meanwhile.
                correct.forgive()
                raise Forbidden("the certificate is no longer active", code="credential_not_active") from None
            raise Conflict("the PIN changed meanwhile; sign again", code="pin_changed") from None
        for signature_format in formats:
            self._metrics.count(SIGNATURES, len(contents), Kind=signature_format.value)
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


def _with_evidence(
    sha256: bytes, signatures: dict[SignatureFormat, bytes], tokens: Iterator[bytes], ocsp_response: bytes
) -> ContentSignatures:
    """A content's signatures with their evidence: inside each CMS, beside the raw one."""
    with_evidence: dict[SignatureFormat, bytes] = {}
    raw = None
    for signature_format, signature in signatures.items():
        token = next(tokens)
        if signature_format == SignatureFormat.RAW:
            with_evidence[signature_format] = signature
            raw = RawEvidence(token, ocsp_response)
        else:
            with_evidence[signature_format] = add_evidence(signature, token, ocsp_response)
    return ContentSignatures(sha256, with_evidence, raw)


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
