"""Enrollments: the pending issuance a bank starts after verifying a customer, counted against the SMS limits, claimed under a lease by each confirm attempt."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fincert.adapters.dynamodb import keys
from fincert.adapters.dynamodb.items import (
    SharedItems,
)
from fincert.adapters.dynamodb.table import (
    as_bytes,
    attribute_values,
    epoch_seconds,
    from_iso,
    from_millis,
    iso,
    load_item,
    millis,
)
from fincert.domain.enrollment_records import Enrollment, EnrollmentStatus
from fincert.domain.rate_limits import RateLimit
from fincert.domain.retention import PENDING_REQUEST_RETENTION
from fincert.errors import ConditionFailed, EnrollmentUnavailable


class EnrollmentTable(SharedItems):
    def _enrollment_item(self, e: Enrollment) -> dict[str, Any]:
        return {
            **keys.enrollment(e.enrollment_id).as_dict(),
            "institution_id": e.institution_id,
            "person_index": e.person_index,
            "phone_index": e.phone_index,
            "account_id": e.account_id,
            "identity_ciphertext": e.identity_ciphertext,
            "challenge_ciphertext": e.challenge_ciphertext,
            "key_algorithm": e.key_algorithm,
            "auto_renew": e.auto_renew,
            "created_at": iso(e.created_at),
            "valid_until": millis(e.expires_at),
            "attempts": e.attempts,
            "status": e.status.value,
            "expires_at": epoch_seconds(e.expires_at + PENDING_REQUEST_RETENTION),
        }

    def create_enrollment(self, enrollment: Enrollment, limits: Sequence[RateLimit]) -> None:
        self._create_with_limits(self._enrollment_item(enrollment), limits, enrollment.created_at)

    def get_enrollment(self, enrollment_id: str) -> Enrollment | None:
        item = self._get(keys.enrollment(enrollment_id))
        return self._to_enrollment(item) if item else None

    def cancel_enrollment(self, enrollment: Enrollment, limits: Sequence[RateLimit]) -> None:
        self._cancel_with_limits(keys.enrollment(enrollment.enrollment_id), limits)

    def _to_enrollment(self, item: dict[str, Any]) -> Enrollment:
        lease = item.get("lease_until")
        return Enrollment(
            enrollment_id=keys.enrollment_id_of(item["pk"]),
            institution_id=item["institution_id"],
            person_index=item["person_index"],
            phone_index=item["phone_index"],
            account_id=item.get("account_id"),
            identity_ciphertext=as_bytes(item["identity_ciphertext"]),
            challenge_ciphertext=as_bytes(item["challenge_ciphertext"]),
            key_algorithm=item["key_algorithm"],
            auto_renew=bool(item["auto_renew"]),
            created_at=from_iso(item["created_at"]),
            expires_at=from_millis(item["valid_until"]),
            attempts=int(item.get("attempts", 0)),
            status=EnrollmentStatus(item["status"]),
            lease_until=from_millis(lease) if lease is not None else None,
            credential_id=item.get("credential_id"),
            confirmed_account_id=item.get("confirmed_account_id"),
            pin_verifier_digest=item.get("pin_verifier_digest"),
        )

    def claim_enrollment(
        self, enrollment_id: str, institution_id: str, now: datetime, lease_until: datetime, max_attempts: int
    ) -> Enrollment:
        """Retry-safe: the lease names its holder by a token made before the call (botocore's
        retry after a lost answer resends it); a retry of a claim that committed finds its own
        lease and is answered with the enrollment as claimed, not 409 enrollment_in_progress."""
        token = secrets.token_urlsafe(8)
        try:
            response = self._update(
                keys.enrollment(enrollment_id),
                UpdateExpression="SET lease_until = :lease, lease_holder = :token ADD attempts :one",
                ConditionExpression=(
                    "attribute_exists(pk) AND institution_id = :iid AND #status = :pending"
                    " AND valid_until > :now AND attempts < :max"
                    " AND (attribute_not_exists(lease_until) OR lease_until < :now)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=attribute_values(
                    {
                        ":lease": millis(lease_until),
                        ":token": token,
                        ":one": 1,
                        ":iid": institution_id,
                        ":pending": EnrollmentStatus.PENDING.value,
                        ":now": millis(now),
                        ":max": max_attempts,
                    }
                ),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ConditionFailed as e:
            if e.stored is not None and e.stored.get("lease_holder") == token:
                return self._to_enrollment(e.stored)
            raise EnrollmentUnavailable(self._to_enrollment(e.stored) if e.stored else None) from e
        return self._to_enrollment(load_item(response["Attributes"]))

    def release_enrollment(self, enrollment_id: str, lease_until: datetime, *, refund_attempt: bool) -> None:
        expression = "REMOVE lease_until" + (" ADD attempts :minus_one" if refund_attempt else "")
        values = {":lease": millis(lease_until)} | ({":minus_one": -1} if refund_attempt else {})
        # Only our own lease: a later claimant's must not be released by us.
        with contextlib.suppress(ConditionFailed):
            self._update(
                keys.enrollment(enrollment_id),
                UpdateExpression=expression,
                ConditionExpression="lease_until = :lease",
                ExpressionAttributeValues=attribute_values(values),
            )

    def count_replay(self, enrollment_id: str, institution_id: str, max_replays: int) -> None:
        self._update(
            keys.enrollment(enrollment_id),
            UpdateExpression="ADD replays :one",
            ConditionExpression=(
                "#status = :confirmed AND institution_id = :iid AND (attribute_not_exists(replays) OR replays < :max)"
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=attribute_values(
                {
                    ":one": 1,
                    ":confirmed": EnrollmentStatus.CONFIRMED.value,
                    ":iid": institution_id,
                    ":max": max_replays,
                }
            ),
        )
