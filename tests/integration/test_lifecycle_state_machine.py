"""The customer lifecycle under random sequences of operations (issue 11, item 9): a Hypothesis
state machine drives one person through the bank API in process (the local gateway, the real
handlers, moto) at two banks: issue and reissue, connect, register at the other bank, authorize
with the right or a wrong PIN, sign with the SAD, change and reset the PIN, add and remove
devices, suspend, restore and revoke, and the renewal and idle-purge jobs with the clock moved.

After every step the service must agree with a model a few lines long: at most one active
certificate per person, the PIN counter exact, a lock reported only when 5 wrong PINs were
judged and then kept, nothing signed while suspended, revoked or purged, OCSP and
GET /v1/certificate telling the model's status, the history each bank lists being exactly the
model's events at that bank (kinds, order, institution), and at most 5 devices.

Examples: LIFECYCLE_EXAMPLES (default 300) sequences of up to LIFECYCLE_STEPS (default 15) steps,
the same every run; LIFECYCLE_RANDOM=1 draws new ones, LIFECYCLE_NO_SHRINK=1 skips shrinking (the
README's testing part has a longer hunt). Keys are P-256 (microseconds to make), and each example
starts from the same table: what it wrote is deleted after it."""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import pytest
from cryptography import x509
from cryptography.x509 import ocsp
from fincert.adapters.dynamodb import keys
from fincert.clock import FixedClock
from fincert.domain.pin import MAX_PIN_FAILURES
from fincert.settings import get_settings
from fincert.wiring import Services, services, use_services
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.support import log_safety
from tests.support.device_keys import new_device_key, spki_b64
from tests.support.in_process import Api
from tests.support.jobs import run
from tests.support.ocsp import ocsp_request
from tests.support.people import e164, random_phone
from tests.support.table import Table, is_account, is_credential, plain

EXAMPLES = int(os.environ.get("LIFECYCLE_EXAMPLES", "300"))
STEPS = int(os.environ.get("LIFECYCLE_STEPS", "15"))

BANKS = ("demo-bank", "other-bank")
# PINs no rule refuses for the person below (birth date 1988-04-17; the phone is drawn so that
# none of them is in it).
PINS = ("135790", "802468", "319753", "864201")
WRONG_PIN = "246813"
BIRTH_DATE = "19880417"
RENEW_BEFORE_END = timedelta(days=10)  # inside the renewal window (30 KST days before notAfter)
SUBSCRIBER_LIFETIME = timedelta(days=3 * 366 + 1)
ECDSA_SHA256 = "1.2.840.10045.4.3.2"
log_safety.remember_secret(*PINS, WRONG_PIN)


@dataclass
class Cert:
    credential_id: str
    serial: int
    leaf: x509.Certificate
    auto_renew: bool
    status: str = "valid"  # valid, suspended, revoked
    reason: str | None = None  # the RFC 5280 reason of a revocation
    confirmed_revoked: bool = False  # OCSP said so with this reason (revocation is final)


@dataclass
class Model:
    """What the customer and their banks should see."""

    account: bool = False
    certs: list[Cert] = field(default_factory=list)
    pin: str = ""
    failures: int = 0
    registered: set[str] = field(default_factory=set)
    sessions: dict[str, str] = field(default_factory=dict)  # bank -> session token
    sad: tuple[str, str, str] | None = None  # (bank, SAD, credential id)
    devices: list[str] = field(default_factory=list)
    history: list[tuple[str, str]] = field(default_factory=list)  # (event, institution), oldest first
    # The clock-moving steps, each capped per sequence: always enabled, they would otherwise fill
    # the sequences (and end every session), and a purge costs two job runs.
    renewals: int = 0
    purges: int = 0
    days_passed: int = 0
    account_id: str = ""
    issuer: str = ""  # the bank the active certificate was issued through (renewal keeps it)

    @property
    def active(self) -> Cert | None:
        return next((c for c in self.certs if c.status != "revoked"), None)

    @property
    def locked(self) -> bool:
        return self.failures >= MAX_PIN_FAILURES

    def happened(self, event: str, bank: str) -> None:
        self.history.append((event, bank))

    def revoke(self, cert: Cert, reason: str) -> None:
        cert.status, cert.reason = "revoked", reason


def code_of(response) -> str:
    if response.status < 400:
        return ""
    error = response.json().get("error")
    return error.get("code", "") if isinstance(error, dict) else error


class Lifecycle(RuleBasedStateMachine):
    def __init__(self, env: Environment):
        super().__init__()
        self.env = env
        self.clock = env.clock
        self.clock.at = env.start
        self.model = Model()
        phone = random_phone()
        while any(pin in phone for pin in PINS):
            phone = random_phone()
        self.identity = {"name": "박지훈", "phone": phone, "birth_date": BIRTH_DATE}
        self.phone = e164(phone)
        log_safety.remember_secret(phone, self.phone)

    def teardown(self) -> None:
        try:
            self.check_ocsp(every_certificate=True)
        finally:
            self.env.forget_what_was_written()

    # --- helpers ---------------------------------------------------------------------------------
    def bank(self, bank: str) -> Api:
        return self.env.banks[bank]

    def customer(self, bank: str, method: str, path: str, body=None):
        return self.bank(bank).request(method, path, body, api_key=self.model.sessions[bank])

    def connected_at(self, bank: str) -> None:
        """A customer step at a bank where the customer has no session (none yet, or it ended
        as days passed) starts, as the customer would, by connecting there (the `connect` rule,
        checks and history included). Drawing such steps only once a session exists left them
        rare: most sequences never reached a PIN or a signature."""
        if bank not in self.model.sessions:
            self.connect(bank)

    def tick(self) -> None:
        # One second per step: history lines sort by time, so the order is the order of steps.
        self.clock.at += timedelta(seconds=1)

    def may_move_clock_to(self, to: datetime) -> bool:
        """Whether a certificate issued then would end before the issuing CA does (later, an
        issuance needs the CA rolled over: x509_profile refuses), and the TSA's certificate is
        still valid then (it has no renewal yet, docs/deploy.md: past its 5 years every FinCert
        signature is answered 503). Neither rollover is this test's topic."""
        return (
            to + SUBSCRIBER_LIFETIME < self.env.issuing_certificate.not_valid_after_utc
            and to < self.env.tsa_not_after
        )

    def move_clock(self, to: datetime) -> None:
        """Days pass: sessions (15 minutes) and SADs (5 minutes) end."""
        self.clock.at = to
        self.model.sessions.clear()
        self.model.sad = None
        self.env.services.ensure_ocsp_responder()  # the operator's schedule renews it

    def verified(self, bank: str, start: str, confirm: str, body: dict) -> object:
        """An institution's re-verification of the customer: identity, then the SMS code."""
        started = self.bank(bank).post(start, self.identity)
        assert started.status == 201, started.body
        code = self.bank(bank).last_sms_code(self.phone)
        verification = started.json()["verification_id"]
        return self.bank(bank).post(confirm.format(verification), {"sms_code": code} | body)

    def pin_attempt(self, bank: str, response, right: bool, success: int) -> bool:
        """The outcome of a PIN attempt the service was asked to judge (its other refusals
        checked by the caller): True when the PIN was accepted."""
        m = self.model
        if m.locked:
            assert (response.status, code_of(response)) == (403, "pin_locked"), response.body
            return False
        if not right:
            m.failures += 1
            m.happened("authorization_failed", bank)
            expected = (403, "pin_locked") if m.locked else (400, "pin_invalid")
            assert (response.status, code_of(response)) == expected, response.body
            return False
        assert response.status == success, response.body
        m.failures = 0
        return True

    # --- issuance --------------------------------------------------------------------------------
    @initialize(bank=st.sampled_from(BANKS), auto_renew=st.booleans(), pin=st.sampled_from(PINS))
    def first_issue(self, bank, auto_renew, pin):
        self.issue(bank, auto_renew, pin)

    @rule(bank=st.sampled_from(BANKS), auto_renew=st.booleans(), pin=st.sampled_from(PINS))
    def issue(self, bank, auto_renew, pin):
        self.tick()
        api = self.bank(bank)
        body = self.identity | {"terms_accepted": True, "auto_renew": auto_renew, "key_algorithm": "EC_P256"}
        started = api.post("/v1/enrollments", body)
        assert started.status == 201, started.body
        code = api.last_sms_code(self.phone)
        confirmed = api.post(
            f"/v1/enrollments/{started.json()['enrollment_id']}/confirm", {"sms_code": code, "pin": pin}
        )
        assert confirmed.status == 201, confirmed.body
        issued = confirmed.json()
        leaf = x509.load_pem_x509_certificate(issued["certificate_pem"].encode())
        m = self.model
        if not m.account:  # the first issuance, or the first after a purge: a new account
            m.account, m.registered, m.devices, m.history, m.sessions = True, set(), [], [], {}
            m.account_id = self.env.table.account_of(issued["credential_id"])
        superseded = m.active
        if superseded is not None:
            m.revoke(superseded, "superseded")
        m.certs.insert(0, Cert(issued["credential_id"], leaf.serial_number, leaf, auto_renew))
        m.pin, m.failures, m.issuer = pin, 0, bank
        m.registered.add(bank)
        m.happened("issued", bank)
        if superseded is not None:  # the reissue's revocation is an audit line of its own, after it
            m.happened("status_changed", bank)

    # --- connection and registration -------------------------------------------------------------
    @precondition(lambda self: self.model.account)
    @rule(bank=st.sampled_from(BANKS))
    def connect(self, bank):
        self.tick()
        response = self.verified(bank, "/v1/connections", "/v1/connections/{}/confirm", {})
        assert response.status == 201, response.body
        session = response.json()
        log_safety.remember_secret(session["session_token"])
        assert session["institution_registered"] is (bank in self.model.registered)
        self.model.sessions[bank] = session["session_token"]
        self.model.happened("connected", bank)

    @precondition(lambda self: self.model.account)
    @rule(bank=st.sampled_from(BANKS), right=st.booleans())
    def register_here(self, bank, right):
        self.connected_at(bank)
        self.tick()
        m = self.model
        response = self.customer(bank, "POST", "/v1/registrations", {"pin": m.pin if right else WRONG_PIN})
        if right and not m.locked and m.active is None:
            # The right PIN, but no certificate to register: refused, and not a failure.
            assert (response.status, code_of(response)) == (404, "certificate_not_found"), response.body
            return
        if self.pin_attempt(bank, response, right, 204):
            m.registered.add(bank)
            m.happened("institution_registered", bank)

    # --- PIN use: authorize, then sign -------------------------------------------------------------
    @precondition(lambda self: self.model.account and self.model.certs)
    @rule(bank=st.sampled_from(BANKS), right=st.booleans(), sign_at_once=st.booleans())
    def authorize(self, bank, right, sign_at_once):
        """`sign_at_once`: the signHash step right after, as a CSC client does (the `sign` rule
        alone, drawn later, was rare: 13 of 2350 steps)."""
        self.connected_at(bank)
        self.tick()
        m = self.model
        credential_id = m.certs[0].credential_id  # the latest, active or not
        body = {"credentialID": credential_id, "numSignatures": 1, "PIN": m.pin if right else WRONG_PIN}
        response = self.customer(bank, "POST", "/csc/v1/credentials/authorize", body)
        active = m.active
        if active is None or active.credential_id != credential_id:
            assert (response.status, code_of(response)) == (404, "credential_not_found"), response.body
        elif bank not in m.registered:
            assert (response.status, code_of(response)) == (403, "institution_not_registered"), response.body
        elif active.status == "suspended":
            assert (response.status, code_of(response)) == (403, "credential_not_active"), response.body
        elif self.pin_attempt(bank, response, right, 200):
            sad = response.json()["SAD"]
            log_safety.remember_secret(sad)
            m.sad = (bank, sad, credential_id)
            m.happened("authorized", bank)
            if sign_at_once:
                self.sign()

    @precondition(lambda self: self.model.sad is not None)
    @rule()
    def sign(self):
        m = self.model
        bank, sad, credential_id = m.sad
        self.tick()
        digest = base64.b64encode(hashlib.sha256(sad.encode()).digest()).decode()
        body = {"credentialID": credential_id, "SAD": sad, "hash": [digest], "signAlgo": ECDSA_SHA256}
        response = self.customer(bank, "POST", "/csc/v1/signatures/signHash", body)
        m.sad = None  # single use, whatever happened
        active = m.active
        if active is not None and active.credential_id == credential_id and active.status == "valid":
            assert response.status == 200, response.body
            m.happened("signed", bank)
        else:
            assert 400 <= response.status < 500, response.body
            assert "signatures" not in response.json(), "nothing signs while suspended or revoked"

    @precondition(lambda self: self.model.account)
    @rule(bank=st.sampled_from(BANKS), right=st.booleans())
    def sign_with_pin(self, bank, right):
        """FinCert's sign call: one PIN entry, the signature released with it."""
        self.connected_at(bank)
        self.tick()
        m = self.model
        body = {
            "contents": [{"text": "이체 10,000원"}],
            "sign_type": "transfer",
            "formats": ["raw"],
            "pin": m.pin if right else WRONG_PIN,
        }
        response = self.customer(bank, "POST", "/v1/signatures", body)
        active = m.active
        if bank not in m.registered:
            assert (response.status, code_of(response)) == (403, "institution_not_registered"), response.body
        elif active is None:
            assert (response.status, code_of(response)) == (404, "certificate_not_found"), response.body
        elif active.status == "suspended":
            assert (response.status, code_of(response)) == (403, "credential_not_active"), response.body
        elif self.pin_attempt(bank, response, right, 201):
            assert response.json()["contents"][0]["signatures"], "signed"
            m.happened("signed", bank)
        if response.status != 201:
            assert "contents" not in response.json(), "nothing signed"

    # --- PIN change and reset ----------------------------------------------------------------------
    @precondition(lambda self: self.model.account)
    @rule(bank=st.sampled_from(BANKS), right=st.booleans(), new_pin=st.sampled_from(PINS))
    def change_pin(self, bank, right, new_pin):
        self.connected_at(bank)
        self.tick()
        m = self.model
        body = {"pin": m.pin if right else WRONG_PIN, "new_pin": new_pin}
        response = self.customer(bank, "PUT", "/v1/pin", body)
        if bank not in m.registered:
            assert (response.status, code_of(response)) == (403, "institution_not_registered"), response.body
        elif self.pin_attempt(bank, response, right, 204):
            m.pin = new_pin
            m.happened("pin_changed", bank)

    @precondition(lambda self: self.model.account)
    @rule(bank=st.sampled_from(BANKS), new_pin=st.sampled_from(PINS))
    def reset_pin(self, bank, new_pin):
        self.tick()
        m = self.model
        response = self.verified(bank, "/v1/pin-resets", "/v1/pin-resets/{}/confirm", {"new_pin": new_pin})
        if bank not in m.registered:
            assert (response.status, code_of(response)) == (404, "certificate_not_found"), response.body
            return
        assert response.status == 204, response.body
        m.pin, m.failures = new_pin, 0
        m.happened("pin_reset", bank)

    # --- devices -----------------------------------------------------------------------------------
    @precondition(lambda self: self.model.account)
    @rule(bank=st.sampled_from(BANKS))
    def add_device(self, bank):
        self.connected_at(bank)
        self.tick()
        m = self.model
        body = {"name": "PC", "public_key": spki_b64(new_device_key())}
        response = self.customer(bank, "POST", "/v1/devices", body)
        if bank not in m.registered:
            assert (response.status, code_of(response)) == (403, "institution_not_registered"), response.body
        elif len(m.devices) >= 5:
            assert (response.status, code_of(response)) == (409, "device_limit_reached"), response.body
        else:
            assert response.status == 201, response.body
            m.devices.append(response.json()["device_id"])
            m.happened("device_registered", bank)

    @precondition(lambda self: self.model.account and self.model.devices)
    @rule(bank=st.sampled_from(BANKS), data=st.data())
    def remove_device(self, bank, data):
        device = data.draw(st.sampled_from(self.model.devices))
        self.connected_at(bank)
        self.tick()
        m = self.model
        response = self.customer(bank, "DELETE", f"/v1/devices/{device}")
        if bank not in m.registered:
            assert (response.status, code_of(response)) == (403, "institution_not_registered"), response.body
        else:
            assert response.status == 204, response.body
            m.devices.remove(device)
            m.happened("device_removed", bank)

    # --- status changes ----------------------------------------------------------------------------
    @precondition(lambda self: self.model.account)
    @rule(bank=st.sampled_from(BANKS), action=st.sampled_from(["suspend", "revoke"]), right=st.booleans())
    def change_status_with_pin(self, bank, action, right):
        self.connected_at(bank)
        self.tick()
        m = self.model
        body = {"action": action, "pin": m.pin if right else WRONG_PIN}
        response = self.customer(bank, "POST", "/v1/certificate/status", body)
        active = m.active
        if bank not in m.registered:
            assert (response.status, code_of(response)) == (403, "institution_not_registered"), response.body
        elif active is None:
            assert (response.status, code_of(response)) == (404, "certificate_not_found"), response.body
        elif action == "suspend" and active.status == "suspended":
            assert (response.status, code_of(response)) == (409, "credential_not_active"), response.body
        elif self.pin_attempt(bank, response, right, 200):
            if action == "suspend":
                active.status = "suspended"
            else:
                m.revoke(active, "unspecified")
            m.happened("status_changed", bank)

    @precondition(lambda self: self.model.account)
    @rule(bank=st.sampled_from(BANKS))
    def restore(self, bank):
        self.tick()
        m = self.model
        response = self.verified(
            bank, "/v1/status-changes", "/v1/status-changes/{}/confirm", {"action": "restore"}
        )
        active = m.active
        if bank not in m.registered:
            assert response.status in (403, 404), response.body
        elif active is None:
            assert (response.status, code_of(response)) == (404, "certificate_not_found"), response.body
        elif active.status != "suspended":
            assert (response.status, code_of(response)) == (409, "credential_not_suspended"), response.body
        else:
            assert response.status == 200, response.body
            active.status = "valid"
            m.happened("status_changed", bank)

    # --- the daily jobs, with the clock moved -----------------------------------------------------
    @precondition(
        lambda self: (
            self.model.active is not None
            and self.model.renewals < 2
            and self.clock.at < self.model.active.leaf.not_valid_after_utc - RENEW_BEFORE_END
            and self.may_move_clock_to(self.model.active.leaf.not_valid_after_utc)
        )
    )
    @rule()
    def renewal_run(self):
        m = self.model
        active = m.active
        self.move_clock(active.leaf.not_valid_after_utc - RENEW_BEFORE_END)
        m.renewals += 1
        result = run(self.env.gateway, "renewal")
        assert result["failed"] == [], result
        if not (active.auto_renew and active.status == "valid"):
            return
        # A new certificate of the same account, same PIN; the old one superseded. Both are audit
        # lines at the issuing bank (the issuance, then the revocation it makes).
        m.revoke(active, "superseded")
        credential = self.env.table.active_credential(m.account_id)
        assert credential is not None
        leaf = x509.load_der_x509_certificate(bytes(credential["certificate"]))
        m.certs.insert(0, Cert(credential["credential_id"], leaf.serial_number, leaf, True))
        m.happened("issued", m.issuer)
        m.happened("status_changed", m.issuer)

    @precondition(
        lambda self: (
            self.model.account
            and self.model.purges < 1
            and (
                self.model.active is None
                or self.clock.at + timedelta(days=400) < self.model.active.leaf.not_valid_after_utc
            )
            and self.may_move_clock_to(self.clock.at + timedelta(days=400))
        )
    )
    @rule()
    def idle_for_a_year(self):
        m = self.model
        account_id = m.account_id
        m.purges += 1
        self.move_clock(self.clock.at + timedelta(days=366))
        assert run(self.env.gateway, "purge")["failed"] == []  # the warning
        self.move_clock(self.clock.at + timedelta(days=31))
        assert run(self.env.gateway, "purge")["failed"] == []  # the purge
        assert self.env.table.account(account_id) is None, "idle for a year: purged"
        for cert in m.certs:
            if cert.status != "revoked":
                m.revoke(cert, "cessationOfOperation")
        m.account, m.registered, m.devices, m.history, m.sad = False, set(), [], [], None

    @precondition(
        lambda self: (
            self.model.days_passed < 3
            and self.may_move_clock_to(self.clock.at + timedelta(days=5))
            # Expiry is not modelled: the days pass only while the active certificate stays valid.
            and (
                self.model.active is None
                or self.clock.at + timedelta(days=5) < self.model.active.leaf.not_valid_after_utc
            )
        )
    )
    @rule(days=st.integers(min_value=1, max_value=5))
    def days_pass(self, days):
        self.model.days_passed += 1
        self.move_clock(self.clock.at + timedelta(days=days))

    # --- what must hold after every step ----------------------------------------------------------
    @invariant()
    def one_active_certificate_and_the_pin_counter_exact(self):
        m = self.model
        if not m.certs:
            return
        # One read of the account's partition: the account item and its credentials.
        stored = self.env.table.partition(m.account_id)
        live = [c for c in stored if is_credential(c) and c["status"] != "revoked"]
        assert len(live) <= 1, "at most one active certificate per person"
        active = m.active
        assert [c["credential_id"] for c in live] == ([active.credential_id] if active else [])
        account = next((i for i in stored if is_account(i)), None)
        assert (account is not None) is m.account
        if account is not None:
            failures = int(account.get("pin_attempts", 0)) - int(account.get("pin_cleared", 0))
            assert failures == m.failures, "the PIN counter is exact"
            assert int(account.get("device_count", 0)) == len(m.devices) <= 5

    @invariant()
    def ocsp_tells_the_model_s_status(self):
        self.check_ocsp(every_certificate=False)

    def check_ocsp(self, every_certificate: bool) -> None:
        """Revocation is final: a revoked certificate is asked about until OCSP said so once,
        then again only at the end of the example (each query costs moto time)."""
        for cert in self.model.certs:
            if self.clock.at > cert.leaf.not_valid_after_utc:
                continue  # expired: what OCSP keeps saying then is the retention rules' topic
            if cert.confirmed_revoked and not every_certificate:
                continue
            der = ocsp_request(cert.leaf, self.env.issuing_certificate)
            response = self.env.anonymous.request(
                "POST", "/pki/ocsp", body=der, headers={"Content-Type": "application/ocsp-request"}
            )
            assert response.status == 200, response.body
            answer = ocsp.load_der_ocsp_response(response.body)
            told = (answer.certificate_status, answer.revocation_reason)
            if cert.status == "valid":
                assert told == (ocsp.OCSPCertStatus.GOOD, None), (cert, told)
            else:
                reason = "certificateHold" if cert.status == "suspended" else cert.reason
                # RFC 5280 5.3.1: unspecified is sent as no reason code at all.
                expected = None if reason == "unspecified" else REASONS[reason]
                assert told == (ocsp.OCSPCertStatus.REVOKED, expected), (cert, told)
                cert.confirmed_revoked = cert.status == "revoked"

    @invariant()
    def each_bank_sees_the_certificate_and_its_own_history(self):
        m = self.model
        for bank in sorted(m.sessions):
            response = self.customer(bank, "GET", "/v1/certificate")
            active = m.active
            if bank not in m.registered:
                assert response.status == 403, response.body
                continue
            if active is None:
                assert (response.status, code_of(response)) == (404, "certificate_not_found"), response.body
            else:
                assert response.status == 200, response.body
                shown = response.json()
                assert (shown["credential_id"], shown["status"]) == (active.credential_id, active.status)
            listed = self.customer(bank, "GET", "/v1/history?limit=100")
            assert listed.status == 200, listed.body
            entries = listed.json()["entries"]
            seen = [(e["event"], e["institution_id"]) for e in reversed(entries)]
            assert seen == [h for h in m.history if h[1] == bank], "the bank's history is what happened there"


REASONS = {
    "superseded": x509.ReasonFlags.superseded,
    "cessationOfOperation": x509.ReasonFlags.cessation_of_operation,
    "certificateHold": x509.ReasonFlags.certificate_hold,
}


class Environment:
    """What every example shares: the services on a fixed clock, the banks' API clients, the table
    as it was before the first example (what an example adds is deleted after it)."""

    def __init__(self, gateway, banks: dict[str, Api], ca, clock: FixedClock):
        self.gateway = gateway
        self.banks = banks
        self.anonymous = Api(gateway)
        self.issuing_certificate = ca.issuing_certificate
        self.clock = clock
        self.services = services()
        self.tsa_not_after = self.services.ensure_timestamp_authority()[0].not_after
        # Every sequence starts at 10:00 KST the day after the CA, the OCSP responder and the
        # TSA were made (at the real time of the run: nothing is valid before it), far from a
        # KST midnight.
        self.start = (clock.at + timedelta(days=1)).replace(hour=1, minute=0, second=0, microsecond=0)
        self.table = _Table(Table.in_process(self.services))
        self.baseline = self.table.keys()

    def forget_what_was_written(self) -> None:
        self.table.delete_except(self.baseline)


class _Table:
    """The stored items this test reads (tests.support.table underneath): one partition at a
    time, as the service's keys (fincert.adapters.dynamodb.keys) lay them out."""

    def __init__(self, table: Table):
        self._table = table

    def _scan(self, **request) -> list[dict]:
        # Projected and filtered: moto's cost is in serialising what it returns.
        pages = self._table.client.get_paginator("scan").paginate(TableName=self._table.name, **request)
        return [plain(i) for page in pages for i in page["Items"]]

    def keys(self) -> set[tuple[str, str]]:
        return {(i["pk"], i["sk"]) for i in self._scan(ProjectionExpression="pk, sk")}

    def delete_except(self, keep: set[tuple[str, str]]) -> None:
        client, name = self._table.client, self._table.name
        gone = [k for k in self.keys() if k not in keep]
        for start in range(0, len(gone), 25):  # BatchWriteItem's limit
            requests = [
                {"DeleteRequest": {"Key": {"pk": {"S": pk}, "sk": {"S": sk}}}}
                for pk, sk in gone[start : start + 25]
            ]
            client.batch_write_item(RequestItems={name: requests})

    def account_of(self, credential_id: str) -> str:
        (found,) = self._scan(
            ProjectionExpression="pk",
            FilterExpression="credential_id = :c AND begins_with(sk, :cred)",
            ExpressionAttributeValues={":c": {"S": credential_id}, ":cred": {"S": "CRED#"}},
        )
        return keys.account_id_of(found["pk"])

    def account(self, account_id: str) -> dict | None:
        return self._table.account(account_id)

    def partition(self, account_id: str) -> list[dict]:
        """Every item under the account's key: the account item, its credentials, devices ..."""
        pages = self._table.client.get_paginator("query").paginate(
            TableName=self._table.name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.account_pk(account_id)}},
            ConsistentRead=True,
        )
        return [plain(i) for page in pages for i in page["Items"]]

    def active_credential(self, account_id: str) -> dict | None:
        account = self.account(account_id)
        if account is None or "active_credential_id" not in account:
            return None
        return self._table.get(keys.credential(account_id, account["active_credential_id"]))


@pytest.fixture
def lifecycle(api, other_bank, bank, ca, clock, gateway) -> Environment:
    svc = services()
    # SMS limits are per hour and the clock moves a second a step: one person texted dozens of
    # times an "hour" is this test's doing, not pumping.
    roomy = replace(get_settings(), sms_per_phone_per_hour=10_000)
    use_services(Services(roomy, clients=svc.clients, clock=clock))
    services().ensure_ocsp_responder()
    banks = {"demo-bank": Api(gateway, bank["api_key"]), "other-bank": Api(gateway, other_bank["api_key"])}
    return Environment(gateway, banks, ca, clock)


@pytest.mark.runs_first
def test_the_customer_lifecycle_keeps_its_invariants_whatever_the_order(lifecycle):
    run_state_machine_as_test(
        lambda: Lifecycle(lifecycle),
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            # The same sequences every run, unless a hunt asks for new ones.
            derandomize=not os.environ.get("LIFECYCLE_RANDOM"),
            database=None,
            suppress_health_check=list(HealthCheck),
            print_blob=True,
            # LIFECYCLE_NO_SHRINK=1: report the first failing sequence as found (shrinking one
            # costs minutes here).
            phases=[Phase.explicit, Phase.reuse, Phase.generate]
            if os.environ.get("LIFECYCLE_NO_SHRINK")
            else list(Phase),
        ),
    )
