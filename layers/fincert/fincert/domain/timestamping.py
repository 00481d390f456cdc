"""The time-stamping authority (RFC 3161): `POST /v1/timestamps` takes a TimeStampReq from an
institution's back end or a customer session and answers a TimeStampResp.

- The TSA key is a KMS asymmetric key of its own (template.yaml TsaKey); every token is signed
  by one KMS Sign, so no TSA key is ever in memory. Its certificate is issued by the issuing CA
  (`ensure_timestamp_authority`, run by `fincert-admin bootstrap-ca` and, on a deployment that
  predates the TSA, by `fincert-admin upgrade`), with a pre-signing record like a subscriber's,
  so OCSP and the CRLs answer for it.
- Per institution, at most `timestamps_per_institution_per_minute` tokens: the slot is taken
  before KMS is asked, so nobody spends the KMS Sign quota issuance shares; a KMS fault gives
  the slot back.
- A token is recorded (serial, imprint, time, caller; no personal data) before it is returned,
  under a serial that a conditional write keeps unique. A fault at any step returns no token, and
  a token is recorded only once it is signed: no record names a token nobody got signed.
- A request we cannot honour is an RFC 3161 rejection with its failure bit (status 200, as RFC
  3161 3.4 answers over HTTP), before any write or KMS call.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from threading import Lock
from typing import TYPE_CHECKING, Protocol

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from fincert.crypto import tsp
from fincert.crypto.keys import certificate_public_key, public_key_from_der
from fincert.crypto.kms_keys import kms_private_key
from fincert.crypto.x509_profile import PkiUrls, build_tsa_certificate, new_serial_number, tsa_validity
from fincert.domain.enrollment_records import PreSigningRecord
from fincert.domain.institution_records import Principal
from fincert.domain.rate_limits import RateLimit
from fincert.domain.retention import RECORD_RETENTION
from fincert.domain.timestamp_records import TimestampAuthorityRecord as TimestampAuthorityRecord
from fincert.domain.timestamp_records import TimestampRecord as TimestampRecord
from fincert.errors import ConditionFailed, ServiceUnavailable
from fincert.ports import Clock, KeyManagement

if TYPE_CHECKING:
    from collections.abc import Callable

    from fincert.domain.ca import CertificateAuthority

# A container re-reads the TSA record this often (one GetItem), so a new TSA certificate reaches
# every container within the hour.
TSA_RELOAD = timedelta(hours=1)
# The ledger keeps a token's record 5 years (the records rule, docs/design.md) and a margin, so a
# dispute at the end of the period still finds it.
TIMESTAMP_RETENTION = RECORD_RETENTION + timedelta(days=30)
# The pre-signing record's owner fields, for a certificate that belongs to no account.
TSA_PRESIGN_OWNER = "tsa"


class TimestampLedger(Protocol):
    """The tokens issued, one record per serial (fincert.adapters.dynamodb.timestamps)."""

    def record(self, entry: TimestampRecord) -> None:
        """Raises ConditionFailed when the serial is already recorded."""
        ...

    def take_slot(self, limit: RateLimit, now: datetime) -> None:
        """Counts one token against `limit`; RateLimited (timestamp_rate_limited) when spent."""
        ...

    def give_back_slot(self, limit: RateLimit) -> None: ...


class TimestampAuthorityRecords(Protocol):
    def get_timestamp_authority(self) -> TimestampAuthorityRecord | None: ...

    def put_pre_signing_record(self, record: PreSigningRecord) -> None: ...

    def put_timestamp_authority(self, record: TimestampAuthorityRecord) -> None:
        """Stores the TSA and marks its serial issued, together; ConditionFailed when a TSA
        exists already."""
        ...


class TimestampStorage(TimestampLedger, TimestampAuthorityRecords, Protocol):
    """The storage roles this use case needs."""


@dataclass
class _Tsa:
    record: TimestampAuthorityRecord
    certificate: x509.Certificate
    reload_at: datetime


def timestamp_rate_limit(per_minute: int, now: datetime, institution_id: str) -> RateLimit:
    window = now.replace(second=0, microsecond=0)
    return RateLimit("timestamp", institution_id, window, 60, per_minute)


class TimestampService:
    """Per container (Services keeps one): holds the TSA certificate, re-read every TSA_RELOAD."""

    def __init__(
        self,
        *,
        store: TimestampStorage,
        kms: KeyManagement,
        clock: Clock,
        policy_oid: str,
        per_institution_per_minute: int,
    ):
        self._store = store
        self._kms = kms
        self._clock = clock
        self._policy_oid = policy_oid
        self._per_minute = per_institution_per_minute
        self._lock = Lock()
        self._tsa: _Tsa | None = None

    def stamp(self, principal: Principal, request_der: bytes) -> bytes:
        """The DER TimeStampResp for a DER TimeStampReq, for an institution or customer caller
        (fincert.api.app.principal has already refused a window credential)."""
        try:
            query = tsp.parse_request(request_der)
        except tsp.TimestampRefused as e:
            return tsp.rejection(e.failure, e.message)
        if query.policy is not None and query.policy != self._policy_oid:
            return tsp.rejection("unaccepted_policy", f"this TSA issues under policy {self._policy_oid} only")
        tsa = self._current()
        now = self._clock.now()
        limit = timestamp_rate_limit(self._per_minute, now, principal.institution_id)
        self._store.take_slot(limit, now)
        serial = new_serial_number()
        key = kms_private_key(self._kms, tsa.record.key_id, certificate_public_key(tsa.certificate))
        try:
            token = tsp.build_token(
                key=key,
                tsa_certificate=tsa.certificate,
                query=query,
                policy_oid=self._policy_oid,
                serial_number=serial,
                gen_time=now,
            )
        except ServiceUnavailable:
            # Nothing was signed: the caller's retry should not be counted twice.
            self._give_back(limit)
            raise
        entry = TimestampRecord(
            serial_number=serial,
            hash_algorithm=query.hash_algorithm,
            imprint=query.hashed_message,
            gen_time=now.replace(microsecond=0),
            institution_id=principal.institution_id,
            caller="customer" if principal.account_id else "institution",
            expires_at=now + TIMESTAMP_RETENTION,
        )
        try:
            self._store.record(entry)
        except ConditionFailed:
            # 158 random bits collided: never in practice, and the token is not handed out.
            raise ServiceUnavailable("timestamp serial collision, retry", retry_after=1) from None
        return tsp.granted(token)

    def certificate(self) -> x509.Certificate:
        return self._current().certificate

    def tokens_over(
        self, values: Sequence[bytes], principal: Principal, now: datetime
    ) -> tuple[list[bytes], list[TimestampRecord]]:
        """Signature time-stamp tokens (SHA-256 imprints, certReq) over each of `values`, for the
        signing call, and what the ledger is to record of them: the caller writes the records in
        the commit that releases the signatures, so a token is on record exactly when it is
        returned. Not counted against the TSA route's per-institution limit: each of these
        signatures already cost a PIN check and a key decryption. N tokens cost N KMS Signs."""
        tsa = self._current()
        key = kms_private_key(self._kms, tsa.record.key_id, certificate_public_key(tsa.certificate))
        caller = "customer" if principal.account_id else "institution"
        queries = [
            tsp.TimestampQuery("sha256", tsp.SHA256_OID, hashlib.sha256(v).digest(), None, True, None)
            for v in values
        ]
        serials = [new_serial_number() for _ in values]

        def token(index: int) -> bytes:
            return tsp.build_token(
                key=key,
                tsa_certificate=tsa.certificate,
                query=queries[index],
                policy_oid=self._policy_oid,
                serial_number=serials[index],
                gen_time=now,
            )

        # One after the other: parallel Signs would cut the latency, but the bench attributes calls
        # by thread and would miss them (docs/benchmarks.md: the next step).
        tokens = [token(index) for index in range(len(values))]
        records = [
            TimestampRecord(
                serial_number=serial,
                hash_algorithm=query.hash_algorithm,
                imprint=query.hashed_message,
                gen_time=now.replace(microsecond=0),
                institution_id=principal.institution_id,
                caller=caller,
                expires_at=now + TIMESTAMP_RETENTION,
            )
            for serial, query in zip(serials, queries, strict=True)
        ]
        return tokens, records

    def _give_back(self, limit: RateLimit) -> None:
        # If this fails too, the slot ages out with its minute; the KMS fault is what the caller hears.
        with contextlib.suppress(ServiceUnavailable):
            self._store.give_back_slot(limit)

    def _current(self) -> _Tsa:
        now = self._clock.now()
        with self._lock:
            tsa = self._tsa
            if tsa is None or now >= tsa.reload_at:
                record = self._store.get_timestamp_authority()
                if record is None:
                    raise ServiceUnavailable("the time-stamping authority is not set up yet", retry_after=60)
                certificate = (
                    tsa.certificate
                    if tsa is not None and tsa.record.serial_number == record.serial_number
                    else x509.load_der_x509_certificate(record.certificate_der)
                )
                tsa = _Tsa(record, certificate, now + TSA_RELOAD)
                self._tsa = tsa
        if not (tsa.certificate.not_valid_before_utc <= now <= tsa.certificate.not_valid_after_utc):
            # A token outside its certificate's validity verifies nowhere: say "retry later".
            raise ServiceUnavailable("the TSA certificate is not valid now", retry_after=300)
        return tsa


def ensure_timestamp_authority(
    store: TimestampAuthorityRecords,
    kms: KeyManagement,
    clock: Clock,
    ca: CertificateAuthority,
    *,
    tsa_key_id: str,
    policy_oid: str,
    pki_base_url: str,
) -> tuple[TimestampAuthorityRecord, bool]:
    """Issues the TSA certificate for the TSA's KMS key when there is none; returns (the TSA in
    force, whether it is new). Idempotent, and safe to race: the first stored wins. The CA signs
    after a pre-signing record (as for a subscriber), so a certificate signed but never stored is
    revoked by the reconciler."""
    current = store.get_timestamp_authority()
    if current is not None:
        return current, False
    if not tsa_key_id:
        raise ServiceUnavailable("TSA_KEY_ID is not configured", retry_after=60)
    now = clock.now()
    public_key = public_key_from_der(kms.public_key_der(tsa_key_id))
    serial = new_serial_number()
    urls = PkiUrls.from_base(pki_base_url)

    not_after = tsa_validity(now, ca.issuing_certificate)[1]

    def before_sign(tbs: bytes) -> None:
        store.put_pre_signing_record(
            PreSigningRecord(
                serial_number=serial,
                credential_id=TSA_PRESIGN_OWNER,
                account_id=TSA_PRESIGN_OWNER,
                tbs_sha256=hashlib.sha256(tbs).hexdigest(),
                not_after=not_after,
                created_at=now,
            )
        )

    certificate = build_tsa_certificate(
        ca_key=ca.issuing_key(kms, before_sign=before_sign),
        ca_certificate=ca.issuing_certificate,
        tsa_public_key=public_key,
        serial_number=serial,
        not_before=now,
        urls=urls,
        policy_oid=policy_oid,
    )
    record = TimestampAuthorityRecord(
        key_id=tsa_key_id,
        certificate_der=certificate.public_bytes(Encoding.DER),
        serial_number=serial,
        not_after=certificate.not_valid_after_utc,
        created_at=now,
    )
    try:
        store.put_timestamp_authority(record)
    except ConditionFailed:
        winner = store.get_timestamp_authority()
        if winner is None:
            raise
        return winner, False
    return record, True


@dataclass(frozen=True)
class SigningEvidence:
    """What a signing call's signatures carry for a relying party to hold offline: a time-stamp
    token per signature value (in order), the OCSP response for the signer's certificate at
    signing time, and the ledger records of the tokens (written with the signatures' commit)."""

    tokens: tuple[bytes, ...]
    ocsp_response: bytes
    records: tuple[TimestampRecord, ...]


def signing_evidence(
    timestamps: TimestampService,
    ocsp_response: Callable[[int, datetime], bytes],
    principal: Principal,
    serial_number: int,
    signature_values: Sequence[bytes],
    now: datetime,
) -> SigningEvidence:
    """`ocsp_response(serial, now)`: a signed "good" answer for a certificate the caller has just
    read as active (fincert.domain.revocation_status.RevocationStatus.good_at)."""
    tokens, records = timestamps.tokens_over(signature_values, principal, now)
    return SigningEvidence(tuple(tokens), ocsp_response(serial_number, now), tuple(records))
