"""Revocation status for relying parties: the OCSP responder (RFC 6960) and the partitioned
CRLs (RFC 5280), both answering from the SERIAL#<hex> records.

OCSP: a delegated responder (RFC 6960 4.2.2.2). Its certificate is issued by the issuing CA
through KMS (id-kp-OCSPSigning, id-pkix-ocsp-nocheck, 30 days); its RSA-2048 key is stored
wrapped under the key-wrap key with the encryption context {purpose: ocsp-responder, ...} and
decrypted once per container (a KMS Decrypt, not a Sign). Every query then costs one strongly
consistent GetItem of the serial's record and an in-memory RSA signature: no KMS Sign per query
(KMS asymmetric quotas are hundreds per second), a status change shows in the next answer, and
nonces are echoed. The responder is created by `fincert-admin bootstrap-ca` and renewed by
`ensure_ocsp_responder` (daily schedule and `fincert-admin renew-ocsp-responder`) 10 days before
it expires; containers pick up a renewed responder within RESPONDER_RELOAD.

What a record's status answers:
- issued -> good; revoked -> revoked (time, reason); suspended -> revoked, certificateHold.
- presigned -> good. The CA signed (or is signing) it and issuance has not stored it yet; the
  CA/B Forum treats a precertificate's serial as issued, so "unknown" would be wrong, and
  nobody can hold such a certificate except through an issuance that is about to commit (the
  certificate is delivered only after the commit). One never stored is revoked by the reconciler
  after 10 minutes, and the answer turns to revoked.
- no record -> unknown (never issued, or expired and deleted by TTL after notAfter).

CRLs: one per partition (fincert.crl_partitions: the ISO week of notAfter), built from one Query
of the sparse `crl` index, signed by the issuing CA through KMS (DIGEST past 4096 bytes), and
kept in the container's memory for CRL_REFRESH: at most one KMS Sign per partition per container
per CRL_REFRESH, whatever the request rate. Only live partitions are built, so a client cannot
make us sign CRLs for arbitrary names.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from threading import Lock
from typing import TYPE_CHECKING, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from fincert.crl_partitions import is_live
from fincert.crypto import ocsp
from fincert.crypto.crl import RevokedEntry, build_crl, crl_number_at
from fincert.crypto.keys import (
    KeyAlgorithm,
    certificate_public_key,
    generate_private_key,
    private_key_from_kms_decryption,
    private_key_to_der,
)
from fincert.crypto.kms_keys import kms_private_key
from fincert.crypto.ocsp_limits import MAX_GET_REQUEST_CHARS
from fincert.crypto.x509_profile import (
    PkiUrls,
    build_ocsp_responder_certificate,
    certificate_validity,
    new_serial_number,
)
from fincert.domain.ca_records import OcspResponderRecord
from fincert.domain.status_records import SerialRecord, SerialStatus
from fincert.domain.stores import OcspResponderRecords, SerialStatuses
from fincert.errors import ConditionFailed, ServiceUnavailable
from fincert.ports import Clock, KeyManagement


class RevocationStatusStorage(SerialStatuses, OcspResponderRecords, Protocol):
    """The storage roles this use case needs (fincert.domain.stores)."""


if TYPE_CHECKING:
    from fincert.domain.ca import CertificateAuthority

# How long a response may be relied on (nextUpdate - thisUpdate). Short because answering is
# cheap and a relying party that caches a "good" for longer would miss a revocation for longer.
OCSP_VALIDITY = timedelta(hours=1)
RESPONDER_RENEW_BEFORE = timedelta(days=10)
# A container re-reads the responder record this often (one GetItem; a Decrypt only when the
# responder changed), so a renewal reaches every container well before the old one expires.
RESPONDER_RELOAD = timedelta(hours=1)

# A partition's CRL is valid for a day (nextUpdate), rebuilt by a container after CRL_REFRESH:
# a revocation reaches newly fetched CRLs within CRL_REFRESH.
CRL_VALIDITY = timedelta(days=1)
CRL_REFRESH = timedelta(minutes=10)
# The root CRL covers the issuing CA certificate (its cRLDistributionPoints): it changes only if
# the issuing CA is revoked, which is an operator's ceremony.
ROOT_CRL_VALIDITY = timedelta(days=7)
ROOT_CRL_REFRESH = timedelta(hours=6)


_OCSP_STATUS: dict[SerialStatus, ocsp.CertStatus] = {
    SerialStatus.PRESIGNED: "good",
    SerialStatus.ISSUED: "good",
    SerialStatus.REVOKED: "revoked",
    SerialStatus.SUSPENDED: "revoked",
}


def responder_key_context(serial_number: int) -> dict[str, str]:
    """The encryption context of the responder's wrapped key: the IAM policies of the functions
    allow Decrypt for purpose "ocsp-responder" to the PKI function only."""
    return {"purpose": "ocsp-responder", "responder_serial": format(serial_number, "x")}


def decode_get_request(encoded: str) -> bytes | None:
    """The DER of a GET request's path segment (RFC 6960 A.1: base64, then URL-encoded; the
    gateway has URL-decoded it). Accepts missing padding and the URL-safe alphabet; None when
    it is not base64 at all."""
    text = encoded.strip()
    if not text or len(text) > MAX_GET_REQUEST_CHARS:
        return None
    altchars = b"-_" if ("-" in text or "_" in text) else None
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        return None


def _reason(name: str | None) -> x509.ReasonFlags | None:
    if not name:
        return None
    try:
        return x509.ReasonFlags(name)
    except ValueError:
        # Not an RFC 5280 name: "revoked" without a reason is still the truth.
        return None


def _revocation(record: SerialRecord, now: datetime) -> tuple[datetime, x509.ReasonFlags | None]:
    # Another Lambda's clock may run a little ahead: a revocation never postdates the answer.
    revoked_at = min(record.revoked_at or now, now)
    if record.status is SerialStatus.SUSPENDED:
        return revoked_at, x509.ReasonFlags.certificate_hold
    return revoked_at, _reason(record.revocation_reason)


@dataclass
class _Responder:
    serial_number: int
    certificate: x509.Certificate
    key: ocsp.ResponderKey
    reload_at: datetime


@dataclass(frozen=True)
class _CachedCrl:
    der: bytes
    built_at: datetime
    refresh_at: datetime


class RevocationStatus:
    """Per container: the responder key and the CRLs built so far live here (Services keeps one)."""

    def __init__(
        self,
        *,
        store: RevocationStatusStorage,
        kms: KeyManagement,
        clock: Clock,
        key_wrap_key_id: str,
        pki_base_url: str,
        certificate_authority: Callable[[], CertificateAuthority],
    ):
        self._store = store
        self._kms = kms
        self._clock = clock
        self._key_wrap_key_id = key_wrap_key_id
        self._urls = PkiUrls.from_base(pki_base_url)
        self._ca = certificate_authority
        self._lock = Lock()
        self._responder: _Responder | None = None
        self._crls: dict[str, _CachedCrl] = {}

    # --- OCSP -------------------------------------------------------------------------------
    def ocsp(self, request_der: bytes | None) -> bytes:
        """The DER OCSPResponse for a DER OCSPRequest (None: the client's encoding was broken):
        malformedRequest, unauthorized (not our CA), or a signed good / revoked / unknown."""
        if request_der is None:
            return ocsp.unsuccessful("malformedRequest")
        try:
            query = ocsp.parse_request(request_der)
        except ocsp.OcspMalformed:
            return ocsp.unsuccessful("malformedRequest")
        ca = self._ca()
        if not ocsp.issued_by(query, ca.issuing_certificate):
            return ocsp.unsuccessful("unauthorized")
        responder = self._current_responder()
        record = self._store.get_serial_status(query.serial_number)
        now = self._clock.now()
        status: ocsp.CertStatus = "unknown"
        revoked_at, reason = None, None
        if record is not None:
            status = _OCSP_STATUS[record.status]
            if status == "revoked":
                revoked_at, reason = _revocation(record, now)
        return ocsp.build_response(
            issuer_certificate=ca.issuing_certificate,
            responder_key=responder.key,
            responder_certificate=responder.certificate,
            serial_number=query.serial_number,
            cert_id_hash=query.hash_algorithm,
            status=status,
            this_update=now,
            # Never past the responder certificate: a client would reject the whole answer.
            next_update=min(now + OCSP_VALIDITY, responder.certificate.not_valid_after_utc),
            revoked_at=revoked_at,
            revocation_reason=reason,
            nonce=query.nonce,
        )

    def good_at(self, serial_number: int, now: datetime) -> bytes:
        """A signed "good" OCSPResponse about one of our certificates that the caller has just
        read as active (the signing call's credential record, checked again by its commit): the
        evidence a signature carries of its certificate's status at signing time. SHA-1 CertID,
        what RFC 5019 clients and openssl compute; no nonce (nobody asked)."""
        ca = self._ca()
        responder = self._current_responder()
        return ocsp.build_response(
            issuer_certificate=ca.issuing_certificate,
            responder_key=responder.key,
            responder_certificate=responder.certificate,
            serial_number=serial_number,
            cert_id_hash=hashes.SHA1(),  # noqa: S303  (CertID matching, not a signature)
            status="good",
            this_update=now,
            next_update=min(now + OCSP_VALIDITY, responder.certificate.not_valid_after_utc),
        )

    def _current_responder(self) -> _Responder:
        now = self._clock.now()
        with self._lock:
            responder = self._responder
            if responder is None or now >= responder.reload_at:
                record = self._store.get_ocsp_responder()
                if record is None:
                    raise ServiceUnavailable("the OCSP responder is not set up yet", retry_after=60)
                if responder is None or responder.serial_number != record.serial_number:
                    responder = self._load_responder(record, now)
                responder.reload_at = now + RESPONDER_RELOAD
                self._responder = responder
        if now >= responder.certificate.not_valid_after_utc:
            # The renewal did not run: an expired responder's answers are rejected by every
            # client, so say "retry later" rather than sign them.
            raise ServiceUnavailable("the OCSP responder certificate has expired", retry_after=300)
        return responder

    def _load_responder(self, record: OcspResponderRecord, now: datetime) -> _Responder:
        key_der = self._kms.decrypt(
            self._key_wrap_key_id, record.wrapped_private_key, responder_key_context(record.serial_number)
        )
        # Straight out of KMS authenticated decryption under the responder's context, a key the
        # service generated: no RSA re-validation (see private_key_from_kms_decryption).
        key = private_key_from_kms_decryption(key_der)
        certificate = x509.load_der_x509_certificate(record.certificate_der)
        return _Responder(record.serial_number, certificate, key, now)

    # --- CRLs -------------------------------------------------------------------------------
    def crl(self, partition: str) -> bytes | None:
        """The partition's DER CRL, or None when no unexpired certificate can name it."""
        now = self._clock.now()
        longest = certificate_validity(now)[1] - now
        if not is_live(partition, now, longest):
            return None

        def build() -> bytes:
            ca = self._ca()
            entries = [
                RevokedEntry(record.serial_number, *_revocation(record, now))
                for record in self._store.crl_entries(partition)
            ]
            return build_crl(
                issuer_certificate=ca.issuing_certificate,
                issuer_key=ca.issuing_key(self._kms),
                crl_number=crl_number_at(now),
                this_update=now,
                next_update=now + CRL_VALIDITY,
                revoked=entries,
                issuing_distribution_point_url=self._urls.crl_url(partition),
            )

        return self._cached(partition, now, CRL_REFRESH, build)

    def root_crl(self) -> bytes:
        """The root's CRL (the issuing CA certificate's cRLDistributionPoints): no revoked CA
        certificate, signed by the root key through KMS."""
        now = self._clock.now()

        def build() -> bytes:
            ca = self._ca()
            root_key = kms_private_key(
                self._kms, ca.record.root_key_id, certificate_public_key(ca.root_certificate)
            )
            return build_crl(
                issuer_certificate=ca.root_certificate,
                issuer_key=root_key,
                crl_number=crl_number_at(now),
                this_update=now,
                next_update=now + ROOT_CRL_VALIDITY,
                revoked=[],
            )

        return self._cached("root", now, ROOT_CRL_REFRESH, build)

    def _cached(self, name: str, now: datetime, refresh: timedelta, build: Callable[[], bytes]) -> bytes:
        with self._lock:
            cached = self._crls.get(name)
            # A clock set back (tests) must not serve a CRL whose thisUpdate is in the future.
            if cached is not None and cached.built_at <= now < cached.refresh_at:
                return cached.der
        der = build()
        with self._lock:
            # Bounded: at most one entry per live partition (~160) plus the root's.
            self._crls = {k: v for k, v in self._crls.items() if now < v.refresh_at}
            self._crls[name] = _CachedCrl(der, now, now + refresh)
        return der


def ensure_ocsp_responder(
    store: OcspResponderRecords,
    kms: KeyManagement,
    clock: Clock,
    ca: CertificateAuthority,
    *,
    key_wrap_key_id: str,
    force: bool = False,
) -> tuple[OcspResponderRecord, bool]:
    """Issues a new delegated responder when there is none or the current one ends within
    RESPONDER_RENEW_BEFORE (or `force`); returns (the responder in force, whether it is new).
    Idempotent: running it twice renews once; a concurrent renewal's responder wins the race.

    No pre-signing record: the responder certificate carries ocsp-nocheck, so no status service
    answers for it anyway, and an unstored one (a crash before put) is an unused 30-day
    certificate whose key was never stored anywhere."""
    now = clock.now()
    current = store.get_ocsp_responder()
    if current is not None and not force and current.not_after - now > RESPONDER_RENEW_BEFORE:
        return current, False
    key = generate_private_key(KeyAlgorithm.RSA_2048)
    serial = new_serial_number()
    certificate = build_ocsp_responder_certificate(
        ca_key=ca.issuing_key(kms),
        ca_certificate=ca.issuing_certificate,
        responder_public_key=key.public_key(),
        not_before=now,
        serial_number=serial,
    )
    record = OcspResponderRecord(
        certificate_der=certificate.public_bytes(Encoding.DER),
        wrapped_private_key=kms.encrypt(
            key_wrap_key_id, private_key_to_der(key), responder_key_context(serial)
        ),
        serial_number=serial,
        not_after=certificate.not_valid_after_utc,
        created_at=now,
    )
    try:
        store.put_ocsp_responder(record, replaces=current.serial_number if current else None)
    except ConditionFailed:
        winner = store.get_ocsp_responder()
        if winner is None:
            raise
        return winner, False
    return record, True
