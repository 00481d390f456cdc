"""The DynamoDB adapter: the single table's item shapes and every read and write of them.

Keys (pk / sk):
  INST#<institution>   INSTITUTION        a member institution; its API key only as a hash
  CA                   CA                 the CA's certificates and KMS key ids
  PERSON#<index>       PERSON             blind index of name|phone|birth date -> account id
  ACCT#<account>       ACCOUNT            PIN verifier and attempt counters, active credential,
                                          registered institutions, device count, last use
  ACCT#<account>       CRED#<credential>  certificate, KMS-wrapped private key, status
  ACCT#<account>       SESSION#<id>       a customer session (token hash, institution, TTL)
  ACCT#<account>       SAD#<id>           signature activation data (CSC), a few minutes (TTL)
  ACCT#<account>       DEVICE#<id>        a registered device's public key (at most 5)
  ACCT#<account>       DEVCHAL#<id>       a device's single-use connection challenge (TTL)
  ACCT#<account>       HIST#<time>#<id>   the customer's usage history, newest last
  VERIFY#<id>          VERIFICATION       an SMS re-verification (connection, PIN reset; TTL)
  ENR#<enrollment>     ENROLLMENT         a pending enrollment (TTL)
  SERIAL#<hex>         SERIAL             pre-signing record, then the revocation record
  RATE#<scope>#<subj>  <window start>     rate-limit counter (TTL)
  PURGE#<account>      PURGE              an idle purge's audit record, no personal data (TTL)
Sparse index `due` (due_pk, due_sk): only items some job must act on, e.g. pre-signing records
whose certificate was never stored (due_pk = "presigned"), and every account by the KST day it
was last used (due_pk = "idle#<shard>", due_sk = "<YYYY-MM-DD>#<account>"; the idle purge
queries each shard for days before its cutoff). Sharded so one index partition never takes
every account's daily write. The daily jobs' entries are listed with their methods below.
Sparse index `crl` (crl_pk, crl_sk; INCLUDE status, revoked_at, revocation_reason): only revoked
and suspended SERIAL records, by CRL partition (crl_pk, fincert.crl_partitions) and serial, so a
partition's CRL is one Query. Only `serial_status_update` sets or clears these keys.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from fincert.adapters.aws_errors import aws_call, error_code
from fincert.clock import kst_date
from fincert.crl_partitions import EXPIRED_PARTITION, crl_partition
from fincert.domain.model import (
    Account,
    CertificateAuthorityRecord,
    Credential,
    CredentialStatus,
    Device,
    DeviceChallenge,
    DueEntry,
    DuePage,
    Enrollment,
    EnrollmentStatus,
    HistoryEntry,
    HistoryEvent,
    IdleState,
    Institution,
    IssuanceCommit,
    OcspResponderRecord,
    PartitionItem,
    PinSlot,
    PreSigningRecord,
    PurgeRecord,
    RateLimit,
    RenewalCommit,
    RevocationReason,
    SerialRecord,
    SerialStatus,
    Session,
    SignatureActivation,
    StatusAction,
    StatusChange,
    Verification,
    VerificationPurpose,
)
from fincert.domain.pin import MAX_PIN_FAILURES
from fincert.domain.schedule import renewal_window_start
from fincert.errors import (
    ConditionFailed,
    EnrollmentUnavailable,
    PinSlotRefused,
    RateLimited,
    ServiceUnavailable,
)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

# Enrollment items outlive their 5-minute validity so an identical retry can be answered.
_ENROLLMENT_RETENTION = timedelta(days=1)
# Usage history is kept 5 years, the retention Korea's Electronic Financial Transactions Act
# asks of transaction records; TTL deletes it after that.
HISTORY_RETENTION = timedelta(days=5 * 366)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _from_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _iso_millis(moment: datetime) -> str:
    # History sort keys: millisecond precision keeps a burst of events in order.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _from_iso_millis(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _from_millis(value: Decimal | int) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


def _epoch_seconds(moment: datetime) -> int:
    return math.ceil(moment.timestamp())


# Spreads the accounts' idle entries over this many `due` partitions.
IDLE_SHARDS = 16


def idle_shard(account_id: str) -> int:
    return hashlib.sha256(account_id.encode()).digest()[0] % IDLE_SHARDS


def last_use_attributes(account_id: str, day: date) -> dict[str, str]:
    """The ACCOUNT attributes that record a cloud use on a KST day, with its idle-purge entry
    in `due`. Setting due_pk also takes the account out of any "warned" state."""
    return {
        "last_used_day": day.isoformat(),
        "due_pk": f"idle#{idle_shard(account_id)}",
        "due_sk": f"{day.isoformat()}#{account_id}",
    }


def last_use_assignments(account_id: str, day: date) -> tuple[str, dict[str, Any]]:
    """last_use_attributes as SET assignments and their values: every write that touches the
    ACCOUNT item anyway carries them, so recording use costs no extra round trip."""
    attributes = last_use_attributes(account_id, day)
    assignments = ", ".join(f"{name} = :lu_{name}" for name in attributes)
    return assignments, {f":lu_{name}": value for name, value in attributes.items()}


# A new PIN starts with no failures: attempts and forgiven attempts both at 0, locked at the 5th.
_PIN_COUNTERS_RESET = {"pin_attempts": 0, "pin_cleared": 0, "pin_lock_at": MAX_PIN_FAILURES}
_PIN_COUNTERS_RESET_ASSIGNMENTS = ", ".join(f"{name} = :pr_{name}" for name in _PIN_COUNTERS_RESET)


def _pin_counters_reset_values() -> dict[str, Any]:
    return {f":pr_{name}": value for name, value in _PIN_COUNTERS_RESET.items()}


def _status_in(statuses: Sequence[StrEnum], values: dict[str, Any], prefix: str) -> str:
    """`#status IN (...)` over these statuses, adding their placeholders to `values`."""
    placeholders = []
    for i, status in enumerate(statuses):
        values[f"{prefix}{i}"] = status.value
        placeholders.append(f"{prefix}{i}")
    return f"#status IN ({', '.join(placeholders)})"


def _serial_hex(serial: int) -> str:
    return format(serial, "x")


def _bytes(value: Any) -> bytes:
    return bytes(value.value) if isinstance(value, Binary) else bytes(value)


def _dump(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def _load(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def _values(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items()}


class DynamoStore:
    def __init__(self, client: Callable[[], Any], table_name: str):
        self._client = client
        self._table = table_name

    # --- plumbing ----------------------------------------------------------------------------
    def _query_all(self, **query: Any) -> list[dict[str, Any]]:
        """Every item a Query matches, following its pages (1 MB each)."""
        items: list[dict[str, Any]] = []
        start_key = None
        while True:
            page_query = query | ({"ExclusiveStartKey": start_key} if start_key else {})
            with aws_call("DynamoDB"):
                page = self._client().query(TableName=self._table, **page_query)
            items += [_load(raw) for raw in page.get("Items", [])]
            start_key = page.get("LastEvaluatedKey")
            if not start_key:
                return items

    def _get(self, pk: str, sk: str, consistent: bool = True) -> dict[str, Any] | None:
        with aws_call("DynamoDB"):
            response = self._client().get_item(
                TableName=self._table, Key=_dump({"pk": pk, "sk": sk}), ConsistentRead=consistent
            )
        item = response.get("Item")
        return _load(item) if item else None

    def _put_new(self, item: dict[str, Any]) -> None:
        try:
            with aws_call("DynamoDB"):
                self._client().put_item(
                    TableName=self._table, Item=_dump(item), ConditionExpression="attribute_not_exists(pk)"
                )
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                raise ConditionFailed(f"{item['pk']} exists") from e
            raise

    def _update(self, pk: str, sk: str, **request: Any) -> dict[str, Any]:
        """One UpdateItem; a failed condition raises ConditionFailed, carrying the stored item
        when the request asked for it (ReturnValuesOnConditionCheckFailure)."""
        try:
            with aws_call("DynamoDB"):
                return self._client().update_item(TableName=self._table, Key=self._key(pk, sk), **request)
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                stored = e.response.get("Item")
                raise ConditionFailed(
                    f"{pk} condition failed", stored=_load(stored) if stored else None
                ) from e
            raise

    def _transact(self, items: list[dict[str, Any]], names: list[str], token: str | None = None) -> None:
        """Runs a transaction; a failed condition becomes ConditionFailed naming the items.
        With a token, botocore's retry of a transaction whose answer was lost is idempotent
        (DynamoDB recognises the token for 10 minutes) instead of failing its own conditions."""
        request: dict[str, Any] = {"TransactItems": items}
        if token:
            request["ClientRequestToken"] = token
        try:
            with aws_call("DynamoDB"):
                self._client().transact_write_items(**request)
        except ClientError as e:
            if error_code(e) != "TransactionCanceledException":
                raise
            reasons = e.response.get("CancellationReasons", [])
            failed = [
                names[i] for i, reason in enumerate(reasons) if reason.get("Code") == "ConditionalCheckFailed"
            ]
            if not failed:
                # Cancelled for a conflict with another transaction or throttling: retryable.
                raise ServiceUnavailable("DynamoDB transaction conflict, retry", retry_after=1) from e
            raise ConditionFailed("transaction condition failed", reasons=failed) from e

    def _key(self, pk: str, sk: str) -> dict[str, Any]:
        return _dump({"pk": pk, "sk": sk})

    # --- institutions and the CA ---------------------------------------------------------------
    def get_institution(self, institution_id: str) -> Institution | None:
        item = self._get(f"INST#{institution_id}", "INSTITUTION", consistent=False)
        if item is None:
            return None
        return Institution(
            institution_id=item["institution_id"],
            name=item["name"],
            api_key_hash=item["api_key_hash"],
            scopes=frozenset(item.get("scopes", ())),
            allowed_origins=tuple(item.get("allowed_origins", ())),
            active=bool(item.get("active", True)),
        )

    def put_institution(self, institution: Institution) -> None:
        """The institution and, for CORS preflights (which carry no credentials), an ORIGIN item
        per browser origin it registered, naming the institutions that use it."""
        item = {
            "pk": f"INST#{institution.institution_id}",
            "sk": "INSTITUTION",
            "institution_id": institution.institution_id,
            "name": institution.name,
            "api_key_hash": institution.api_key_hash,
            "scopes": set(institution.scopes) or None,
            "allowed_origins": list(institution.allowed_origins),
            "active": institution.active,
        }
        origins = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": self._key(f"ORIGIN#{origin}", "ORIGIN"),
                    "UpdateExpression": "ADD institutions :institution",
                    "ExpressionAttributeValues": _values({":institution": {institution.institution_id}}),
                }
            }
            for origin in dict.fromkeys(institution.allowed_origins)
        ]
        try:
            self._transact([self._put(item), *origins], ["institution"] + ["origin"] * len(origins))
        except ConditionFailed as e:
            raise ConditionFailed(f"INST#{institution.institution_id} exists") from e

    def origin_registered(self, origin: str) -> bool:
        return self._get(f"ORIGIN#{origin}", "ORIGIN", consistent=False) is not None

    def get_certificate_authority(self) -> CertificateAuthorityRecord | None:
        item = self._get("CA", "CA")
        if item is None:
            return None
        return CertificateAuthorityRecord(
            root_key_id=item["root_key_id"],
            issuing_key_id=item["issuing_key_id"],
            root_certificate_der=_bytes(item["root_certificate"]),
            issuing_certificate_der=_bytes(item["issuing_certificate"]),
            created_at=_from_iso(item["created_at"]),
        )

    def put_certificate_authority(self, record: CertificateAuthorityRecord) -> None:
        self._put_new(
            {
                "pk": "CA",
                "sk": "CA",
                "root_key_id": record.root_key_id,
                "issuing_key_id": record.issuing_key_id,
                "root_certificate": record.root_certificate_der,
                "issuing_certificate": record.issuing_certificate_der,
                "created_at": _iso(record.created_at),
            }
        )

    # --- people, accounts, credentials ----------------------------------------------------------
    def find_account_id(self, person_index: str) -> str | None:
        item = self._get(f"PERSON#{person_index}", "PERSON")
        return item["account_id"] if item else None

    def get_account(self, account_id: str) -> Account | None:
        item = self._get(f"ACCT#{account_id}", "ACCOUNT")
        return self._to_account(account_id, item) if item else None

    def _to_account(self, account_id: str, item: dict[str, Any]) -> Account:
        serial = item.get("active_serial")
        return Account(
            account_id=account_id,
            person_index=item["person_index"],
            holder_suffix=item["holder_suffix"],
            identity_ciphertext=_bytes(item["identity_ciphertext"]),
            pin_verifier=item["pin_verifier"],
            created_at=_from_iso(item["created_at"]),
            active_credential_id=item.get("active_credential_id"),
            active_serial=int(serial, 16) if serial else None,
            pin_attempts=int(item.get("pin_attempts", 0)),
            pin_cleared=int(item.get("pin_cleared", 0)),
            institutions=frozenset(item.get("institutions", ())),
            device_count=int(item.get("device_count", 0)),
            last_used_day=item.get("last_used_day"),
            credential_suspended=bool(item.get("credential_suspended", False)),
        )

    def get_credential(self, account_id: str, credential_id: str) -> Credential | None:
        item = self._get(f"ACCT#{account_id}", f"CRED#{credential_id}")
        return self._to_credential(account_id, item) if item else None

    def _to_credential(self, account_id: str, item: dict[str, Any]) -> Credential:
        return Credential(
            credential_id=item["credential_id"],
            account_id=account_id,
            serial_number=int(item["serial"], 16),
            key_algorithm=item["key_algorithm"],
            certificate_der=_bytes(item["certificate"]),
            wrapped_private_key=_bytes(item["wrapped_private_key"]),
            not_before=_from_iso(item["not_before"]),
            not_after=_from_iso(item["not_after"]),
            issued_by=item["issued_by"],
            auto_renew=bool(item["auto_renew"]),
            created_at=_from_iso(item["created_at"]),
            status=CredentialStatus(item["status"]),
            status_changed_at=(
                _from_iso_millis(item["status_changed_at"]) if item.get("status_changed_at") else None
            ),
        )

    # --- enrollment ----------------------------------------------------------------------------
    def _rate_limit_update(self, limit: RateLimit, delta: int, *, conditional: bool) -> dict[str, Any]:
        window_end = limit.window_start + timedelta(seconds=limit.window_seconds)
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": self._key(f"RATE#{limit.scope}#{limit.subject}", _iso(limit.window_start)),
            "UpdateExpression": "ADD #n :delta SET expires_at = :ttl",
            "ExpressionAttributeNames": {"#n": "count"},
            "ExpressionAttributeValues": _values({":delta": delta, ":ttl": _epoch_seconds(window_end)}),
        }
        if conditional:
            update["ConditionExpression"] = "attribute_not_exists(#n) OR #n < :limit"
            update["ExpressionAttributeValues"].update(_values({":limit": limit.limit}))
        return {"Update": update}

    def _enrollment_item(self, e: Enrollment) -> dict[str, Any]:
        return {
            "pk": f"ENR#{e.enrollment_id}",
            "sk": "ENROLLMENT",
            "institution_id": e.institution_id,
            "person_index": e.person_index,
            "phone_index": e.phone_index,
            "account_id": e.account_id,
            "identity_ciphertext": e.identity_ciphertext,
            "challenge_ciphertext": e.challenge_ciphertext,
            "key_algorithm": e.key_algorithm,
            "auto_renew": e.auto_renew,
            "created_at": _iso(e.created_at),
            "valid_until": _millis(e.expires_at),
            "attempts": e.attempts,
            "status": e.status.value,
            "expires_at": _epoch_seconds(e.expires_at + _ENROLLMENT_RETENTION),
        }

    def _create_with_limits(
        self, item: dict[str, Any], limits: Sequence[RateLimit], created_at: datetime
    ) -> None:
        """Writes a new item that texts a code, counting it against every SMS limit, atomically."""
        updates = [self._rate_limit_update(limit, 1, conditional=True) for limit in limits]
        put = {
            "Put": {
                "TableName": self._table,
                "Item": _dump(item),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        try:
            self._transact([*updates, put], [limit.scope for limit in limits] + ["item"])
        except ConditionFailed as e:
            exhausted = [scope for scope in e.reasons if scope != "item"]
            if not exhausted:
                raise
            window_end = limits[0].window_start + timedelta(seconds=limits[0].window_seconds)
            retry_after = max(1, math.ceil((window_end - created_at).total_seconds()))
            raise RateLimited(
                "too many SMS codes requested, retry later",
                code="sms_rate_limited",
                retry_after=retry_after,
                limit=exhausted[0],
            ) from e

    def _cancel_with_limits(self, pk: str, sk: str, limits: Sequence[RateLimit]) -> None:
        items = [self._rate_limit_update(limit, -1, conditional=False) for limit in limits]
        items.append({"Delete": {"TableName": self._table, "Key": self._key(pk, sk)}})
        self._transact(items, [limit.scope for limit in limits] + ["item"])

    def create_enrollment(self, enrollment: Enrollment, limits: Sequence[RateLimit]) -> None:
        self._create_with_limits(self._enrollment_item(enrollment), limits, enrollment.created_at)

    def cancel_enrollment(self, enrollment: Enrollment, limits: Sequence[RateLimit]) -> None:
        self._cancel_with_limits(f"ENR#{enrollment.enrollment_id}", "ENROLLMENT", limits)

    def _to_enrollment(self, item: dict[str, Any]) -> Enrollment:
        lease = item.get("lease_until")
        return Enrollment(
            enrollment_id=item["pk"].removeprefix("ENR#"),
            institution_id=item["institution_id"],
            person_index=item["person_index"],
            phone_index=item["phone_index"],
            account_id=item.get("account_id"),
            identity_ciphertext=_bytes(item["identity_ciphertext"]),
            challenge_ciphertext=_bytes(item["challenge_ciphertext"]),
            key_algorithm=item["key_algorithm"],
            auto_renew=bool(item["auto_renew"]),
            created_at=_from_iso(item["created_at"]),
            expires_at=_from_millis(item["valid_until"]),
            attempts=int(item.get("attempts", 0)),
            status=EnrollmentStatus(item["status"]),
            lease_until=_from_millis(lease) if lease is not None else None,
            credential_id=item.get("credential_id"),
            confirmed_account_id=item.get("confirmed_account_id"),
            pin_verifier_digest=item.get("pin_verifier_digest"),
        )

    def claim_enrollment(
        self, enrollment_id: str, institution_id: str, now: datetime, lease_until: datetime, max_attempts: int
    ) -> Enrollment:
        try:
            response = self._update(
                f"ENR#{enrollment_id}",
                "ENROLLMENT",
                UpdateExpression="SET lease_until = :lease ADD attempts :one",
                ConditionExpression=(
                    "attribute_exists(pk) AND institution_id = :iid AND #status = :pending"
                    " AND valid_until > :now AND attempts < :max"
                    " AND (attribute_not_exists(lease_until) OR lease_until < :now)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=_values(
                    {
                        ":lease": _millis(lease_until),
                        ":one": 1,
                        ":iid": institution_id,
                        ":pending": EnrollmentStatus.PENDING.value,
                        ":now": _millis(now),
                        ":max": max_attempts,
                    }
                ),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ConditionFailed as e:
            raise EnrollmentUnavailable(self._to_enrollment(e.stored) if e.stored else None) from e
        return self._to_enrollment(_load(response["Attributes"]))

    def release_enrollment(self, enrollment_id: str, lease_until: datetime, *, refund_attempt: bool) -> None:
        expression = "REMOVE lease_until" + (" ADD attempts :minus_one" if refund_attempt else "")
        values = {":lease": _millis(lease_until)} | ({":minus_one": -1} if refund_attempt else {})
        # Only our own lease: a later claimant's must not be released by us.
        with contextlib.suppress(ConditionFailed):
            self._update(
                f"ENR#{enrollment_id}",
                "ENROLLMENT",
                UpdateExpression=expression,
                ConditionExpression="lease_until = :lease",
                ExpressionAttributeValues=_values(values),
            )

    def count_replay(self, enrollment_id: str, institution_id: str, max_replays: int) -> None:
        self._update(
            f"ENR#{enrollment_id}",
            "ENROLLMENT",
            UpdateExpression="ADD replays :one",
            ConditionExpression=(
                "#status = :confirmed AND institution_id = :iid AND (attribute_not_exists(replays) OR replays < :max)"
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=_values(
                {
                    ":one": 1,
                    ":confirmed": EnrollmentStatus.CONFIRMED.value,
                    ":iid": institution_id,
                    ":max": max_replays,
                }
            ),
        )

    # --- issuance ------------------------------------------------------------------------------
    def put_pre_signing_record(self, record: PreSigningRecord) -> None:
        self._put_new(
            {
                "pk": f"SERIAL#{_serial_hex(record.serial_number)}",
                "sk": "SERIAL",
                "credential_id": record.credential_id,
                "account_id": record.account_id,
                "tbs_sha256": record.tbs_sha256,
                "not_after": _iso(record.not_after),
                "created_at": _iso(record.created_at),
                "status": "presigned",
                # Copied into crl_pk when the serial is revoked (serial_status_update).
                "crl_partition": crl_partition(record.not_after),
                "due_pk": "presigned",
                "due_sk": f"{_iso(record.created_at)}#{_serial_hex(record.serial_number)}",
                # Kept until the certificate expires: OCSP and CRLs answer for it until then.
                "expires_at": _epoch_seconds(record.not_after),
            }
        )

    def presigned_before(self, cutoff: datetime, limit: int) -> list[int]:
        serials: list[int] = []
        start_key = None
        while len(serials) < limit:
            query: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": "due",
                "KeyConditionExpression": "due_pk = :presigned AND due_sk < :cutoff",
                "ExpressionAttributeValues": _values({":presigned": "presigned", ":cutoff": _iso(cutoff)}),
                "Limit": limit - len(serials),
            }
            if start_key:
                query["ExclusiveStartKey"] = start_key
            with aws_call("DynamoDB"):
                page = self._client().query(**query)
            serials += [int(_load(item)["pk"].removeprefix("SERIAL#"), 16) for item in page.get("Items", [])]
            start_key = page.get("LastEvaluatedKey")
            if not start_key:
                break
        return serials

    def revoke_unstored(self, serial_number: int, now: datetime, reason: RevocationReason) -> bool:
        # A commit that lands first wins: its certificate is stored and stays valid.
        return self.set_serial_status(
            serial_number,
            SerialStatus.REVOKED,
            at=now,
            reason=reason.value,
            only_from=(SerialStatus.PRESIGNED,),
        )

    def commit_issuance(self, commit: IssuanceCommit) -> None:
        c, account, now = commit.credential, commit.account, commit.now
        acct_pk = f"ACCT#{account.account_id}"
        items: list[dict[str, Any]] = []
        names: list[str] = []

        def add(name: str, operation: str, body: dict[str, Any]) -> None:
            items.append({operation: {"TableName": self._table, **body}})
            names.append(name)

        # Issuance is a cloud use: it starts (or restarts) the idle-purge clock.
        last_use, last_use_values = last_use_assignments(account.account_id, kst_date(now))
        if commit.previous is None:
            add(
                "account",
                "Put",
                {
                    "Item": _dump(
                        {
                            "pk": f"PERSON#{account.person_index}",
                            "sk": "PERSON",
                            "account_id": account.account_id,
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(pk)",
                },
            )
            add(
                "account",
                "Put",
                {
                    "Item": _dump(
                        {
                            "pk": acct_pk,
                            "sk": "ACCOUNT",
                            "person_index": account.person_index,
                            "holder_suffix": account.holder_suffix,
                            "identity_ciphertext": account.identity_ciphertext,
                            "pin_verifier": account.pin_verifier,
                            **_PIN_COUNTERS_RESET,
                            "institutions": {c.issued_by},
                            "active_credential_id": c.credential_id,
                            "active_serial": _serial_hex(c.serial_number),
                            "created_at": _iso(account.created_at),
                            "updated_at": _iso(now),
                        }
                        | last_use_attributes(account.account_id, kst_date(now))
                    ),
                    "ConditionExpression": "attribute_not_exists(pk)",
                },
            )
        else:
            old_id, old_serial = commit.previous.active_credential_id, commit.previous.active_serial
            condition = "attribute_exists(pk) AND " + (
                "active_credential_id = :old" if old_id else "attribute_not_exists(active_credential_id)"
            )
            values = (
                {
                    ":cid": c.credential_id,
                    ":serial": _serial_hex(c.serial_number),
                    ":verifier": account.pin_verifier,
                    ":now": _iso(now),
                    ":issuer": {c.issued_by},
                }
                | _pin_counters_reset_values()
                | last_use_values
                | ({":old": old_id} if old_id else {})
            )
            add(
                "account",
                "Update",
                {
                    "Key": self._key(acct_pk, "ACCOUNT"),
                    "UpdateExpression": (
                        "SET active_credential_id = :cid, active_serial = :serial, pin_verifier = :verifier,"
                        f" {_PIN_COUNTERS_RESET_ASSIGNMENTS}, updated_at = :now, {last_use}"
                        " ADD institutions :issuer"
                        # A reissue replaces a suspended certificate too; the new one is not.
                        " REMOVE credential_suspended"
                    ),
                    "ConditionExpression": condition,
                    "ExpressionAttributeValues": _values(values),
                },
            )
            if old_id and old_serial is not None:
                revoked = {
                    ":revoked": CredentialStatus.REVOKED.value,
                    ":at": _iso(now),
                    ":reason": RevocationReason.SUPERSEDED.value,
                }
                add(
                    "old_credential",
                    "Update",
                    {
                        "Key": self._key(acct_pk, f"CRED#{old_id}"),
                        # A superseded certificate is no longer due for renewal or a notice.
                        "UpdateExpression": (
                            "SET #status = :revoked, revoked_at = :at, revocation_reason = :reason"
                            " REMOVE due_pk, due_sk"
                        ),
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": _values(revoked),
                    },
                )
                # No existence condition: past its certificate's notAfter the serial record is
                # gone (TTL), and reissuing must still work. A record recreated here expires at
                # once (the TTL it had, or now), since only unexpired certificates need one.
                add(
                    "old_serial",
                    "Update",
                    self.serial_status_update(
                        old_serial,
                        SerialStatus.REVOKED,
                        at=now,
                        reason=RevocationReason.SUPERSEDED.value,
                        recreate_expiring_at=now,
                    ),
                )

        add(
            "credential",
            "Put",
            {
                "Item": _dump(_credential_item(c)),
                "ConditionExpression": "attribute_not_exists(pk)",
            },
        )
        issued = HistoryEntry(
            event=HistoryEvent.ISSUED,
            at=now,
            institution_id=c.issued_by,
            credential_id=c.credential_id,
            detail={
                "serial": _serial_hex(c.serial_number),
                "reissue": str(commit.previous is not None).lower(),
            },
            entry_id=c.credential_id.removeprefix("cred_")[:8],
        )
        add("history", "Put", {"Item": _dump(self._history_item(account.account_id, issued))})
        add(
            "new_serial",
            "Update",
            {
                "Key": self._key(f"SERIAL#{_serial_hex(c.serial_number)}", "SERIAL"),
                "UpdateExpression": "SET #status = :issued REMOVE due_pk, due_sk",
                "ConditionExpression": "#status = :presigned",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": _values({":issued": "issued", ":presigned": "presigned"}),
            },
        )
        add(
            "enrollment",
            "Update",
            {
                "Key": self._key(f"ENR#{commit.enrollment.enrollment_id}", "ENROLLMENT"),
                "UpdateExpression": (
                    "SET #status = :confirmed, credential_id = :cid, confirmed_account_id = :aid,"
                    " pin_verifier_digest = :digest REMOVE lease_until"
                ),
                "ConditionExpression": "#status = :pending AND lease_until = :lease",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": _values(
                    {
                        ":confirmed": EnrollmentStatus.CONFIRMED.value,
                        ":pending": EnrollmentStatus.PENDING.value,
                        ":cid": c.credential_id,
                        ":aid": account.account_id,
                        ":digest": commit.pin_verifier_digest,
                        ":lease": _millis(commit.lease_until),
                    }
                ),
            },
        )
        # One token per claim of the enrollment and per account state it builds on: botocore's
        # retry of this very commit is one commit, while the domain's rebuilt commit after an
        # account race (other items) gets a new token (DynamoDB refuses a token reused with
        # other parameters).
        previous = commit.previous.active_credential_id if commit.previous else "new-account"
        token = hashlib.sha256(
            f"{commit.enrollment.enrollment_id}|{_millis(commit.lease_until)}|{previous}".encode()
        )
        self._transact(items, names, token=token.hexdigest()[:36])

    # --- customers: SMS re-verification, sessions -----------------------------------------------
    def _condition_check_account(self, account_id: str) -> dict[str, Any]:
        """A transaction item that fails once the account is gone: nothing written for an account
        (a session, a device, a SAD) can outlive or resurrect a purged one."""
        return {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": self._key(f"ACCT#{account_id}", "ACCOUNT"),
                "ConditionExpression": "attribute_exists(pk)",
            }
        }

    def _touch_account(self, account_id: str, today: date) -> dict[str, Any]:
        """A transaction item recording a cloud use, on condition that the account exists."""
        assignments, values = last_use_assignments(account_id, today)
        return {
            "Update": {
                "TableName": self._table,
                "Key": self._key(f"ACCT#{account_id}", "ACCOUNT"),
                "UpdateExpression": f"SET {assignments}",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": _values(values),
            }
        }

    def _put(self, item: dict[str, Any], *, new: bool = True) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self._table, "Item": _dump(item)}
        if new:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        return {"Put": put}

    def _history_item(self, account_id: str, entry: HistoryEntry) -> dict[str, Any]:
        return {
            "pk": f"ACCT#{account_id}",
            "sk": f"HIST#{_iso_millis(entry.at)}#{entry.entry_id}",
            "event": entry.event.value,
            "at": _iso_millis(entry.at),
            "institution_id": entry.institution_id,
            "credential_id": entry.credential_id,
            "detail": dict(entry.detail) if entry.detail else None,
            "expires_at": _epoch_seconds(entry.at + HISTORY_RETENTION),
        }

    def _verification_item(self, v: Verification) -> dict[str, Any]:
        return {
            "pk": f"VERIFY#{v.verification_id}",
            "sk": "VERIFICATION",
            "purpose": v.purpose.value,
            "institution_id": v.institution_id,
            "account_id": v.account_id,
            "challenge_ciphertext": v.challenge_ciphertext,
            "created_at": _iso(v.created_at),
            "valid_until": _millis(v.expires_at),
            "attempts": v.attempts,
            "used": v.used,
            "expires_at": _epoch_seconds(v.expires_at + _ENROLLMENT_RETENTION),
        }

    def _to_verification(self, item: dict[str, Any]) -> Verification:
        return Verification(
            verification_id=item["pk"].removeprefix("VERIFY#"),
            purpose=VerificationPurpose(item["purpose"]),
            institution_id=item["institution_id"],
            account_id=item.get("account_id"),
            challenge_ciphertext=_bytes(item["challenge_ciphertext"]),
            created_at=_from_iso(item["created_at"]),
            expires_at=_from_millis(item["valid_until"]),
            attempts=int(item.get("attempts", 0)),
            used=bool(item.get("used", False)),
        )

    def create_verification(self, verification: Verification, limits: Sequence[RateLimit]) -> None:
        self._create_with_limits(self._verification_item(verification), limits, verification.created_at)

    def cancel_verification(self, verification: Verification, limits: Sequence[RateLimit]) -> None:
        self._cancel_with_limits(f"VERIFY#{verification.verification_id}", "VERIFICATION", limits)

    def claim_verification(
        self,
        verification_id: str,
        institution_id: str,
        purpose: VerificationPurpose,
        now: datetime,
        max_attempts: int,
    ) -> Verification:
        try:
            response = self._update(
                f"VERIFY#{verification_id}",
                "VERIFICATION",
                UpdateExpression="ADD attempts :one",
                ConditionExpression=(
                    "attribute_exists(pk) AND institution_id = :iid AND purpose = :purpose AND used = :false"
                    " AND valid_until > :now AND attempts < :max"
                ),
                ExpressionAttributeValues=_values(
                    {
                        ":one": 1,
                        ":iid": institution_id,
                        ":purpose": purpose.value,
                        ":false": False,
                        ":now": _millis(now),
                        ":max": max_attempts,
                    }
                ),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ConditionFailed as e:
            stored = self._to_verification(e.stored) if e.stored else None
            raise ConditionFailed("verification cannot be claimed", stored=stored) from e
        return self._to_verification(_load(response["Attributes"]))

    def refund_verification_attempt(self, verification_id: str) -> None:
        with contextlib.suppress(ConditionFailed):
            self._update(
                f"VERIFY#{verification_id}",
                "VERIFICATION",
                UpdateExpression="ADD attempts :minus_one",
                ConditionExpression="attempts > :zero AND used = :false",
                ExpressionAttributeValues=_values({":minus_one": -1, ":zero": 0, ":false": False}),
            )

    def _use_verification(self, verification_id: str) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table,
                "Key": self._key(f"VERIFY#{verification_id}", "VERIFICATION"),
                "UpdateExpression": "SET used = :true",
                "ConditionExpression": "used = :false",
                "ExpressionAttributeValues": _values({":true": True, ":false": False}),
            }
        }

    def _session_item(self, s: Session) -> dict[str, Any]:
        return {
            "pk": f"ACCT#{s.account_id}",
            "sk": f"SESSION#{s.session_id}",
            "institution_id": s.institution_id,
            "secret_hash": s.secret_hash,
            "created_at": _iso(s.created_at),
            "valid_until": _millis(s.expires_at),
            "via": s.via,
            "device_id": s.device_id,
            "allowed_origins": list(s.allowed_origins),
            "expires_at": _epoch_seconds(s.expires_at),
        }

    def complete_connection(
        self, verification_id: str, session: Session, history: HistoryEntry, today: date
    ) -> None:
        """Uses the verification once and opens the session, on condition that the account exists."""
        self._transact(
            [
                self._use_verification(verification_id),
                self._touch_account(session.account_id, today),
                self._put(self._session_item(session)),
                self._put(self._history_item(session.account_id, history)),
            ],
            ["verification", "account", "session", "history"],
        )

    def get_session(self, account_id: str, session_id: str) -> Session | None:
        item = self._get(f"ACCT#{account_id}", f"SESSION#{session_id}")
        if item is None:
            return None
        return Session(
            session_id=session_id,
            account_id=account_id,
            institution_id=item["institution_id"],
            secret_hash=item["secret_hash"],
            created_at=_from_iso(item["created_at"]),
            expires_at=_from_millis(item["valid_until"]),
            via=item["via"],
            allowed_origins=tuple(item.get("allowed_origins", ())),
            device_id=item.get("device_id"),
        )

    def delete_session(self, account_id: str, session_id: str) -> None:
        with aws_call("DynamoDB"):
            self._client().delete_item(
                TableName=self._table, Key=self._key(f"ACCT#{account_id}", f"SESSION#{session_id}")
            )

    # --- customers: PIN attempts and what a correct PIN unlocks ----------------------------------
    def reserve_pin_attempt(
        self,
        account_id: str,
        *,
        credential_id: str | None = None,
        institution_id: str | None = None,
        to_sign: bool = False,
    ) -> PinSlot:
        """Reserves the next PIN attempt before the PIN is checked, so parallel attempts can
        never exceed the limit or lose a count. With credential_id / institution_id / to_sign,
        only when that credential is the active one / that institution is registered / there is
        an active certificate that is not suspended: an attempt that could not have done what it
        was for costs no slot."""
        conditions = ["attribute_exists(pk)", "pin_attempts < pin_lock_at"]
        values: dict[str, Any] = {":one": 1}
        if to_sign:
            conditions += [
                "attribute_exists(active_credential_id)",
                "attribute_not_exists(credential_suspended)",
            ]
        if credential_id is not None:
            conditions.append("active_credential_id = :cid")
            values[":cid"] = credential_id
        if institution_id is not None:
            conditions.append("contains(institutions, :iid)")
            values[":iid"] = institution_id
        try:
            response = self._update(
                f"ACCT#{account_id}",
                "ACCOUNT",
                UpdateExpression="ADD pin_attempts :one",
                ConditionExpression=" AND ".join(conditions),
                ExpressionAttributeValues=_values(values),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ConditionFailed as e:
            raise PinSlotRefused(self._to_account(account_id, e.stored) if e.stored else None) from e
        item = _load(response["Attributes"])
        return PinSlot(self._to_account(account_id, item), int(item["pin_attempts"]))

    def pin_accepted(
        self,
        slot: PinSlot,
        today: date,
        history: HistoryEntry,
        *,
        activation: SignatureActivation | None = None,
        register_institution: str | None = None,
        new_pin_verifier: str | None = None,
        status_change: StatusChange | None = None,
        signed_with: str | None = None,
    ) -> None:
        """What a correct PIN does, in one transaction: forgives the attempts up to its slot
        (never a later one: a wrong PIN racing this success still counts), records the use, and
        writes what the PIN unlocked: a SAD, an institution registration, a new PIN or a status
        change. Raises ConditionFailed("account") when the PIN (or, with a status change, the
        active credential) changed meanwhile, "credential"/"serial" when the status did."""
        account = slot.account
        values: dict[str, Any] = {":checked": account.pin_verifier}
        assignments, last_use_values = last_use_assignments(account.account_id, today)
        values |= last_use_values
        sets = [assignments]
        adds = []
        removes: list[str] = []
        extra_condition = ""
        change_items: list[dict[str, Any]] = []
        if status_change is not None:
            change = self._status_change(status_change)
            sets += change.account_sets
            removes += change.account_removes
            extra_condition = " AND " + change.account_condition
            values |= change.account_values
            change_items = change.items
        if signed_with is not None:
            # A signature is returned only if its certificate is still the active, unsuspended
            # one when this commits (a suspension racing the signature wins).
            extra_condition = (
                " AND active_credential_id = :signed_with AND attribute_not_exists(credential_suspended)"
            )
            values[":signed_with"] = signed_with
        if new_pin_verifier is not None:
            sets += [_PIN_COUNTERS_RESET_ASSIGNMENTS, "pin_verifier = :new_verifier"]
            values |= _pin_counters_reset_values() | {":new_verifier": new_pin_verifier}
        if register_institution is not None:
            adds.append("institutions :institution")
            values[":institution"] = {register_institution}

        def attempt(forgive: bool) -> None:
            update_sets, update_values = list(sets), dict(values)
            condition = "attribute_exists(pk) AND pin_verifier = :checked" + extra_condition
            if forgive and new_pin_verifier is None:
                update_sets.append("pin_cleared = :slot, pin_lock_at = :lock_at")
                update_values |= {":slot": slot.slot, ":lock_at": slot.slot + MAX_PIN_FAILURES}
                condition += " AND pin_cleared < :slot"
            expression = (
                "SET "
                + ", ".join(update_sets)
                + (" ADD " + ", ".join(adds) if adds else "")
                + (" REMOVE " + ", ".join(removes) if removes else "")
            )
            items = [
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": self._key(f"ACCT#{account.account_id}", "ACCOUNT"),
                        "UpdateExpression": expression,
                        "ConditionExpression": condition,
                        "ExpressionAttributeValues": _values(update_values),
                    }
                },
                self._put(self._history_item(account.account_id, history)),
            ]
            names = ["account", "history"]
            if activation is not None:
                items.append(self._put(self._activation_item(activation)))
                names.append("activation")
            if change_items:
                items += change_items
                names += ["credential", "serial"]
            self._transact(items, names)

        try:
            attempt(forgive=True)
        except ConditionFailed as e:
            if "account" not in e.reasons or new_pin_verifier is not None:
                raise
            # A later correct PIN already forgave past our slot (or the PIN changed): write the
            # rest without moving the forgiven mark back; a changed PIN fails again here.
            attempt(forgive=False)

    def forgive_pin_attempt(self, slot: PinSlot) -> None:
        """A correct PIN whose purpose could not be written (another request won a race): its
        slot is forgiven all the same, unless the PIN changed or a later success forgave more."""
        with contextlib.suppress(ConditionFailed):
            self._update(
                f"ACCT#{slot.account.account_id}",
                "ACCOUNT",
                UpdateExpression="SET pin_cleared = :slot, pin_lock_at = :lock_at",
                ConditionExpression="attribute_exists(pk) AND pin_verifier = :checked AND pin_cleared < :slot",
                ExpressionAttributeValues=_values(
                    {
                        ":slot": slot.slot,
                        ":lock_at": slot.slot + MAX_PIN_FAILURES,
                        ":checked": slot.account.pin_verifier,
                    }
                ),
            )

    def put_history(self, account_id: str, entry: HistoryEntry) -> None:
        """A history line on its own (a wrong PIN, a failed connection): no account condition,
        since the account may be what is missing; it expires with the retention period."""
        with aws_call("DynamoDB"):
            self._client().put_item(TableName=self._table, Item=_dump(self._history_item(account_id, entry)))

    def list_history(
        self, account_id: str, limit: int, before: str | None
    ) -> tuple[list[HistoryEntry], str | None]:
        """Newest first; `before` is the sort key the previous page ended on."""
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :hist)",
            "ExpressionAttributeValues": _values({":pk": f"ACCT#{account_id}", ":hist": "HIST#"}),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if before:
            query["ExclusiveStartKey"] = self._key(f"ACCT#{account_id}", before)
        with aws_call("DynamoDB"):
            page = self._client().query(**query)
        entries = [self._to_history(_load(item)) for item in page.get("Items", [])]
        last = page.get("LastEvaluatedKey")
        return entries, (_load(last)["sk"] if last else None)

    def _to_history(self, item: dict[str, Any]) -> HistoryEntry:
        return HistoryEntry(
            event=HistoryEvent(item["event"]),
            at=_from_iso_millis(item["at"]),
            institution_id=item["institution_id"],
            credential_id=item.get("credential_id"),
            detail=dict(item["detail"]) if item.get("detail") else None,
            entry_id=item["sk"].rsplit("#", 1)[-1],
        )

    # --- customers: SADs and signing -------------------------------------------------------------
    def _activation_item(self, a: SignatureActivation) -> dict[str, Any]:
        return {
            "pk": f"ACCT#{a.account_id}",
            "sk": f"SAD#{a.sad_id}",
            "credential_id": a.credential_id,
            "institution_id": a.institution_id,
            "secret_hash": a.secret_hash,
            "hashes": set(a.hashes) or None,
            "remaining": a.remaining,
            "valid_until": _millis(a.expires_at),
            "expires_at": _epoch_seconds(a.expires_at),
        }

    def load_for_signing(
        self, account_id: str, sad_id: str, credential_id: str
    ) -> tuple[SignatureActivation | None, Credential | None]:
        """The SAD and the credential it names, in one round trip."""
        keys = [
            self._key(f"ACCT#{account_id}", f"SAD#{sad_id}"),
            self._key(f"ACCT#{account_id}", f"CRED#{credential_id}"),
        ]
        with aws_call("DynamoDB"):
            response = self._client().batch_get_item(
                RequestItems={self._table: {"Keys": keys, "ConsistentRead": True}}
            )
        if response.get("UnprocessedKeys"):
            raise ServiceUnavailable("DynamoDB did not return every item, retry", retry_after=1)
        items = {item["sk"]: item for item in map(_load, response["Responses"].get(self._table, []))}
        sad_item, credential_item = items.get(f"SAD#{sad_id}"), items.get(f"CRED#{credential_id}")
        activation = None
        if sad_item is not None:
            activation = SignatureActivation(
                sad_id=sad_id,
                account_id=account_id,
                credential_id=sad_item["credential_id"],
                institution_id=sad_item["institution_id"],
                secret_hash=sad_item["secret_hash"],
                hashes=frozenset(sad_item.get("hashes", ())),
                remaining=int(sad_item["remaining"]),
                expires_at=_from_millis(sad_item["valid_until"]),
            )
        credential = self._to_credential(account_id, credential_item) if credential_item else None
        return activation, credential

    def consume_activation(
        self, activation: SignatureActivation, count: int, now: datetime, history: HistoryEntry
    ) -> None:
        """Spends `count` signatures of a SAD, on condition that it still has them and has not
        expired, and that its credential is still active (a suspension or revocation committed
        while we signed wins); the step that returns the signatures, so a fault before it leaves
        the SAD usable. Raises ConditionFailed("activation") when another request spent it
        first, ("credential") when the credential is no longer active."""
        self._transact(
            [
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": self._key(f"ACCT#{activation.account_id}", f"SAD#{activation.sad_id}"),
                        "UpdateExpression": "SET remaining = remaining - :count",
                        "ConditionExpression": "remaining >= :count AND valid_until > :now",
                        "ExpressionAttributeValues": _values({":count": count, ":now": _millis(now)}),
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": self._table,
                        "Key": self._key(f"ACCT#{activation.account_id}", f"CRED#{activation.credential_id}"),
                        "ConditionExpression": "#status = :active",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": _values({":active": CredentialStatus.ACTIVE.value}),
                    }
                },
                self._put(self._history_item(activation.account_id, history)),
            ],
            ["activation", "credential", "history"],
        )

    # --- customers: devices ----------------------------------------------------------------------
    def _to_device(self, account_id: str, item: dict[str, Any]) -> Device:
        last = item.get("last_used_at")
        return Device(
            device_id=item["sk"].removeprefix("DEVICE#"),
            account_id=account_id,
            name=item["name"],
            public_key_der=_bytes(item["public_key"]),
            created_at=_from_iso(item["created_at"]),
            last_used_at=_from_iso(last) if last else None,
        )

    def add_device(self, device: Device, max_devices: int, history: HistoryEntry) -> None:
        """Raises ConditionFailed("account") when the account already has max_devices (or is gone)."""
        self._transact(
            [
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": self._key(f"ACCT#{device.account_id}", "ACCOUNT"),
                        "UpdateExpression": "ADD device_count :one",
                        "ConditionExpression": (
                            "attribute_exists(pk) AND (attribute_not_exists(device_count) OR device_count < :max)"
                        ),
                        "ExpressionAttributeValues": _values({":one": 1, ":max": max_devices}),
                    }
                },
                self._put(
                    {
                        "pk": f"ACCT#{device.account_id}",
                        "sk": f"DEVICE#{device.device_id}",
                        "name": device.name,
                        "public_key": device.public_key_der,
                        "created_at": _iso(device.created_at),
                    }
                ),
                self._put(self._history_item(device.account_id, history)),
            ],
            ["account", "device", "history"],
        )

    def remove_device(self, account_id: str, device_id: str, history: HistoryEntry) -> None:
        """Raises ConditionFailed("device") when there is no such device."""
        self._transact(
            [
                {
                    "Delete": {
                        "TableName": self._table,
                        "Key": self._key(f"ACCT#{account_id}", f"DEVICE#{device_id}"),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": self._key(f"ACCT#{account_id}", "ACCOUNT"),
                        "UpdateExpression": "ADD device_count :minus_one",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": _values({":minus_one": -1}),
                    }
                },
                self._put(self._history_item(account_id, history)),
            ],
            ["device", "account", "history"],
        )

    def list_devices(self, account_id: str) -> list[Device]:
        with aws_call("DynamoDB"):
            page = self._client().query(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :device)",
                ExpressionAttributeValues=_values({":pk": f"ACCT#{account_id}", ":device": "DEVICE#"}),
                ConsistentRead=True,
            )
        return [self._to_device(account_id, _load(item)) for item in page.get("Items", [])]

    def get_device(self, account_id: str, device_id: str) -> Device | None:
        item = self._get(f"ACCT#{account_id}", f"DEVICE#{device_id}")
        return self._to_device(account_id, item) if item else None

    def put_device_challenge(self, challenge: DeviceChallenge) -> None:
        self._transact(
            [
                self._condition_check_account(challenge.account_id),
                self._put(
                    {
                        "pk": f"ACCT#{challenge.account_id}",
                        "sk": f"DEVCHAL#{challenge.challenge_id}",
                        "device_id": challenge.device_id,
                        "institution_id": challenge.institution_id,
                        "nonce": challenge.nonce,
                        "valid_until": _millis(challenge.expires_at),
                        "used": False,
                        "expires_at": _epoch_seconds(challenge.expires_at),
                    }
                ),
            ],
            ["account", "challenge"],
        )

    def get_device_challenge(self, account_id: str, challenge_id: str) -> DeviceChallenge | None:
        item = self._get(f"ACCT#{account_id}", f"DEVCHAL#{challenge_id}")
        if item is None:
            return None
        return DeviceChallenge(
            challenge_id=challenge_id,
            account_id=account_id,
            device_id=item["device_id"],
            institution_id=item["institution_id"],
            nonce=_bytes(item["nonce"]),
            expires_at=_from_millis(item["valid_until"]),
            used=bool(item.get("used", False)),
        )

    def complete_device_connection(
        self, challenge: DeviceChallenge, session: Session, now: datetime, history: HistoryEntry
    ) -> None:
        """Uses the challenge once (unexpired), on condition that the device is still registered
        and the account exists, and opens the session."""
        acct = f"ACCT#{challenge.account_id}"
        self._transact(
            [
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": self._key(acct, f"DEVCHAL#{challenge.challenge_id}"),
                        "UpdateExpression": "SET used = :true",
                        "ConditionExpression": "used = :false AND valid_until > :now",
                        "ExpressionAttributeValues": _values(
                            {":true": True, ":false": False, ":now": _millis(now)}
                        ),
                    }
                },
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": self._key(acct, f"DEVICE#{challenge.device_id}"),
                        "UpdateExpression": "SET last_used_at = :at",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": _values({":at": _iso(now)}),
                    }
                },
                self._touch_account(challenge.account_id, kst_date(now)),
                self._put(self._session_item(session)),
                self._put(self._history_item(challenge.account_id, history)),
            ],
            ["challenge", "device", "account", "session", "history"],
        )

    # --- customers: PIN reset after re-verification ---------------------------------------------
    def reset_pin(
        self, verification_id: str, account_id: str, new_pin_verifier: str, today: date, history: HistoryEntry
    ) -> None:
        assignments, values = last_use_assignments(account_id, today)
        self._transact(
            [
                self._use_verification(verification_id),
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": self._key(f"ACCT#{account_id}", "ACCOUNT"),
                        "UpdateExpression": (
                            f"SET pin_verifier = :verifier, {_PIN_COUNTERS_RESET_ASSIGNMENTS}, {assignments}"
                        ),
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": _values(
                            {":verifier": new_pin_verifier} | _pin_counters_reset_values() | values
                        ),
                    }
                },
                self._put(self._history_item(account_id, history)),
            ],
            ["verification", "account", "history"],
        )

    # --- certificate status changes (suspend, restore, revoke) -------------------------------
    def _status_change(self, change: StatusChange) -> _StatusChangeWrite:
        """What a status change writes besides the history: the ACCOUNT item's part (the caller
        merges it into its own update of the account), the CRED and the SERIAL updates. Each is
        conditioned on the state the change starts from, so two racing changes cannot both win."""
        acct_pk = f"ACCT#{change.account_id}"
        allowed_from, result, serial_status, serial_from = _STATUS_TRANSITIONS[change.action]
        values: dict[str, Any] = {
            ":sc_to": result.value,
            ":sc_at": _iso(change.at),
            # To the millisecond: SADs issued before a change are told apart from those after it.
            ":sc_changed": _iso_millis(change.at),
        }
        credential_in_allowed = _status_in(allowed_from, values, ":sc_from")
        credential_update = "SET #status = :sc_to, status_changed_at = :sc_changed"
        if change.action is StatusAction.REVOKE:
            credential_update += ", revoked_at = :sc_at, revocation_reason = :sc_reason REMOVE due_pk, due_sk"
            values[":sc_reason"] = change.reason
        credential = {
            "Update": {
                "TableName": self._table,
                "Key": self._key(acct_pk, f"CRED#{change.credential_id}"),
                "UpdateExpression": credential_update,
                "ConditionExpression": credential_in_allowed,
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": _values(values),
            }
        }
        serial = {
            "Update": {
                "TableName": self._table,
                **self.serial_status_update(
                    change.serial_number,
                    serial_status,
                    at=change.at,
                    reason=change.reason,
                    only_from=serial_from,
                ),
            }
        }
        account_sets, account_removes = [], []
        if change.action is StatusAction.SUSPEND:
            account_sets.append("credential_suspended = :sc_suspended")
        elif change.action is StatusAction.RESTORE:
            account_removes.append("credential_suspended")
        else:  # a revoked certificate is no longer the account's: the customer reissues
            account_removes += ["credential_suspended", "active_credential_id", "active_serial"]
        return _StatusChangeWrite(
            account_sets=account_sets,
            account_removes=account_removes,
            account_condition="active_credential_id = :sc_cid",
            account_values={":sc_cid": change.credential_id}
            | ({":sc_suspended": True} if account_sets else {}),
            items=[credential, serial],
        )

    def change_status_verified(
        self, verification_id: str, change: StatusChange, today: date, history: HistoryEntry
    ) -> None:
        """A status change the institution's re-verification of the customer allowed: the
        verification used, the account (still with this active credential, still registered with
        the institution), the credential, its serial and the history, in one transaction. Raises
        ConditionFailed naming "verification", "account", "credential" or "serial"."""
        write = self._status_change(change)
        assignments, values = last_use_assignments(change.account_id, today)
        sets = [assignments, *write.account_sets]
        expression = "SET " + ", ".join(sets)
        if write.account_removes:
            expression += " REMOVE " + ", ".join(write.account_removes)
        account = {
            "Update": {
                "TableName": self._table,
                "Key": self._key(f"ACCT#{change.account_id}", "ACCOUNT"),
                "UpdateExpression": expression,
                "ConditionExpression": (
                    f"attribute_exists(pk) AND contains(institutions, :sc_iid) AND {write.account_condition}"
                ),
                "ExpressionAttributeValues": _values(
                    values | write.account_values | {":sc_iid": change.institution_id}
                ),
            }
        }
        self._transact(
            [
                self._use_verification(verification_id),
                account,
                *write.items,
                self._put(self._history_item(change.account_id, history)),
            ],
            ["verification", "account", "credential", "serial", "history"],
        )

    # --- revocation status (OCSP, CRLs) -----------------------------------------------------
    def serial_status_update(
        self,
        serial_number: int,
        status: SerialStatus,
        *,
        at: datetime,
        reason: str | None = None,
        only_from: Sequence[SerialStatus] = (),
        recreate_expiring_at: datetime | None = None,
    ) -> dict[str, Any]:
        """THE way a SERIAL record changes status: the UpdateItem body (for one `_update` or a
        transaction's Update) that sets status, revocation time and reason, and the `crl` index
        keys together, so OCSP (which reads the record) and the CRL (which queries the index)
        can never disagree.

        - REVOKED: `reason` is an RFC 5280 CRLReason name ("superseded", "keyCompromise", ...).
        - SUSPENDED: the reason is always certificateHold (RFC 5280 5.3.1), on OCSP and the CRL.
        - ISSUED (restore): the revocation fields and the index keys go; the serial leaves the
          partition's next CRL (no removeFromCRL: there are no delta CRLs).
        `only_from` makes the write conditional on the current status. Without it the record
        must exist, unless `recreate_expiring_at` is given: a record already deleted by TTL (its
        certificate expired) is then recreated, expiring at that time.
        """
        names = {"#status": "status"}
        values: dict[str, Any] = {":status": status.value}
        if status is SerialStatus.ISSUED:
            expression = "SET #status = :status REMOVE revoked_at, revocation_reason, crl_pk, crl_sk"
        elif status in (SerialStatus.REVOKED, SerialStatus.SUSPENDED):
            if status is SerialStatus.SUSPENDED:
                reason = "certificateHold"
            if not reason:
                raise ValueError("a revocation needs a reason (RFC 5280 CRLReason name)")
            # crl_partition was written with the pre-signing record; a record recreated after
            # its TTL has none, and its expired certificate belongs in no CRL served.
            expression = (
                "SET #status = :status, revoked_at = :at, revocation_reason = :reason,"
                " crl_pk = if_not_exists(crl_partition, :expired), crl_sk = :serial"
            )
            values |= {
                ":at": _iso(at),
                ":reason": reason,
                ":expired": EXPIRED_PARTITION,
                ":serial": _serial_hex(serial_number),
            }
        else:
            raise ValueError(f"a serial cannot be set back to {status.value}")
        if recreate_expiring_at is not None:
            expression += ", expires_at = if_not_exists(expires_at, :expires)"
            values[":expires"] = _epoch_seconds(recreate_expiring_at)
        if status is not SerialStatus.ISSUED:
            # Whatever was due about a pending record (the reconciler) is settled.
            expression += " REMOVE due_pk, due_sk"
        body: dict[str, Any] = {
            "Key": self._key(f"SERIAL#{_serial_hex(serial_number)}", "SERIAL"),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
        }
        if only_from:
            body["ConditionExpression"] = _status_in(only_from, values, ":from")
        elif recreate_expiring_at is None:
            body["ConditionExpression"] = "attribute_exists(pk)"
        body["ExpressionAttributeValues"] = _values(values)
        return body

    def set_serial_status(
        self,
        serial_number: int,
        status: SerialStatus,
        *,
        at: datetime,
        reason: str | None = None,
        only_from: Sequence[SerialStatus] = (),
    ) -> bool:
        """serial_status_update as one UpdateItem; False when its condition failed (no such
        record, or not in one of the `only_from` states)."""
        body = self.serial_status_update(serial_number, status, at=at, reason=reason, only_from=only_from)
        del body["Key"]  # _update builds it
        try:
            self._update(f"SERIAL#{_serial_hex(serial_number)}", "SERIAL", **body)
        except ConditionFailed:
            return False
        return True

    def get_serial_status(self, serial_number: int) -> SerialRecord | None:
        # Strongly consistent: a status change must show in the very next OCSP answer.
        with aws_call("DynamoDB"):
            response = self._client().get_item(
                TableName=self._table,
                Key=self._key(f"SERIAL#{_serial_hex(serial_number)}", "SERIAL"),
                ConsistentRead=True,
                ProjectionExpression="#status, revoked_at, revocation_reason",
                ExpressionAttributeNames={"#status": "status"},
            )
        item = response.get("Item")
        return self._serial_record(serial_number, _load(item)) if item else None

    @staticmethod
    def _serial_record(serial_number: int, item: dict[str, Any]) -> SerialRecord:
        revoked_at = item.get("revoked_at")
        return SerialRecord(
            serial_number=serial_number,
            status=SerialStatus(item["status"]),
            revoked_at=_from_iso(revoked_at) if revoked_at else None,
            revocation_reason=item.get("revocation_reason"),
        )

    def crl_entries(self, partition: str) -> list[SerialRecord]:
        """Every revoked or suspended serial of one CRL partition: one Query of the sparse `crl`
        index (paginated past 1 MB), reading only what the CRL lists."""
        items = self._query_all(
            IndexName="crl",
            KeyConditionExpression="crl_pk = :partition",
            ExpressionAttributeValues=_values({":partition": partition}),
        )
        return [self._serial_record(int(item["crl_sk"], 16), item) for item in items]

    def get_ocsp_responder(self) -> OcspResponderRecord | None:
        item = self._get("CA", "OCSP_RESPONDER", consistent=False)
        if item is None:
            return None
        return OcspResponderRecord(
            certificate_der=_bytes(item["certificate"]),
            wrapped_private_key=_bytes(item["wrapped_private_key"]),
            serial_number=int(item["serial"], 16),
            not_after=_from_iso(item["not_after"]),
            created_at=_from_iso(item["created_at"]),
        )

    def put_ocsp_responder(self, record: OcspResponderRecord, replaces: int | None) -> None:
        """Raises ConditionFailed when the stored responder is not `replaces` (None: none yet),
        i.e. another renewal won the race; its responder is as good as ours."""
        item = {
            "pk": "CA",
            "sk": "OCSP_RESPONDER",
            "certificate": record.certificate_der,
            "wrapped_private_key": record.wrapped_private_key,
            "serial": _serial_hex(record.serial_number),
            "not_after": _iso(record.not_after),
            "created_at": _iso(record.created_at),
        }
        if replaces is None:
            self._put_new(item)
            return
        try:
            with aws_call("DynamoDB"):
                self._client().put_item(
                    TableName=self._table,
                    Item=_dump(item),
                    ConditionExpression="serial = :previous",
                    ExpressionAttributeValues=_values({":previous": _serial_hex(replaces)}),
                )
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                raise ConditionFailed("the OCSP responder changed meanwhile") from e
            raise

    # --- scheduled jobs: auto-renewal and idle purge ------------------------------------------
    # `due` entries of the jobs (all sharded like the idle entries, see idle_shard):
    #   CRED items of active certificates: "renew#<shard>" (auto_renew) or "expiry#<shard>",
    #     due_sk "<renewal window start day>#<account>#<credential>"; removed when renewed,
    #     superseded or notified.
    #   ACCOUNT items: "idle#<shard>" (set by every use) or, once warned, "idle-warned#<shard>"
    #     with the same due_sk "<last used day>#<account>".
    #   PURGE#<account> records whose purge has begun but not finished: "purging".
    def due_partitions(self, kind: str) -> list[str]:
        """The due_pk values of a sharded kind ("renew", "expiry", "idle", "idle-warned")."""
        return [f"{kind}#{shard}" for shard in range(IDLE_SHARDS)]

    def query_due(
        self, due_pk: str, before: str, limit: int, start_key: dict[str, str] | None = None
    ) -> DuePage:
        """One page of `due` entries under due_pk whose due_sk sorts before `before`."""
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "due",
            "KeyConditionExpression": "due_pk = :due_pk AND due_sk < :before",
            "ExpressionAttributeValues": _values({":due_pk": due_pk, ":before": before}),
            "Limit": limit,
        }
        if start_key:
            query["ExclusiveStartKey"] = _values(start_key)
        with aws_call("DynamoDB"):
            page = self._client().query(**query)
        entries = []
        for raw in page.get("Items", []):
            item = _load(raw)
            entries.append(DueEntry(item["due_pk"], item["due_sk"], item["pk"], item["sk"]))
        next_key = page.get("LastEvaluatedKey")
        return DuePage(entries, {k: str(v) for k, v in _load(next_key).items()} if next_key else None)

    def _due_update(self, entry: DueEntry, expression: str, values: dict[str, Any], also: str = "") -> bool:
        """An update of the item behind a due entry, on condition that the entry is still the
        one the query saw (and `also`); False when it is not (done meanwhile, or used)."""
        try:
            self._update(
                entry.pk,
                entry.sk,
                UpdateExpression=expression,
                ConditionExpression="due_pk = :seen_pk AND due_sk = :seen_sk"
                + (f" AND {also}" if also else ""),
                ExpressionAttributeValues=_values(
                    {":seen_pk": entry.due_pk, ":seen_sk": entry.due_sk} | values
                ),
            )
        except ConditionFailed:
            return False
        return True

    def clear_due(self, entry: DueEntry) -> bool:
        return self._due_update(entry, "REMOVE due_pk, due_sk", {})

    def take_expiry_notice(self, entry: DueEntry, now: datetime) -> bool:
        """Claims the expiry notice of a credential (at most one is sent): leaves `due`."""
        return self._due_update(
            entry, "SET expiry_notice_at = :now REMOVE due_pk, due_sk", {":now": _iso(now)}
        )

    def return_expiry_notice(self, entry: DueEntry) -> None:
        """Undoes take_expiry_notice (the SMS could not be sent): due again for the next run."""
        with contextlib.suppress(ConditionFailed):
            self._update(
                entry.pk,
                entry.sk,
                UpdateExpression="SET due_pk = :due_pk, due_sk = :due_sk REMOVE expiry_notice_at",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(due_pk)",
                ExpressionAttributeValues=_values({":due_pk": entry.due_pk, ":due_sk": entry.due_sk}),
            )

    def mark_warned(self, entry: DueEntry, last_used_day: date, today: date) -> bool:
        """Moves an idle account to the warned partition (same due_sk), so the next day's warn
        query does not read it again; any use moves it back (last_use_attributes)."""
        account_id = entry.pk.removeprefix("ACCT#")
        return self._due_update(
            entry,
            "SET due_pk = :warned, warned_on = :today",
            {
                ":warned": f"idle-warned#{idle_shard(account_id)}",
                ":today": today.isoformat(),
                ":day": last_used_day.isoformat(),
            },
            also="last_used_day = :day",
        )

    def unmark_warned(self, entry: DueEntry, last_used_day: date) -> None:
        """Undoes mark_warned (the SMS could not be sent), unless the account moved meanwhile."""
        account_id = entry.pk.removeprefix("ACCT#")
        with contextlib.suppress(ConditionFailed):
            self._update(
                entry.pk,
                entry.sk,
                UpdateExpression="SET due_pk = :idle REMOVE warned_on",
                ConditionExpression="due_pk = :warned AND due_sk = :seen_sk AND last_used_day = :day",
                ExpressionAttributeValues=_values(
                    {
                        ":idle": entry.due_pk,
                        ":warned": f"idle-warned#{idle_shard(account_id)}",
                        ":seen_sk": entry.due_sk,
                        ":day": last_used_day.isoformat(),
                    }
                ),
            )

    def commit_renewal(self, commit: RenewalCommit) -> None:
        """Raises ConditionFailed naming "account" (no longer the active credential, or the
        account is gone), "old_credential" (not active any more), "credential", "new_serial"."""
        old, new, now = commit.old, commit.new, commit.now
        acct_pk = f"ACCT#{old.account_id}"
        superseded = {
            ":revoked": CredentialStatus.REVOKED.value,
            ":at": _iso(now),
            ":reason": RevocationReason.SUPERSEDED.value,
        }
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": self._key(acct_pk, "ACCOUNT"),
                    # Not a use by the customer: last_used_day (the idle-purge clock) stays.
                    "UpdateExpression": "SET active_credential_id = :new, active_serial = :serial, updated_at = :at",
                    "ConditionExpression": "attribute_exists(pk) AND active_credential_id = :old",
                    "ExpressionAttributeValues": _values(
                        {
                            ":new": new.credential_id,
                            ":serial": _serial_hex(new.serial_number),
                            ":at": _iso(now),
                            ":old": old.credential_id,
                        }
                    ),
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": self._key(acct_pk, f"CRED#{old.credential_id}"),
                    "UpdateExpression": (
                        "SET #status = :revoked, revoked_at = :at, revocation_reason = :reason"
                        " REMOVE due_pk, due_sk"
                    ),
                    "ConditionExpression": "#status = :active",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": _values(
                        superseded | {":active": CredentialStatus.ACTIVE.value}
                    ),
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    # As in commit_issuance: a record already gone by TTL (renewal after expiry)
                    # is recreated expiring at once.
                    **self.serial_status_update(
                        old.serial_number,
                        SerialStatus.REVOKED,
                        at=now,
                        reason=RevocationReason.SUPERSEDED.value,
                        recreate_expiring_at=now,
                    ),
                }
            },
            {
                "Put": {
                    "TableName": self._table,
                    "Item": _dump(_credential_item(new) | {"renewed_from": old.credential_id}),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": self._key(f"SERIAL#{_serial_hex(new.serial_number)}", "SERIAL"),
                    "UpdateExpression": "SET #status = :issued REMOVE due_pk, due_sk",
                    "ConditionExpression": "#status = :presigned",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": _values({":issued": "issued", ":presigned": "presigned"}),
                }
            },
        ]
        names = ["account", "old_credential", "old_serial", "credential", "new_serial"]
        token = hashlib.sha256(f"renew|{old.credential_id}|{new.credential_id}".encode()).hexdigest()[:36]
        self._transact(items, names, token=token)

    def get_idle_state(self, account_id: str) -> IdleState | None:
        item = self._get(f"ACCT#{account_id}", "ACCOUNT")
        if item is None:
            return None
        day, warned = item.get("last_used_day"), item.get("warned_on")
        return IdleState(
            account_id=account_id,
            person_index=item["person_index"],
            identity_ciphertext=_bytes(item["identity_ciphertext"]),
            last_used_day=date.fromisoformat(day) if day else None,
            due_pk=item.get("due_pk"),
            due_sk=item.get("due_sk"),
            warned_on=date.fromisoformat(warned) if warned else None,
        )

    def begin_purge(self, state: IdleState, record: PurgeRecord) -> None:
        """Deletes the ACCOUNT and PERSON items and writes the purge record, in one transaction
        conditioned on the account being unused since the day the job saw (any use moves
        last_used_day and due_pk): a racing request either kept the account, or finds it gone.
        Raises ConditionFailed naming "account", "person" or "record"."""
        account_id = state.account_id
        items = [
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": self._key(f"ACCT#{account_id}", "ACCOUNT"),
                    "ConditionExpression": (
                        "last_used_day = :day AND due_pk = :warned AND warned_on = :warned_on"
                    ),
                    "ExpressionAttributeValues": _values(
                        {
                            ":day": record.last_used_day.isoformat(),
                            ":warned": f"idle-warned#{idle_shard(account_id)}",
                            ":warned_on": record.warned_on.isoformat(),
                        }
                    ),
                }
            },
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": self._key(f"PERSON#{state.person_index}", "PERSON"),
                    # Only the index of this account, never a newer account's.
                    "ConditionExpression": "attribute_not_exists(pk) OR account_id = :account",
                    "ExpressionAttributeValues": _values({":account": account_id}),
                }
            },
            {
                "Put": {
                    "TableName": self._table,
                    "Item": _dump(
                        {
                            "pk": f"PURGE#{account_id}",
                            "sk": "PURGE",
                            "account_id": account_id,
                            "last_used_day": record.last_used_day.isoformat(),
                            "warned_on": record.warned_on.isoformat(),
                            "purged_at": _iso(record.purged_at),
                            # Until the rest of the account is deleted (a crash midway is
                            # finished by the next run).
                            "due_pk": "purging",
                            "due_sk": f"{_iso(record.purged_at)}#{account_id}",
                            "expires_at": _epoch_seconds(record.retain_until),
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        self._transact(items, ["account", "person", "record"])

    def account_partition(self, account_id: str) -> list[PartitionItem]:
        """Every item under ACCT#<account> (keys, status and serial only): a bounded set."""
        items = self._query_all(
            KeyConditionExpression="pk = :pk",
            ProjectionExpression="sk, #status, serial",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=_values({":pk": f"ACCT#{account_id}"}),
            ConsistentRead=True,
        )
        return [
            PartitionItem(
                item["sk"], item.get("status"), int(item["serial"], 16) if item.get("serial") else None
            )
            for item in items
        ]

    def delete_account_items(self, account_id: str, sort_keys: Sequence[str]) -> None:
        """Deletes these items of the account's partition (BatchWriteItem, 25 at a time)."""
        pk = f"ACCT#{account_id}"
        for start in range(0, len(sort_keys), 25):
            pending = [{"DeleteRequest": {"Key": self._key(pk, sk)}} for sk in sort_keys[start : start + 25]]
            for _ in range(_BATCH_ATTEMPTS):
                with aws_call("DynamoDB"):
                    response = self._client().batch_write_item(RequestItems={self._table: pending})
                pending = response.get("UnprocessedItems", {}).get(self._table, [])
                if not pending:
                    break
            if pending:
                raise ServiceUnavailable("DynamoDB left deletes unprocessed, retry", retry_after=1)

    def finish_purge(self, account_id: str, now: datetime, revoked: Sequence[int], deleted: int) -> None:
        self._update(
            f"PURGE#{account_id}",
            "PURGE",
            UpdateExpression=(
                "SET finished_at = :now, items_deleted = :deleted, revoked_serials = :revoked"
                " REMOVE due_pk, due_sk"
            ),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=_values(
                {
                    ":now": _iso(now),
                    ":deleted": deleted,
                    ":revoked": [_serial_hex(s) for s in revoked],
                }
            ),
        )


_BATCH_ATTEMPTS = 3


@dataclass(frozen=True)
class _StatusChangeWrite:
    account_sets: list[str]
    account_removes: list[str]
    account_condition: str
    account_values: dict[str, Any]
    items: list[dict[str, Any]]  # the CRED and SERIAL updates, in that order


# action -> (credential statuses it starts from, the credential's new status, the serial's new
# status, the serial statuses it starts from)
_STATUS_TRANSITIONS = {
    StatusAction.SUSPEND: (
        (CredentialStatus.ACTIVE,),
        CredentialStatus.SUSPENDED,
        SerialStatus.SUSPENDED,
        (SerialStatus.ISSUED,),
    ),
    StatusAction.RESTORE: (
        (CredentialStatus.SUSPENDED,),
        CredentialStatus.ACTIVE,
        SerialStatus.ISSUED,
        (SerialStatus.SUSPENDED,),
    ),
    StatusAction.REVOKE: (
        (CredentialStatus.ACTIVE, CredentialStatus.SUSPENDED),
        CredentialStatus.REVOKED,
        SerialStatus.REVOKED,
        (SerialStatus.ISSUED, SerialStatus.SUSPENDED),
    ),
}


def _credential_item(c: Credential) -> dict[str, Any]:
    """A new CRED item, with its `due` entry (renewal or expiry notice)."""
    return {
        "pk": f"ACCT#{c.account_id}",
        "sk": f"CRED#{c.credential_id}",
        "credential_id": c.credential_id,
        "serial": _serial_hex(c.serial_number),
        "key_algorithm": c.key_algorithm,
        "certificate": c.certificate_der,
        "wrapped_private_key": c.wrapped_private_key,
        "not_before": _iso(c.not_before),
        "not_after": _iso(c.not_after),
        "issued_by": c.issued_by,
        "auto_renew": c.auto_renew,
        "created_at": _iso(c.created_at),
        "status": c.status.value,
    } | credential_due_attributes(c)


def credential_due_attributes(credential: Credential) -> dict[str, str]:
    """The `due` entry of an active credential: renewal (auto_renew) or an expiry notice, from
    the first day of its renewal window (fincert.domain.schedule)."""
    kind = "renew" if credential.auto_renew else "expiry"
    day = renewal_window_start(credential.not_after).isoformat()
    return {
        "due_pk": f"{kind}#{idle_shard(credential.account_id)}",
        "due_sk": f"{day}#{credential.account_id}#{credential.credential_id}",
    }
