"""Registered devices (at most 5 per customer): a connected customer registers a device's P-256
public key; later the device connects by signing a fresh, single-use challenge with ECDSA-SHA256,
without name, phone or birth date. Apart from accounts so that only these routes import the
signature code."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from fincert.domain.access import open_session, require_institution
from fincert.domain.accounts import AccountService, Connected
from fincert.domain.device_records import Device, DeviceChallenge
from fincert.domain.history_records import HistoryEvent, history
from fincert.domain.institution_records import Principal, Scope
from fincert.domain.institutions import require_scope
from fincert.domain.stores import AccountReads, Devices, History
from fincert.domain.tokens import new_id
from fincert.errors import ConditionFailed, Conflict, Gone, InvalidRequest, NotFound
from fincert.ports import Clock
from fincert.settings import Settings


class DeviceStorage(Devices, AccountReads, History, Protocol):
    """The storage roles this use case needs (fincert.domain.stores)."""


MAX_DEVICES = 5
DEVICE_CHALLENGE_LIFETIME = timedelta(minutes=2)
DEVICE_PREFIX = "fcd"


@dataclass(frozen=True)
class DeviceChallengeIssued:
    challenge: DeviceChallenge
    handle: str  # what the confirm call names: the account and the challenge


def device_handle(account_id: str, device_id: str) -> str:
    """Not a secret: it says which device claims to connect; the device's signature proves it."""
    return f"{DEVICE_PREFIX}.{account_id}.{device_id}"


def _split_handle(handle: str, prefix: str, kind: str) -> tuple[str, str]:
    parts = handle.split(".")
    if len(parts) != 3 or parts[0] != prefix or not parts[1].startswith("acct_"):
        raise NotFound(f"no such {kind}", code=f"{kind}_not_found")
    return parts[1], parts[2]


_P256_BYTES = 32


class DeviceService:
    def __init__(self, *, store: DeviceStorage, clock: Clock, settings: Settings, accounts: AccountService):
        self._store = store
        self._clock = clock
        self._settings = settings
        self._accounts = accounts

    def register_device(self, principal: Principal, name: str, public_key_der: bytes) -> tuple[Device, str]:
        account = self._accounts.registered_account(principal)
        account_id = account.account_id
        key = _load_device_key(public_key_der)
        now = self._clock.now()
        device = Device(
            device_id=new_id("dev"),
            account_id=account_id,
            name=name,
            public_key_der=public_key_der,
            created_at=now,
            key_fingerprint=device_key_fingerprint(key),
        )
        try:
            self._store.add_device(
                device,
                MAX_DEVICES,
                history(
                    HistoryEvent.DEVICE_REGISTERED,
                    now,
                    principal.institution_id,
                    certificate_not_after=account.certificate_not_after,
                ),
            )
        except ConditionFailed as e:
            # Checked first: at the cap, "already registered" is what the customer needs to know.
            if "device_key" in e.reasons:
                raise Conflict(
                    "this device's key is already registered; remove that device first",
                    code="device_already_registered",
                ) from None
            if "account" in e.reasons:
                raise Conflict(
                    f"at most {MAX_DEVICES} devices; remove one first", code="device_limit_reached"
                ) from None
            raise
        self._accounts.notify_account(
            account_id,
            f"[fincert] 금융인증서 클라우드에 새 기기({name})가 등록되었습니다. 본인이 아니면 은행에 알려주세요.",
        )
        return device, device_handle(account_id, device.device_id)

    def list_devices(self, principal: Principal) -> list[Device]:
        return self._store.list_devices(self._accounts.require_registered(principal))

    def remove_device(self, principal: Principal, device_id: str) -> None:
        account = self._accounts.registered_account(principal)
        now = self._clock.now()
        entry = history(
            HistoryEvent.DEVICE_REMOVED,
            now,
            principal.institution_id,
            certificate_not_after=account.certificate_not_after,
        )
        try:
            self._store.remove_device(account.account_id, device_id, entry)
        except ConditionFailed:
            raise NotFound("no such device", code="device_not_found") from None

    def start_device_connection(self, principal: Principal, handle: str) -> DeviceChallengeIssued:
        require_institution(principal)
        require_scope(principal, Scope.CONNECT)
        account_id, device_id = _split_handle(handle, DEVICE_PREFIX, "device")
        if self._store.get_device(account_id, device_id) is None:
            raise NotFound("no such device", code="device_not_found")
        challenge = DeviceChallenge(
            challenge_id=new_id("dch"),
            account_id=account_id,
            device_id=device_id,
            institution_id=principal.institution_id,
            nonce=secrets.token_bytes(32),
            expires_at=self._clock.now() + DEVICE_CHALLENGE_LIFETIME,
        )
        try:
            self._store.put_device_challenge(challenge)
        except ConditionFailed:
            raise NotFound("no such device", code="device_not_found") from None
        return DeviceChallengeIssued(challenge, f"dch.{account_id}.{challenge.challenge_id}")

    def confirm_device_connection(self, principal: Principal, handle: str, signature: bytes) -> Connected:
        require_institution(principal)
        require_scope(principal, Scope.CONNECT)
        account_id, challenge_id = _split_handle(handle, "dch", "challenge")
        now = self._clock.now()
        challenge = self._store.get_device_challenge(account_id, challenge_id)
        if challenge is None or challenge.institution_id != principal.institution_id:
            raise NotFound("no such challenge", code="challenge_not_found")
        if challenge.used:
            raise Gone("the challenge was already used", code="challenge_used")
        if challenge.expires_at <= now:
            raise Gone("the challenge expired", code="challenge_expired")
        device = self._store.get_device(account_id, challenge.device_id)
        if device is None:
            raise NotFound("no such device", code="device_not_found")
        try:
            _load_device_key(device.public_key_der).verify(
                der_signature(signature), challenge.message(), ec.ECDSA(hashes.SHA256())
            )
        except InvalidSignature:
            # An authentication failure ends the challenge, in the transaction that audits it
            # (no account read for its certificate's end; the retention then assumes the longest
            # validity): one entry per challenge, so wrong signatures cannot fill the records.
            failure = history(
                HistoryEvent.CONNECTION_FAILED,
                now,
                principal.institution_id,
                via="device",
                reason="device_signature_invalid",
            )
            try:
                self._store.fail_device_challenge(challenge, now, failure)
            except ConditionFailed:
                raise Gone("the challenge was already used or expired", code="challenge_used") from None
            raise InvalidRequest(
                "the device's signature does not verify", code="device_signature_invalid"
            ) from None
        account = self._store.get_account(account_id)
        registered = account is not None and principal.institution_id in account.institutions
        opened = open_session(
            account_id,
            principal.institution_id,
            now,
            timedelta(seconds=self._settings.session_ttl_seconds),
            via="device",
            device_id=device.device_id,
        )
        try:
            self._store.complete_device_connection(
                challenge,
                opened.session,
                now,
                history(
                    HistoryEvent.CONNECTED,
                    now,
                    principal.institution_id,
                    certificate_not_after=account.certificate_not_after if account else None,
                    via="device",
                ),
            )
        except ConditionFailed as e:
            if "challenge" in e.reasons:
                raise Gone("the challenge was already used or expired", code="challenge_used") from None
            raise NotFound("no such device", code="device_not_found") from None
        return Connected(opened, registered)


def der_signature(signature: bytes) -> bytes:
    """An ECDSA P-256 signature as DER. WebCrypto gives r || s, 32 bytes each (IEEE P1363), and a
    browser remembered as a device sends that; everything else sends DER, which for P-256 is 8 to
    72 bytes and only by a 2^-24-ish chance exactly 64: such a signature is read as r || s, fails
    to verify, and the device simply connects again with a fresh challenge."""
    if len(signature) != 2 * _P256_BYTES:
        return signature
    r = int.from_bytes(signature[:_P256_BYTES], "big")
    s = int.from_bytes(signature[_P256_BYTES:], "big")
    return encode_dss_signature(r, s)


def device_key_fingerprint(key: ec.EllipticCurvePublicKey) -> str:
    """SHA-256 of the key's SubjectPublicKeyInfo as cryptography writes it (uncompressed point),
    so the same key sent in another encoding (a compressed point) has the same fingerprint."""
    canonical = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(canonical).hexdigest()


def _load_device_key(public_key_der: bytes) -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_der_public_key(public_key_der)
    except ValueError:
        raise InvalidRequest(
            "public_key must be a DER SubjectPublicKeyInfo", code="device_key_invalid"
        ) from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise InvalidRequest("the device key must be ECDSA P-256", code="device_key_invalid")
    return key
