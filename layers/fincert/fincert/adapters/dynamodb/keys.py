"""The single table's key schema: every item's pk / sk, and the `due` and `crl` index keys.

The one place that spells a key. The adapter builds every request from these; tests and the
local bench use them to read what the service stored, so a key format changes here or nowhere.
Nothing here imports boto3.

  pk                   sk                 item
  INST#<institution>   INSTITUTION        a member institution; its API key only as a hash
  ORIGIN#<origin>      ORIGIN             the institutions that registered a browser origin (CORS)
  CA                   CA                 the CA's certificates and KMS key ids
  CA                   OCSP_RESPONDER     the delegated OCSP responder's certificate and wrapped key
  CA                   TSA                the time-stamping authority's certificate and KMS key id
  PERSON#<index>       PERSON             blind index of name|phone|birth date -> account id
  ACCT#<account>       ACCOUNT            PIN verifier and attempt counters, active credential,
                                          registered institutions, device count, last use
  ACCT#<account>       CRED#<credential>  certificate, KMS-wrapped private key, status
  ACCT#<account>       SESSION#<id>       a customer session (token hash, institution, TTL)
  ACCT#<account>       SAD#<id>           signature activation data (CSC), a few minutes (TTL)
  ACCT#<account>       DEVICE#<id>        a registered device's public key (at most 5)
  ACCT#<account>       DEVKEY#<sha256>    a registered device key's fingerprint -> its device id: one
                                          device per key and account (written and deleted with it)
  ACCT#<account>       DEVCHAL#<id>       a device's single-use connection challenge (TTL)
  AUDIT#<account>      HIST#<time>#<id>   an audit entry, which is also a line of the customer's
                                          usage history: never updated or deleted by the service
                                          (an IAM deny in template.yaml), outside the account's
                                          partition so the idle purge keeps it (TTL: 5 years past
                                          the event or the certificate's end, fincert.domain.retention)
  VERIFY#<id>          VERIFICATION       an SMS re-verification (connection, PIN reset; TTL)
  ENR#<enrollment>     ENROLLMENT         a pending enrollment (TTL)
  TICKET#<ticket>      TICKET             a UI ticket, the window flow it became, its outcome (TTL)
  SERIAL#<hex>         SERIAL             pre-signing record, then the revocation record
  RATE#<scope>#<subj>  <window start>     rate-limit counter (TTL)
  PURGE#<account>      PURGE              an idle purge's audit record, no personal data (TTL)
  TSTOKEN#<hex>        TSTOKEN            a timestamp token issued: imprint, time, caller (TTL 5 years+)

Sparse index `due` (due_pk, due_sk): only items some job must act on, sharded (IDLE_SHARDS) so
one index partition never takes every account's daily write:
  "presigned"               SERIAL records whose certificate was never stored (the reconciler)
  "idle#<shard>"            every ACCOUNT by the KST day it was last used, "<day>#<account>"
  "idle-warned#<shard>"     the same, once the purge warning was sent
  "renew#<shard>"           CRED items of active auto-renewing certificates, and
  "expiry#<shard>"          of the others (an expiry notice), "<window start day>#<account>#<credential>"
  "purging"                 PURGE records whose purge has begun but not finished
Sparse index `crl` (crl_pk, crl_sk): revoked and suspended SERIAL records, by CRL partition
(fincert.crl_partitions) and serial, so a partition's CRL is one Query.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple


class Key(NamedTuple):
    pk: str
    sk: str

    def as_dict(self) -> dict[str, str]:
        return {"pk": self.pk, "sk": self.sk}


ACCOUNT_PREFIX = "ACCT#"
SERIAL_PREFIX = "SERIAL#"
CREDENTIAL_PREFIX = "CRED#"
HISTORY_PREFIX = "HIST#"
# Audit entries' partitions. template.yaml denies every function UpdateItem and DeleteItem on
# items whose partition key starts with it (dynamodb:LeadingKeys); tests/local_stack/
# test_audit_records_template.py holds the two together.
AUDIT_PREFIX = "AUDIT#"
DEVICE_PREFIX = "DEVICE#"
DEVICE_KEY_PREFIX = "DEVKEY#"
VERIFICATION_PREFIX = "VERIFY#"
ENROLLMENT_PREFIX = "ENR#"
ENROLLMENT_SK = "ENROLLMENT"
RATE_LIMIT_PREFIX = "RATE#"
PERSON_PREFIX = "PERSON#"
PURGE_PREFIX = "PURGE#"
ACCOUNT_SK = "ACCOUNT"
SERIAL_SK = "SERIAL"

CERTIFICATE_AUTHORITY = Key("CA", "CA")
OCSP_RESPONDER = Key("CA", "OCSP_RESPONDER")
TIMESTAMP_AUTHORITY = Key("CA", "TSA")
TIMESTAMP_TOKEN_PREFIX = "TSTOKEN#"  # noqa: S105  (a key prefix, not a secret)


def institution(institution_id: str) -> Key:
    return Key(f"INST#{institution_id}", "INSTITUTION")


# One partition listing every institution's id, so the operator lists them with a Query.
INSTITUTION_LISTING_PK = "INSTITUTIONS"


def institution_listing(institution_id: str) -> Key:
    return Key(INSTITUTION_LISTING_PK, f"INST#{institution_id}")


def institution_id_of_listing(sk: str) -> str:
    return sk.removeprefix("INST#")


def origin(browser_origin: str) -> Key:
    return Key(f"ORIGIN#{browser_origin}", "ORIGIN")


def person(person_index: str) -> Key:
    return Key(PERSON_PREFIX + person_index, "PERSON")


def account_pk(account_id: str) -> str:
    return ACCOUNT_PREFIX + account_id


def account(account_id: str) -> Key:
    return Key(account_pk(account_id), ACCOUNT_SK)


def credential(account_id: str, credential_id: str) -> Key:
    return Key(account_pk(account_id), CREDENTIAL_PREFIX + credential_id)


def session(account_id: str, session_id: str) -> Key:
    return Key(account_pk(account_id), f"SESSION#{session_id}")


def activation(account_id: str, sad_id: str) -> Key:
    return Key(account_pk(account_id), f"SAD#{sad_id}")


def device(account_id: str, device_id: str) -> Key:
    return Key(account_pk(account_id), DEVICE_PREFIX + device_id)


def device_key(account_id: str, key_fingerprint: str) -> Key:
    """Under the account's partition, so the idle purge deletes it with the account."""
    return Key(account_pk(account_id), DEVICE_KEY_PREFIX + key_fingerprint)


def device_challenge(account_id: str, challenge_id: str) -> Key:
    return Key(account_pk(account_id), f"DEVCHAL#{challenge_id}")


def audit_pk(account_id: str) -> str:
    return AUDIT_PREFIX + account_id


def history(account_id: str, at: str, entry_id: str) -> Key:
    """An audit entry (a history line). `at` is the entry's time as history sorts it (ISO 8601
    UTC to the millisecond). Not under ACCT#: the idle purge deletes that partition."""
    return Key(audit_pk(account_id), f"{HISTORY_PREFIX}{at}#{entry_id}")


def ticket(ticket_id: str) -> Key:
    return Key(f"TICKET#{ticket_id}", "TICKET")


def verification(verification_id: str) -> Key:
    return Key(VERIFICATION_PREFIX + verification_id, "VERIFICATION")


def enrollment(enrollment_id: str) -> Key:
    return Key(ENROLLMENT_PREFIX + enrollment_id, ENROLLMENT_SK)


def serial_hex(serial_number: int) -> str:
    return format(serial_number, "x")


def serial(serial_number: int) -> Key:
    return Key(SERIAL_PREFIX + serial_hex(serial_number), SERIAL_SK)


def rate_limit(scope: str, subject: str, window_start: str) -> Key:
    return Key(f"{RATE_LIMIT_PREFIX}{scope}#{subject}", window_start)


def timestamp_token(serial_number: int) -> Key:
    return Key(TIMESTAMP_TOKEN_PREFIX + serial_hex(serial_number), "TSTOKEN")


def purge_record(account_id: str) -> Key:
    return Key(PURGE_PREFIX + account_id, "PURGE")


# --- reading keys back ------------------------------------------------------------------------
def account_id_of(pk: str) -> str:
    return pk.removeprefix(ACCOUNT_PREFIX)


def credential_id_of(sk: str) -> str:
    return sk.removeprefix(CREDENTIAL_PREFIX)


def verification_id_of(pk: str) -> str:
    return pk.removeprefix(VERIFICATION_PREFIX)


def enrollment_id_of(pk: str) -> str:
    return pk.removeprefix(ENROLLMENT_PREFIX)


def serial_number_of(pk: str) -> int:
    return int(pk.removeprefix(SERIAL_PREFIX), 16)


# --- the `due` index --------------------------------------------------------------------------
# Spreads the accounts' and credentials' due entries over this many partitions.
IDLE_SHARDS = 16
PRESIGNED = "presigned"
PURGING = "purging"


def idle_shard(account_id: str) -> int:
    return hashlib.sha256(account_id.encode()).digest()[0] % IDLE_SHARDS


def due_partition(kind: str, account_id: str) -> str:
    """The due_pk of an account's entry of a sharded kind ("renew", "expiry", "idle", "idle-warned")."""
    return f"{kind}#{idle_shard(account_id)}"


def due_partitions(kind: str) -> list[str]:
    """Every due_pk a sharded kind of entry is spread over."""
    return [f"{kind}#{shard}" for shard in range(IDLE_SHARDS)]
