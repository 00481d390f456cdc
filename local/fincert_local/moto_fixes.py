"""Corrections to moto where it is not faithful to AWS in a way fincert-cloud depends on.

One set, applied by the tests (tests/conftest.py, for the whole session) and by the local stack
(`LocalStack.start`, which serves both its in-process handlers and its moto server thread: they
share one process and one set of moto backends). Each correction is a small patch of moto's
internals, written against moto SUPPORTED_MOTO and refusing to apply to any other version
(`MotoVersionError`): moto's internals change between releases, and a patch that silently
stopped matching would hide exactly the bugs it is here to correct. docs/moto-corrections.md
has, for each one, what moto does, what AWS does, a reproduction and the approach, as text to
file upstream.

| name                   | moto 5.2.5                                         | corrected to (as AWS)                    |
| ---------------------- | -------------------------------------------------- | ---------------------------------------- |
| kms_digest             | Sign/Verify ignore MessageType=DIGEST (hash twice)  | sign the digest as given; RAW <= 4096 B  |
| transaction_undo_log   | transact_write_items deep-copies every table named  | an undo log of the items it touches      |
|                        | by an action, once per action, and the copies stay  |                                          |
|                        | alive (instance tracking): memory and time grow     |                                          |
| untracked_items        | every DynamoDB Item ever built (puts, updates'      | Items live as long as the table holds    |
|                        | before-images) is kept in Item.instances_tracked    | them                                     |
| client_request_token   | transact_write_items ignores ClientRequestToken     | same token + same request within 10 min: |
|                        |                                                     | success, not applied again; other        |
|                        |                                                     | request: IdempotentParameterMismatch     |

Not a patch but a companion: `TtlSweeper`, a daemon thread deleting items whose TTL attribute is
in the past (moto never expires anything). The local stack runs one; tests call `sweep_once`.

Use: `apply_all()` (idempotent, process-wide); `without("name")` in a test that shows the gap on
plain moto; `remove_all()` to restore moto as installed.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import hashlib
import inspect
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import moto
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from moto.core.responses import ActionResult
from moto.dynamodb import models as ddb_models
from moto.dynamodb import responses as ddb_responses
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    DynamodbException,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.table import Table
from moto.kms import responses as kms_responses
from moto.kms import utils as kms_utils
from moto.kms.exceptions import ValidationException

SUPPORTED_MOTO = "5.2.5"
_log = logging.getLogger("fincert_local.moto_fixes")


class MotoVersionError(RuntimeError):
    """The installed moto is not the one these corrections were written for."""


def check_moto_version() -> None:
    if moto.__version__ != SUPPORTED_MOTO:
        raise MotoVersionError(
            f"fincert_local.moto_fixes was written for moto {SUPPORTED_MOTO}, not {moto.__version__}: "
            "read the new moto's source for each correction (docs/moto-corrections.md), drop those it "
            "no longer needs, update the others and SUPPORTED_MOTO"
        )


# --- patch bookkeeping ------------------------------------------------------------------------

_MISSING = object()


class _Patches:
    """setattr with a record of what was there, so `undo` puts moto back exactly."""

    def __init__(self) -> None:
        self._done: list[tuple[Any, str, Any]] = []

    def set(self, owner: Any, name: str, value: Any) -> None:
        self._done.append((owner, name, owner.__dict__.get(name, _MISSING)))
        setattr(owner, name, value)

    def undo(self) -> None:
        for owner, name, previous in reversed(self._done):
            if previous is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, previous)
        self._done.clear()


@dataclass(frozen=True)
class Correction:
    name: str
    summary: str
    install: Callable[[_Patches], None]


_lock = threading.RLock()
_applied: dict[str, _Patches] = {}


# --- kms_digest -------------------------------------------------------------------------------
# moto's KmsResponse.sign/verify read MessageType and throw it away, so the key hashes a DIGEST
# message again: the signature is over SHA-256(SHA-256(TBS)) and no verifier accepts it. KMS
# signs a DIGEST message as the digest it is (PKCS#1 v1.5 DigestInfo / PSS / ECDSA over it) and
# takes RAW messages only up to 4096 bytes, which moto does not enforce either.
#
# The handlers read MessageType, check the message length as KMS does, and flag the call (a
# ContextVar: set and read in the thread serving the request); moto's RSA/ECDSA key objects then
# sign/verify with Prehashed(hash). Padding and hash still come from moto's own per-algorithm
# helpers; key lookup, key usage and algorithm checks are moto's, unchanged. Not corrected, as
# nothing here uses it: moto's RSASSA_PSS uses the maximum salt length, KMS the digest length.

KMS_RAW_MESSAGE_LIMIT = 4096  # KMS Sign/Verify: "Messages can be 0-4096 bytes"
_DIGEST_SIZES = {"SHA_256": 32, "SHA_384": 48, "SHA_512": 64}
_digest_call: contextvars.ContextVar[bool] = contextvars.ContextVar("moto_kms_digest_call", default=False)


def _check_kms_message(message_type: str, message: Any, signing_algorithm: str) -> None:
    size = len(message) if isinstance(message, bytes | str) else 0
    if message_type == "RAW" and size > KMS_RAW_MESSAGE_LIMIT:
        raise ValidationException(
            "1 validation error detected: Value at 'Message' failed to satisfy constraint: "
            f"Member must have length less than or equal to {KMS_RAW_MESSAGE_LIMIT}"
        )
    if message_type == "DIGEST":
        expected = next(
            (n for suffix, n in _DIGEST_SIZES.items() if signing_algorithm.endswith(suffix)), None
        )
        if expected is not None and size != expected:
            raise ValidationException(f"Digest is invalid length for algorithm {signing_algorithm}.")


def _kms_handler(original: Callable[[Any], str]) -> Callable[[Any], str]:
    def handler(self: Any) -> str:
        message_type = self._get_param("MessageType") or "RAW"
        _check_kms_message(
            message_type, self._get_param("Message"), self._get_param("SigningAlgorithm") or ""
        )
        token = _digest_call.set(message_type == "DIGEST")
        try:
            return original(self)
        finally:
            _digest_call.reset(token)

    return handler


def _rsa_sign(key: Any, message: bytes, signing_algorithm: str) -> bytes:
    kms_utils.validate_signing_algorithm(
        signing_algorithm, kms_utils.SigningAlgorithm.rsa_signing_algorithms()
    )
    pad, algorithm = key._RSAPrivateKey__padding_and_hash_algorithm(signing_algorithm)
    return key.private_key.sign(message, pad, Prehashed(algorithm))


def _rsa_verify(key: Any, message: bytes, signature: bytes, signing_algorithm: str) -> bool:
    kms_utils.validate_signing_algorithm(
        signing_algorithm, kms_utils.SigningAlgorithm.rsa_signing_algorithms()
    )
    pad, algorithm = key._RSAPrivateKey__padding_and_hash_algorithm(signing_algorithm)
    try:
        key.private_key.public_key().verify(signature, message, pad, Prehashed(algorithm))
    except InvalidSignature:
        return False
    return True


def _ecdsa_sign(key: Any, message: bytes, signing_algorithm: str) -> bytes:
    kms_utils.validate_signing_algorithm(signing_algorithm, key.valid_signing_algorithms)
    algorithm = key._ECDSAPrivateKey__hash_algorithm(signing_algorithm)
    return key.private_key.sign(message, ec.ECDSA(Prehashed(algorithm)))


def _ecdsa_verify(key: Any, message: bytes, signature: bytes, signing_algorithm: str) -> bool:
    kms_utils.validate_signing_algorithm(signing_algorithm, key.valid_signing_algorithms)
    algorithm = key._ECDSAPrivateKey__hash_algorithm(signing_algorithm)
    try:
        key.private_key.public_key().verify(signature, message, ec.ECDSA(Prehashed(algorithm)))
    except InvalidSignature:
        return False
    return True


def _key_method(original: Callable[..., Any], digest_version: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: Any, *args: Any) -> Any:
        return digest_version(self, *args) if _digest_call.get() else original(self, *args)

    return method


def _install_kms_digest(patches: _Patches) -> None:
    for name in ("sign", "verify"):
        patches.set(kms_responses.KmsResponse, name, _kms_handler(getattr(kms_responses.KmsResponse, name)))
    key_methods = {
        (kms_utils.RSAPrivateKey, "sign"): _rsa_sign,
        (kms_utils.RSAPrivateKey, "verify"): _rsa_verify,
        (kms_utils.ECDSAPrivateKey, "sign"): _ecdsa_sign,
        (kms_utils.ECDSAPrivateKey, "verify"): _ecdsa_verify,
    }
    for (key_class, name), digest_version in key_methods.items():
        patches.set(key_class, name, _key_method(getattr(key_class, name), digest_version))


# --- transaction_undo_log ---------------------------------------------------------------------
# moto's DynamoDBBackend.transact_write_items starts with
#     original_table_state[table_name] = copy.deepcopy(self.tables[table_name])
# for every action, so a transaction of n actions on one table copies the whole table n times,
# and every copied Table and Item is appended to its class's `instances_tracked` list (moto's
# BaseModel records every instance for its dashboard): nothing is ever freed. Time per transaction
# grows with the table, memory grows without bound.
#
# The replacement below is moto's function with that one thing changed: before an action writes
# an item, it remembers that item (the object itself for Put and Delete, which replace or remove
# it; an untracked copy for Update, which changes it in place). On a cancellation it puts the
# remembered items back, newest first, and cuts the table's stream records back to where they
# were. Everything else (validation, unicity, condition evaluation, the order of the writes, the
# exceptions and CancellationReasons) is moto's code as it was.


def _item_copy(item: Item) -> Item:
    """Item.__deepcopy__ without BaseModel.__new__, so the copy is not instance-tracked."""
    result = object.__new__(Item)
    result.hash_key = copy.deepcopy(item.hash_key)
    result.range_key = copy.deepcopy(item.range_key)
    attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.__init__(attrs)
    for name, value in item.attrs.items():
        dict.__setitem__(attrs, name, copy.deepcopy(value))
    result.attrs = attrs
    return result


class _UndoLog:
    def __init__(self) -> None:
        self._entries: list[tuple[Table, DynamoType, DynamoType | None, Item | None]] = []
        self._streams: dict[int, tuple[Table, int]] = {}

    def remember(self, table: Table, key: dict[str, Any], in_place: bool) -> None:
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        current = table.get_item(hash_value, range_value)
        saved = _item_copy(current) if (current is not None and in_place) else current
        self._entries.append((table, hash_value, range_value, saved))
        if table.stream_shard is not None and id(table) not in self._streams:
            self._streams[id(table)] = (table, len(table.stream_shard.items))

    def roll_back(self) -> None:
        for table, hash_value, range_value, saved in reversed(self._entries):
            if range_value is not None:
                bucket = table.items[hash_value]
                if saved is None:
                    bucket.pop(range_value, None)
                    if not bucket:
                        table.items.pop(hash_value, None)
                else:
                    bucket[range_value] = saved
            elif saved is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = saved
        for table, length in self._streams.values():
            if table.stream_shard is not None:
                del table.stream_shard.items[length:]
        self.clear()

    def clear(self) -> None:
        self._entries.clear()
        self._streams.clear()


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    # moto 5.2.5's DynamoDBBackend.transact_write_items, the table copies replaced by _UndoLog.
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    undo = _UndoLog()

    target_items: set[tuple[str, str]] = set()

    def check_unicity(table_name: str, key: dict[str, Any]) -> None:
        item = (str(table_name), str(dict(sorted(key.items()))))
        if item in target_items:
            raise MultipleTransactionsException()
        target_items.add(item)

    errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
    try:
        for item in transact_items:
            original_item: dict[str, Any] | None = None
            if len(list(item.keys())) > 1:
                raise TransactWriteSingleOpException
            try:
                op_type, op = next(iter(item.items()))
                if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                    raise ValueError("Unsupported transaction operation")

                table_name = op["TableName"]
                condition_expression = op.get("ConditionExpression")
                expression_attribute_names = op.get("ExpressionAttributeNames")
                expression_attribute_values = op.get("ExpressionAttributeValues")
                return_values_on_condition_check_failure = op.get("ReturnValuesOnConditionCheckFailure")

                if op_type == "Put":
                    attrs = op["Item"]
                    table = self.get_table(table_name)
                    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = attrs[table.range_key_attr]
                else:
                    key = op["Key"]

                check_unicity(table_name, key)

                current = self.get_item(table_name, key)
                if condition_expression is not None:
                    condition_op = ddb_models.get_filter_expression(
                        condition_expression, expression_attribute_names, expression_attribute_values
                    )
                    if not condition_op.expr(current):
                        if return_values_on_condition_check_failure == "ALL_OLD" and current:
                            original_item = current.to_json()["Attributes"]
                        raise ConditionalCheckFailed(item=original_item)

                if op_type != "ConditionCheck":
                    undo.remember(self.get_table(table_name), key, in_place=op_type == "Update")
                if op_type == "Put":
                    self.put_item(
                        table_name,
                        op["Item"],
                        condition_expression=condition_expression,
                        expression_attribute_names=expression_attribute_names,
                        expression_attribute_values=expression_attribute_values,
                    )
                elif op_type == "Delete":
                    self.delete_item(
                        table_name,
                        key,
                        condition_expression=condition_expression,
                        expression_attribute_names=expression_attribute_names,
                        expression_attribute_values=expression_attribute_values,
                    )
                elif op_type == "Update":
                    self.update_item(
                        table_name,
                        key,
                        update_expression=op["UpdateExpression"],
                        condition_expression=condition_expression,
                        expression_attribute_names=expression_attribute_names,
                        expression_attribute_values=expression_attribute_values,
                    )
                errors.append((None, None, None))
            except (MultipleTransactionsException, MockValidationException):
                undo.roll_back()
                raise
            except ConditionalCheckFailed as e:
                errors.append(("ConditionalCheckFailed", str(e.message), original_item))  # type: ignore[arg-type]
            except Exception as e:  # moto's own catch-all, kept as it is
                errors.append((type(e).__name__, str(e), original_item))  # type: ignore[arg-type]

        if any(code is not None for code, _, _ in errors):
            undo.roll_back()
            raise TransactionCanceledException(errors)
    finally:
        undo.clear()  # nothing remembered outlives the call


def _install_transaction_undo_log(patches: _Patches) -> None:
    patches.set(ddb_models.DynamoDBBackend, "transact_write_items", _transact_write_items)


# --- untracked_items --------------------------------------------------------------------------
# moto's BaseModel.__new__ appends every instance to `cls.instances_tracked`, for the moto
# server's /moto-api/data.json dashboard, and only a full reset empties it. For DynamoDB that is
# every Item ever built: each PutItem's item, each UpdateItem's before-image
# (`orig_item = copy.deepcopy(item)`), each overwritten or deleted item. A long-running local
# stack keeps them all. DynamoDB Items stop being tracked: an Item lives as long as a table (or a
# response) holds it. The dashboard no longer lists DynamoDB items; nothing else reads the list.


def _untracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    return object.__new__(cls)


def _install_untracked_items(patches: _Patches) -> None:
    patches.set(Item, "__new__", staticmethod(_untracked_new))


# --- client_request_token ---------------------------------------------------------------------
# moto's DynamoHandler.transact_write_items never reads ClientRequestToken, so a retried
# transaction (botocore retries one whose answer was lost) is applied twice, or fails its own
# conditions. DynamoDB: a token is valid for 10 minutes after the first request that uses it
# completes; the same token with the same parameters has the same effect as one call (success,
# nothing written again); with other parameters, IdempotentParameterMismatchException.
#
# The handler remembers, per backend (account and region), each token of a transaction that
# succeeded with a fingerprint of the rest of the request, for 10 minutes. A cancelled transaction
# wrote nothing, so its token is not remembered and a retry runs again.

CLIENT_TOKEN_WINDOW_SECONDS = 600.0
_token_lock = threading.Lock()
_token_clock: Callable[[], float] = time.monotonic


class IdempotentParameterMismatchException(DynamodbException):
    error_type = "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException"

    def __init__(self) -> None:
        super().__init__(
            self.error_type,
            message="The request uses the same client token as a previous, but non-identical request.",
        )


def _request_fingerprint(body: dict[str, Any]) -> str:
    rest = {name: value for name, value in body.items() if name != "ClientRequestToken"}
    # moto has already decoded Binary attributes to bytes.
    text = json.dumps(rest, sort_keys=True, separators=(",", ":"), default=_json_default)
    return hashlib.sha256(text.encode()).hexdigest()


def _json_default(value: Any) -> str:
    return "b:" + value.hex() if isinstance(value, bytes | bytearray) else repr(value)


def _token_table(backend: Any) -> dict[str, tuple[str, float]]:
    # On the backend, so moto's reset (which rebuilds the backend's __dict__) forgets the tokens too.
    tokens = backend.__dict__.get("_fincert_client_tokens")
    if tokens is None:
        tokens = backend.__dict__["_fincert_client_tokens"] = {}
    return tokens


def _with_client_token(original: Callable[[Any], ActionResult]) -> Callable[[Any], ActionResult]:
    def transact_write_items(self: Any) -> ActionResult:
        token = self.body.get("ClientRequestToken")
        if not token:
            return original(self)
        fingerprint = _request_fingerprint(self.body)
        now = _token_clock()
        with _token_lock:
            tokens = _token_table(self.dynamodb_backend)
            for old in [t for t, (_, at) in tokens.items() if now - at > CLIENT_TOKEN_WINDOW_SECONDS]:
                del tokens[old]
            seen = tokens.get(token)
        if seen is not None:
            if seen[0] != fingerprint:
                raise IdempotentParameterMismatchException()
            return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
        result = original(self)
        with _token_lock:
            _token_table(self.dynamodb_backend)[token] = (fingerprint, _token_clock())
        return result

    return transact_write_items


def _install_client_request_token(patches: _Patches) -> None:
    handler = ddb_responses.DynamoHandler
    patches.set(handler, "transact_write_items", _with_client_token(handler.transact_write_items))


# --- the set ----------------------------------------------------------------------------------

CORRECTIONS: dict[str, Correction] = {
    c.name: c
    for c in (
        Correction("kms_digest", "KMS Sign/Verify honour MessageType=DIGEST", _install_kms_digest),
        Correction(
            "transaction_undo_log",
            "transact_write_items rolls back from an undo log, no table copies",
            _install_transaction_undo_log,
        ),
        Correction(
            "untracked_items", "DynamoDB Items are not kept by instance tracking", _install_untracked_items
        ),
        Correction(
            "client_request_token",
            "transact_write_items honours ClientRequestToken",
            _install_client_request_token,
        ),
    )
}

# sha256 of moto's source of what a correction replaces or wraps; a change means the patch no
# longer describes that code.
_SOURCES = {
    "transaction_undo_log": (ddb_models.DynamoDBBackend, "transact_write_items"),
    "client_request_token": (ddb_responses.DynamoHandler, "transact_write_items"),
    "kms_digest": (kms_responses.KmsResponse, "sign"),
}
_SOURCE_SHA256 = {
    "transaction_undo_log": "81db2cb7d94e39c90b3a2077e1f4bb41a449c558ef9b1b1e2910fdaa39978ad4",
    "client_request_token": "61c163fff213f33a39317a17fda194a9c1e800992421575d2080f4500bf45372",
    "kms_digest": "e56219d6817b1c758bcd2316e4f826a97662b1b6f3368badd7b710f0e7ece82f",
}


def source_fingerprint(name: str) -> str:
    owner, attribute = _SOURCES[name]
    return hashlib.sha256(inspect.getsource(owner.__dict__[attribute]).encode()).hexdigest()


def _check_source(name: str) -> None:
    if name in _SOURCES and source_fingerprint(name) != _SOURCE_SHA256[name]:
        owner, attribute = _SOURCES[name]
        raise MotoVersionError(
            f"moto {moto.__version__}'s {owner.__name__}.{attribute} is not the code the {name} "
            "correction was written for"
        )


def apply_all(names: list[str] | None = None) -> None:
    """Applies the corrections (all by default); applying one already applied does nothing."""
    check_moto_version()
    with _lock:
        for name in names or list(CORRECTIONS):
            if name in _applied:
                continue
            _check_source(name)
            patches = _Patches()
            try:
                CORRECTIONS[name].install(patches)
            except BaseException:
                patches.undo()
                raise
            _applied[name] = patches


def remove(name: str) -> None:
    with _lock:
        patches = _applied.pop(name, None)
        if patches is not None:
            patches.undo()


def remove_all() -> None:
    with _lock:
        for name in reversed(list(_applied)):
            remove(name)


def applied() -> list[str]:
    with _lock:
        return list(_applied)


@contextlib.contextmanager
def without(*names: str) -> Iterator[None]:
    """moto without these corrections for the block (they come back after, if they were applied):
    how a test shows the gap each one closes."""
    with _lock:
        were = [name for name in names if name in _applied]
        for name in were:
            remove(name)
    try:
        yield
    finally:
        apply_all(were) if were else None


@contextlib.contextmanager
def only(*names: str) -> Iterator[None]:
    """Exactly these corrections for the block, then the set as it was."""
    with _lock:
        before = applied()
    remove_all()
    apply_all(list(names)) if names else None
    try:
        yield
    finally:
        remove_all()
        if before:
            apply_all(before)


# --- TTL ----------------------------------------------------------------------------------------


def _dynamodb_backends() -> list[Any]:
    # dict's own views: BackendDict would create a backend for every region it is asked about.
    return [
        backend for account in dict.values(ddb_models.dynamodb_backends) for backend in dict.values(account)
    ]


def expired_keys(table: Table, now: float) -> list[tuple[DynamoType, DynamoType | None]]:
    """Keys of the items whose TTL attribute (a Number, epoch seconds) is before `now`."""
    if table.ttl.get("TimeToLiveStatus") != "ENABLED" or not table.ttl.get("AttributeName"):
        return []
    attribute = table.ttl["AttributeName"]
    buckets = list(table.items.values())
    items = [i for b in buckets for i in (list(b.values()) if isinstance(b, dict) else [b])]
    keys = []
    for item in items:
        value = item.attrs.get(attribute)
        if value is None or value.type != "N":
            continue  # DynamoDB ignores items without the attribute or with a non-Number one
        try:
            if float(value.value) < now:
                keys.append((item.hash_key, item.range_key))
        except ValueError:
            continue
    return keys


class TtlSweeper:
    """Deletes expired items, as DynamoDB's TTL does (eventually; DynamoDB says within days, this
    within `interval` seconds). `lock` is the lock DynamoDB requests are served under, so a sweep
    never interleaves with a request (stack.py's _SerializeDynamoDB)."""

    MIN_INTERVAL, MAX_INTERVAL = 0.5, 300.0

    def __init__(
        self,
        lock: Any = None,
        interval: float = 10.0,
        clock: Callable[[], float] = time.time,
    ):
        self.lock = lock if lock is not None else contextlib.nullcontext()
        self.interval = min(max(interval, self.MIN_INTERVAL), self.MAX_INTERVAL)
        self.clock = clock
        self.deleted = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep_once(self) -> int:
        deleted = 0
        for backend in _dynamodb_backends():
            for table in list(backend.tables.values()):
                with self.lock:
                    for hash_key, range_key in expired_keys(table, self.clock()):
                        if table.delete_item(hash_key, range_key) is not None:
                            deleted += 1
        self.deleted += deleted
        return deleted

    def start(self) -> TtlSweeper:
        self._thread = threading.Thread(target=self._run, name="moto-ttl-sweeper", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sweep_once()
            except Exception:  # a table dropped mid-sweep: say so, the next sweep retries
                _log.exception("TTL sweep failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
