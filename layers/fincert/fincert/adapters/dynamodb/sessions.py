"""SMS re-verifications, customer sessions, and signature activation data (SADs) with the signing step that spends them."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from fincert.adapters.aws_errors import aws_call
from fincert.adapters.dynamodb import keys
from fincert.adapters.dynamodb.items import (
    SharedItems,
    session_item,
    to_credential,
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
from fincert.domain.account_records import Credential
from fincert.domain.history_records import HistoryEntry
from fincert.domain.institution_records import Institution
from fincert.domain.rate_limits import RateLimit
from fincert.domain.retention import PENDING_REQUEST_RETENTION
from fincert.domain.session_records import Session, SignatureActivation, Verification, VerificationPurpose
from fincert.errors import ConditionFailed, ServiceUnavailable, VerificationUnavailable


def _to_session(account_id: str, session_id: str, item: dict[str, Any]) -> Session:
    return Session(
        session_id=session_id,
        account_id=account_id,
        institution_id=item["institution_id"],
        secret_hash=item["secret_hash"],
        created_at=from_iso(item["created_at"]),
        expires_at=from_millis(item["valid_until"]),
        via=item["via"],
        device_id=item.get("device_id"),
    )


class SessionTable(SharedItems):
    def _verification_item(self, v: Verification) -> dict[str, Any]:
        return {
            **keys.verification(v.verification_id).as_dict(),
            "purpose": v.purpose.value,
            "institution_id": v.institution_id,
            "account_id": v.account_id,
            "challenge_ciphertext": v.challenge_ciphertext,
            "created_at": iso(v.created_at),
            "valid_until": millis(v.expires_at),
            "attempts": v.attempts,
            "used": v.used,
            "expires_at": epoch_seconds(v.expires_at + PENDING_REQUEST_RETENTION),
        }

    def _to_verification(self, item: dict[str, Any]) -> Verification:
        return Verification(
            verification_id=keys.verification_id_of(item["pk"]),
            purpose=VerificationPurpose(item["purpose"]),
            institution_id=item["institution_id"],
            account_id=item.get("account_id"),
            challenge_ciphertext=as_bytes(item["challenge_ciphertext"]),
            created_at=from_iso(item["created_at"]),
            expires_at=from_millis(item["valid_until"]),
            attempts=int(item.get("attempts", 0)),
            used=bool(item.get("used", False)),
        )

    def create_verification(self, verification: Verification, limits: Sequence[RateLimit]) -> None:
        self._create_with_limits(self._verification_item(verification), limits, verification.created_at)

    def cancel_verification(self, verification: Verification, limits: Sequence[RateLimit]) -> None:
        self._cancel_with_limits(keys.verification(verification.verification_id), limits)

    def claim_verification(
        self,
        verification_id: str,
        institution_id: str,
        purpose: VerificationPurpose,
        now: datetime,
        max_attempts: int,
    ) -> Verification:
        """Counts one attempt at the code. Retry-safe: the claim adds its token (made before the
        call, so botocore's retry after a lost answer resends it) to the item's `claims`, on
        condition that it is not there; a retry of a claim that committed is answered with the
        verification as stored, not refused as one attempt too many. The set holds the tokens of the
        attempts counted (an attempt given back takes its token out): at most max_attempts."""
        token = secrets.token_urlsafe(8)
        try:
            response = self._update(
                keys.verification(verification_id),
                UpdateExpression="ADD attempts :one, claims :token_set",
                ConditionExpression=(
                    "attribute_exists(pk) AND institution_id = :iid AND purpose = :purpose AND used = :false"
                    " AND valid_until > :now AND attempts < :max AND NOT contains(claims, :token)"
                ),
                ExpressionAttributeValues=attribute_values(
                    {
                        ":token": token,
                        ":token_set": {token},
                        ":one": 1,
                        ":iid": institution_id,
                        ":purpose": purpose.value,
                        ":false": False,
                        ":now": millis(now),
                        ":max": max_attempts,
                    }
                ),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ConditionFailed as e:
            if e.stored is not None and token in e.stored.get("claims", ()):
                return replace(self._to_verification(e.stored), claim=token)
            raise VerificationUnavailable(self._to_verification(e.stored) if e.stored else None) from e
        return replace(self._to_verification(load_item(response["Attributes"])), claim=token)

    def refund_verification_attempt(self, verification: Verification) -> None:
        """Gives back the attempt this claim counted, once: the claim's token leaves the set in
        the same update, on condition that it is there, so a retry after a lost answer gives
        back nothing more (an extra guess at the code)."""
        if verification.claim is None:
            return
        with contextlib.suppress(ConditionFailed):
            self._update(
                keys.verification(verification.verification_id),
                UpdateExpression="ADD attempts :minus_one DELETE claims :claim_set",
                ConditionExpression="contains(claims, :claim) AND attempts > :zero AND used = :false",
                ExpressionAttributeValues=attribute_values(
                    {
                        ":minus_one": -1,
                        ":zero": 0,
                        ":false": False,
                        ":claim": verification.claim,
                        ":claim_set": {verification.claim},
                    }
                ),
            )

    def complete_connection(
        self, verification_id: str, session: Session, history: HistoryEntry, today: date
    ) -> None:
        """Uses the verification once and opens the session, on condition that the account exists."""
        self._transact(
            [
                self._use_verification(verification_id),
                self._touch_account(session.account_id, today),
                self._put(session_item(session)),
                self._put_history(session.account_id, history),
            ],
            ["verification", "account", "session", "history"],
        )

    def get_session(self, account_id: str, session_id: str) -> Session | None:
        item = self._get(keys.session(account_id, session_id))
        return _to_session(account_id, session_id, item) if item else None

    def get_session_and_institution(
        self, institution_id: str, account_id: str, session_id: str
    ) -> tuple[Session | None, Institution | None]:
        item, institution = self._with_institution(keys.session(account_id, session_id), institution_id)
        return (_to_session(account_id, session_id, item) if item else None), institution

    def delete_session(self, account_id: str, session_id: str) -> None:
        with aws_call("DynamoDB"):
            self._client().delete_item(
                TableName=self._table, Key=self._key(keys.session(account_id, session_id))
            )

    def load_for_signing(
        self, account_id: str, sad_id: str, credential_id: str
    ) -> tuple[SignatureActivation | None, Credential | None]:
        """The SAD and the credential it names, in one round trip."""
        sad_key, credential_key = (
            keys.activation(account_id, sad_id),
            keys.credential(account_id, credential_id),
        )
        with aws_call("DynamoDB"):
            response = self._client().batch_get_item(
                RequestItems={
                    self._table: {
                        "Keys": [self._key(sad_key), self._key(credential_key)],
                        "ConsistentRead": True,
                    }
                }
            )
        if response.get("UnprocessedKeys"):
            raise ServiceUnavailable("DynamoDB did not return every item, retry", retry_after=1)
        items = {item["sk"]: item for item in map(load_item, response["Responses"].get(self._table, []))}
        sad_item, credential_item = items.get(sad_key.sk), items.get(credential_key.sk)
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
                expires_at=from_millis(sad_item["valid_until"]),
            )
        credential = to_credential(account_id, credential_item) if credential_item else None
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
                self._tx_update(
                    keys.activation(activation.account_id, activation.sad_id),
                    UpdateExpression="SET remaining = remaining - :count",
                    ConditionExpression="remaining >= :count AND valid_until > :now",
                    ExpressionAttributeValues=attribute_values({":count": count, ":now": millis(now)}),
                ),
                # The credential is checked on the account, as the PIN acceptance checks it: every
                # change of a credential's status (suspend, restore, revoke, supersede, renew,
                # purge) changes the account's active_credential_id / credential_suspended in the
                # same transaction. The account item is ~0.7 KB, the credential ~2.8 KB (key and
                # certificate): a transactional check costs 2 write units instead of 6
                # (docs/benchmarks.md, cost model).
                self._tx_check(
                    keys.account(activation.account_id),
                    ConditionExpression="active_credential_id = :cid AND attribute_not_exists(credential_suspended)",
                    ExpressionAttributeValues=attribute_values({":cid": activation.credential_id}),
                ),
                self._put_history(activation.account_id, history),
            ],
            ["activation", "credential", "history"],
        )
