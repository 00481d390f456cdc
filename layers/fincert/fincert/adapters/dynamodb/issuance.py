"""Issuance: the pre-signing record written before the CA signs, the one transaction that stores a certificate (account, credential, serial, enrollment, history), and the reconciler's revocation of what was signed but never stored."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from fincert.adapters.aws_errors import aws_call
from fincert.adapters.dynamodb import keys
from fincert.adapters.dynamodb.items import (
    PIN_COUNTERS_RESET,
    PIN_COUNTERS_RESET_ASSIGNMENTS,
    PIN_COUNTERS_RESET_REMOVALS,
    credential_item,
    last_use_assignments,
    last_use_attributes,
    pin_counters_reset_values,
)
from fincert.adapters.dynamodb.serials import SerialTable
from fincert.adapters.dynamodb.table import (
    attribute_values,
    epoch_seconds,
    iso,
    load_item,
    millis,
)
from fincert.clock import kst_date
from fincert.crl_partitions import crl_partition
from fincert.domain.account_records import RevocationReason
from fincert.domain.enrollment_records import EnrollmentStatus, IssuanceCommit, PreSigningRecord
from fincert.domain.retention import serial_retained_until
from fincert.domain.status_records import SerialStatus


class IssuanceTable(SerialTable):
    def put_pre_signing_record(self, record: PreSigningRecord) -> None:
        self._put_new(
            {
                **keys.serial(record.serial_number).as_dict(),
                "credential_id": record.credential_id,
                "account_id": record.account_id,
                "tbs_sha256": record.tbs_sha256,
                "not_after": iso(record.not_after),
                "created_at": iso(record.created_at),
                "status": SerialStatus.PRESIGNED.value,
                # Copied into crl_pk when the serial is revoked (serial_status_update).
                "crl_partition": crl_partition(record.not_after),
                "due_pk": keys.PRESIGNED,
                "due_sk": f"{iso(record.created_at)}#{keys.serial_hex(record.serial_number)}",
                # Kept 5 years past notAfter: OCSP, the CRLs and the verify call answer for it
                # (and a purged account's revocation shows) until then.
                "expires_at": epoch_seconds(serial_retained_until(record.not_after)),
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
                "ExpressionAttributeValues": attribute_values(
                    {":presigned": keys.PRESIGNED, ":cutoff": iso(cutoff)}
                ),
                "Limit": limit - len(serials),
            }
            if start_key:
                query["ExclusiveStartKey"] = start_key
            with aws_call("DynamoDB"):
                page = self._client().query(**query)
            serials += [keys.serial_number_of(load_item(item)["pk"]) for item in page.get("Items", [])]
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
        # Issuance is a cloud use: it starts (or restarts) the idle-purge clock.
        last_use, last_use_values = last_use_assignments(account.account_id, kst_date(now))
        items: list[dict[str, Any]] = []
        names: list[str] = []
        if commit.previous is None:
            items += [
                self._put({**keys.person(account.person_index).as_dict(), "account_id": account.account_id}),
                self._put(
                    {
                        **keys.account(account.account_id).as_dict(),
                        "person_index": account.person_index,
                        "holder_suffix": account.holder_suffix,
                        "identity_ciphertext": account.identity_ciphertext,
                        "pin_verifier": account.pin_verifier,
                        **PIN_COUNTERS_RESET,
                        "institutions": {c.issued_by},
                        "active_credential_id": c.credential_id,
                        "active_serial": keys.serial_hex(c.serial_number),
                        "certificate_not_after": iso(c.not_after),
                        "created_at": iso(account.created_at),
                        "updated_at": iso(now),
                    }
                    | last_use_attributes(account.account_id, kst_date(now))
                ),
            ]
            names += ["account", "account"]
        else:
            old_id, old_serial = commit.previous.active_credential_id, commit.previous.active_serial
            condition = "attribute_exists(pk) AND " + (
                "active_credential_id = :old" if old_id else "attribute_not_exists(active_credential_id)"
            )
            values = (
                {
                    ":cid": c.credential_id,
                    ":serial": keys.serial_hex(c.serial_number),
                    ":not_after": iso(c.not_after),
                    ":verifier": account.pin_verifier,
                    ":now": iso(now),
                    ":issuer": {c.issued_by},
                }
                | pin_counters_reset_values()
                | last_use_values
                | ({":old": old_id} if old_id else {})
            )
            items.append(
                self._tx_update(
                    keys.account(account.account_id),
                    UpdateExpression=(
                        "SET active_credential_id = :cid, active_serial = :serial, certificate_not_after = :not_after,"
                        " pin_verifier = :verifier,"
                        f" {PIN_COUNTERS_RESET_ASSIGNMENTS}, updated_at = :now, {last_use}"
                        " ADD institutions :issuer"
                        # A reissue replaces a suspended certificate too; the new one is not.
                        f" REMOVE credential_suspended, {PIN_COUNTERS_RESET_REMOVALS}"
                    ),
                    ConditionExpression=condition,
                    ExpressionAttributeValues=attribute_values(values),
                )
            )
            names.append("account")
            if old_id and old_serial is not None:
                items += [
                    self._supersede_credential(account.account_id, old_id, now, only_if_active=False),
                    # No existence condition: 5 years past its certificate's notAfter the serial
                    # record is gone (TTL), and reissuing must still work. A record recreated
                    # here expires at once (the TTL it had, or now): its retention has run out.
                    self._serial_status_item(
                        old_serial,
                        SerialStatus.REVOKED,
                        at=now,
                        reason=RevocationReason.SUPERSEDED.value,
                        recreate_expiring_at=now,
                    ),
                ]
                names += ["old_credential", "old_serial"]
                superseded = commit.superseded_history
                if superseded is not None:
                    items.append(self._put_history(account.account_id, superseded))
                    names.append("history")
        items += [
            self._put(credential_item(c)),
            self._put_history(account.account_id, commit.history),
            self._mark_serial_issued(c.serial_number),
            self._tx_update(
                keys.enrollment(commit.enrollment.enrollment_id),
                UpdateExpression=(
                    "SET #status = :confirmed, credential_id = :cid, confirmed_account_id = :aid,"
                    " pin_verifier_digest = :digest REMOVE lease_until"
                ),
                ConditionExpression="#status = :pending AND lease_until = :lease",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=attribute_values(
                    {
                        ":confirmed": EnrollmentStatus.CONFIRMED.value,
                        ":pending": EnrollmentStatus.PENDING.value,
                        ":cid": c.credential_id,
                        ":aid": account.account_id,
                        ":digest": commit.pin_verifier_digest,
                        ":lease": millis(commit.lease_until),
                    }
                ),
            ),
        ]
        names += ["credential", "history", "new_serial", "enrollment"]
        # One token per claim of the enrollment and per account state it builds on: botocore's
        # retry of this very commit is one commit, while the domain's rebuilt commit after an
        # account race (other items) gets a new token (DynamoDB refuses a token reused with
        # other parameters).
        previous = commit.previous.active_credential_id if commit.previous else "new-account"
        token = hashlib.sha256(
            f"{commit.enrollment.enrollment_id}|{millis(commit.lease_until)}|{previous}".encode()
        )
        self._transact(items, names, token=token.hexdigest()[:36])
