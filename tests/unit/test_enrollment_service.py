"""EnrollmentService (fincert.domain.enrollment) with the fake KMS and SMS and the DynamoDB store on
moto: what a bank relies on when it enrolls a customer and confirms the issuance, one behaviour per
test."""

from __future__ import annotations

import base64
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from fincert.adapters.dynamodb.store import DynamoStore
from fincert.clock import FixedClock
from fincert.crypto.keys import KeyAlgorithm, private_key_from_der, public_key_der
from fincert.domain.account_records import CredentialStatus
from fincert.domain.ca import CertificateAuthority, bootstrap_certificate_authority
from fincert.domain.enrollment import (
    LEASE,
    MAX_REPLAYS,
    REPLAY_WINDOW,
    EnrollmentRequest,
    EnrollmentService,
    IssuedCertificate,
    subscriber_key_context,
)
from fincert.domain.enrollment_records import EnrollmentStatus
from fincert.domain.institution_records import Principal
from fincert.domain.pin import pin_verifier_message
from fincert.errors import (
    Conflict,
    DecryptionRefused,
    FincertError,
    Forbidden,
    Gone,
    InvalidRequest,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    WeakPin,
)
from fincert.settings import Settings

from tests.fakes.kms import FakeKeyManagement
from tests.fakes.sms import FakeSms

if TYPE_CHECKING:
    from tests.support.unit_store import DynamoTable, RecordingClient, TableReader

ROOT, ISSUING, WRAP, HMAC = "root-ca", "issuing-ca", "key-wrap", "hmac"
PKI_BASE_URL = "http://pki.fincert.example"
POLICY_OID = "1.3.6.1.4.1.32473.1"
CA_CREATED = datetime(2025, 1, 1, tzinfo=UTC)
NOW = datetime(2025, 3, 14, 10, 20, 30, tzinfo=UTC)

BANK = Principal("demo-bank", frozenset({"enroll"}))
OTHER_BANK = Principal("other-bank", frozenset({"enroll"}))
NO_SCOPE = Principal("demo-bank", frozenset())

PHONE = "+821012345678"
BIRTH_DATE = "19850314"
CUSTOMER: dict[str, Any] = {
    "name": "홍길동",
    "phone": "010-1234-5678",
    "birth_date": BIRTH_DATE,
    "terms_accepted": True,
    "auto_renew": True,
    # P-256 keys cost microseconds, RSA-2048 ~0.1 s: RSA only where a test is about it.
    "key_algorithm": KeyAlgorithm.EC_P256,
}
PIN = "135792"
NEW_PIN = "864208"


# --- wiring ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def key_material() -> FakeKeyManagement:
    kms = FakeKeyManagement()
    kms.create_key(ROOT, "RSA_2048")
    kms.create_key(ISSUING, "RSA_2048")
    kms.create_key(WRAP, "SYMMETRIC_DEFAULT")
    kms.create_key(HMAC, "HMAC_256")
    return kms


@pytest.fixture(scope="module")
def ca(key_material: FakeKeyManagement, dynamodb_table: DynamoTable) -> CertificateAuthority:
    # Built once; each test's (emptied) table gets its record again (the `world` fixture).
    return bootstrap_certificate_authority(
        DynamoStore(lambda: dynamodb_table.client, dynamodb_table.name),
        key_material,
        FixedClock(CA_CREATED),
        root_key_id=ROOT,
        issuing_key_id=ISSUING,
        pki_base_url=PKI_BASE_URL,
    )


@dataclass
class World:
    store: DynamoStore
    dynamodb: RecordingClient  # the store's client: `calls` lists its DynamoDB requests
    table: TableReader  # what the store holds
    kms: FakeKeyManagement
    sms: FakeSms
    clock: FixedClock
    settings: Settings
    ca: CertificateAuthority

    @property
    def service(self) -> EnrollmentService:
        return EnrollmentService(
            store=self.store,
            kms=self.kms,
            sms=self.sms,
            clock=self.clock,
            settings=self.settings,
            certificate_authority=lambda: self.ca,
        )

    def start(self, principal: Principal = BANK, **overrides: Any) -> str:
        request = EnrollmentRequest(**(CUSTOMER | overrides))
        return self.service.start(principal, request).enrollment_id

    def code(self, phone: str = PHONE) -> str:
        return self.sms.last_code(phone)

    def confirm(
        self, enrollment_id: str, code: str, pin: str = PIN, principal: Principal = BANK
    ) -> IssuedCertificate:
        return self.service.confirm(principal, enrollment_id, code, pin)

    def issue(self, pin: str = PIN, principal: Principal = BANK, **overrides: Any) -> IssuedCertificate:
        enrollment_id = self.start(principal, **overrides)
        phone = "+82" + overrides.get("phone", CUSTOMER["phone"]).replace("-", "")[1:]
        return self.confirm(enrollment_id, self.code(phone), pin, principal)

    def account(self):
        (account,) = self.table.accounts()
        return account

    def attempts(self, enrollment_id: str) -> int:
        return self.table.enrollment(enrollment_id).attempts


@pytest.fixture
def world(
    key_material: FakeKeyManagement,
    ca: CertificateAuthority,
    store: DynamoStore,
    dynamodb: RecordingClient,
    dynamodb_table: DynamoTable,
    table: TableReader,
) -> World:
    kms = FakeKeyManagement()
    # The module's keys in a fresh fake: no recorded calls, no pending faults.
    kms._keys = dict(key_material._keys)
    store.put_certificate_authority(ca.record)
    dynamodb.calls.clear()
    settings = Settings(
        table_name=dynamodb_table.name,
        root_ca_key_id=ROOT,
        issuing_ca_key_id=ISSUING,
        key_wrap_key_id=WRAP,
        hmac_key_id=HMAC,
        pki_base_url=PKI_BASE_URL,
        certificate_policy_oid=POLICY_OID,
        content_mac_key_id="content-mac-key",  # enrollment keys no content
    )
    return World(store, dynamodb, table, kms, FakeSms(), FixedClock(NOW), settings, ca)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def common_name(issued: IssuedCertificate) -> str:
    cert = x509.load_der_x509_certificate(issued.credential.certificate_der)
    return cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def raised(call: Callable[[], Any]) -> FincertError:
    with pytest.raises(FincertError) as caught:
        call()
    return caught.value


# --- issuance --------------------------------------------------------------------------------
def test_certificate_key_is_the_wrapped_key_decrypted_in_its_own_context(world):
    issued = world.issue(key_algorithm=KeyAlgorithm.RSA_2048)
    credential = world.table.credentials_of(world.account().account_id)[0]

    plaintext = world.kms.decrypt(
        WRAP,
        credential.wrapped_private_key,
        subscriber_key_context(credential.account_id, credential.credential_id),
    )

    private_key = private_key_from_der(plaintext)
    cert = x509.load_der_x509_certificate(issued.credential.certificate_der)
    assert public_key_der(private_key) == public_key_der(cert.public_key())
    assert private_key.key_size == 2048


def test_wrapped_key_does_not_decrypt_in_another_credentials_context(world):
    world.issue()
    credential = world.table.credentials_of(world.account().account_id)[0]
    with pytest.raises(DecryptionRefused):
        world.kms.decrypt(
            WRAP, credential.wrapped_private_key, subscriber_key_context(credential.account_id, "cred_other")
        )


def test_certificate_is_valid_three_calendar_years_minus_one_second(world):
    issued = world.issue()
    cert = x509.load_der_x509_certificate(issued.credential.certificate_der)
    assert cert.not_valid_before_utc == NOW
    assert cert.not_valid_after_utc == datetime(2028, 3, 14, 10, 20, 29, tzinfo=UTC)
    assert (issued.credential.not_before, issued.credential.not_after) == (
        cert.not_valid_before_utc,
        cert.not_valid_after_utc,
    )


def test_certificate_is_signed_by_the_issuing_ca_and_comes_with_the_chain(world):
    issued = world.issue()
    cert = x509.load_der_x509_certificate(issued.credential.certificate_der)
    cert.verify_directly_issued_by(world.ca.issuing_certificate)
    assert issued.chain_pem == world.ca.chain_pem()
    assert issued.credential.serial_number == cert.serial_number


def test_certificate_names_the_holder_with_a_suffix(world):
    name = common_name(world.issue())
    holder, _, suffix = name.partition("(")
    assert holder == "홍길동"
    assert suffix.endswith(")")
    assert suffix[:-1] == world.account().holder_suffix


def test_subject_suffix_is_stable_across_reissue(world):
    first = world.issue()
    second = world.issue(pin=NEW_PIN)
    assert second.credential.credential_id != first.credential.credential_id
    assert common_name(second) == common_name(first)


def test_namesakes_get_different_subjects(world):
    first = world.issue()
    namesake = world.issue(phone="010-9999-8888")
    assert common_name(first).startswith("홍길동(")
    assert common_name(namesake).startswith("홍길동(")
    assert common_name(first) != common_name(namesake)


def test_issuance_creates_one_account_holding_the_active_certificate(world):
    issued = world.issue()
    account = world.account()
    credential = issued.credential
    assert world.table.person_count() == 1
    assert account.active_credential_id == credential.credential_id
    assert account.active_serial == credential.serial_number
    assert account.pin_failures == 0
    assert world.table.credentials_of(account.account_id) == [credential]
    assert credential.status == CredentialStatus.ACTIVE
    assert credential.issued_by == BANK.institution_id
    assert credential.auto_renew is True
    assert world.table.serial_status(credential.serial_number) == "issued"
    assert world.table.presigned() == []
    assert set(world.table.registrations_of(account.account_id)) == {BANK.institution_id}


def test_pin_is_kept_only_as_a_kms_hmac_verifier_bound_to_the_person(world):
    world.issue()
    account = world.account()
    mac = world.kms.generate_mac(HMAC, pin_verifier_message(account.person_index, PIN))
    assert account.pin_verifier == "v1:" + base64.b64encode(mac).decode()
    assert PIN not in account.pin_verifier


def test_confirm_stays_within_eight_round_trips(world):
    # docs/design.md#round-trips: the confirm request costs at most 8 AWS round trips (store + KMS).
    for pin in (PIN, NEW_PIN):  # a first issuance, then a reissue
        enrollment_id = world.start()
        code = world.code()
        dynamodb_before, kms_before = len(world.dynamodb.calls), len(world.kms.calls)
        world.confirm(enrollment_id, code, pin)
        round_trips = (len(world.dynamodb.calls) - dynamodb_before) + (len(world.kms.calls) - kms_before)
        assert round_trips <= 8, world.dynamodb.calls[dynamodb_before:] + world.kms.operations()[kms_before:]


# --- reissue ---------------------------------------------------------------------------------
def test_reissue_revokes_the_previous_certificate_as_superseded(world):
    first = world.issue()
    second = world.issue(pin=NEW_PIN)
    account = world.account()
    old = world.store.get_credential(account.account_id, first.credential.credential_id)
    assert old.status == CredentialStatus.REVOKED
    assert world.table.revocation_of(account.account_id, old.credential_id) == (NOW, "superseded")
    serial = world.table.serial_record(old.serial_number)
    assert (serial.status, serial.revocation_reason, serial.revoked_at) == ("revoked", "superseded", NOW)
    assert account.active_credential_id == second.credential.credential_id
    assert world.table.serial_status(second.credential.serial_number) == "issued"


def test_reissue_sets_the_new_pin_verifier(world):
    world.issue()
    old_verifier = world.account().pin_verifier
    world.issue(pin=NEW_PIN)
    account = world.account()
    mac = world.kms.generate_mac(HMAC, pin_verifier_message(account.person_index, NEW_PIN))
    assert account.pin_verifier == "v1:" + base64.b64encode(mac).decode()
    assert account.pin_verifier != old_verifier


def test_reissue_resets_pin_failures(world):
    world.issue()
    for _ in range(4):  # four wrong PINs: four attempt slots reserved and judged, none forgiven
        slot = world.store.reserve_pin_attempt(world.account().account_id, NOW)
        world.store.pin_judged_wrong(slot)
    assert (world.account().pin_failures, world.account().pin_judged_failures) == (4, 4)
    world.issue(pin=NEW_PIN)
    assert world.account().pin_failures == 0
    assert world.account().pin_wrong_slots == frozenset(), "the marks go with the count they belonged to"


def test_reissue_keeps_the_account(world):
    world.issue()
    first = world.account()
    world.issue(pin=NEW_PIN, principal=OTHER_BANK)
    account = world.account()
    assert (account.account_id, account.created_at) == (first.account_id, first.created_at)
    assert set(world.table.registrations_of(account.account_id)) == {"demo-bank", "other-bank"}


# --- idempotent replay -----------------------------------------------------------------------
def test_retried_confirm_returns_the_same_certificate(world):
    enrollment_id = world.start()
    code = world.code()
    first = world.confirm(enrollment_id, code)
    signs = world.kms.operations().count("sign")

    again = world.confirm(enrollment_id, code)

    assert again.credential == first.credential
    assert again.chain_pem == first.chain_pem
    assert world.kms.operations().count("sign") == signs, "a replay signs nothing"
    assert len(world.table.all_credentials()) == 1


def test_retry_with_another_pin_is_a_conflict(world):
    enrollment_id = world.start()
    code = world.code()
    world.confirm(enrollment_id, code)
    error = raised(lambda: world.confirm(enrollment_id, code, NEW_PIN))
    assert isinstance(error, Conflict)
    assert error.code == "enrollment_confirmed"
    assert len(world.table.all_credentials()) == 1


def test_retry_with_another_code_is_a_conflict(world):
    enrollment_id = world.start()
    code = world.code()
    world.confirm(enrollment_id, code)
    error = raised(lambda: world.confirm(enrollment_id, wrong(code)))
    assert isinstance(error, Conflict)
    assert error.code == "enrollment_confirmed"


def test_replay_is_answered_until_one_hour_after_expiry(world):
    enrollment_id = world.start()
    code = world.code()
    first = world.confirm(enrollment_id, code)
    world.clock.at = NOW + timedelta(seconds=world.settings.enrollment_ttl_seconds) + REPLAY_WINDOW
    assert world.confirm(enrollment_id, code).credential == first.credential


def test_replay_after_the_replay_window_is_gone(world):
    enrollment_id = world.start()
    code = world.code()
    world.confirm(enrollment_id, code)
    world.clock.at = (
        NOW + timedelta(seconds=world.settings.enrollment_ttl_seconds) + REPLAY_WINDOW + timedelta(seconds=1)
    )
    error = raised(lambda: world.confirm(enrollment_id, code))
    assert isinstance(error, Gone)
    assert error.code == "enrollment_closed"


def test_replay_after_a_reissue_does_not_hand_back_the_superseded_certificate(world):
    enrollment_id = world.start()
    code = world.code()
    world.confirm(enrollment_id, code)
    world.issue(pin=NEW_PIN)  # the customer reissued meanwhile: the first certificate is revoked

    error = raised(lambda: world.confirm(enrollment_id, code))

    assert isinstance(error, Conflict)
    assert error.code == "enrollment_superseded"


def test_replays_are_limited_so_they_cannot_guess_the_pin(world):
    enrollment_id = world.start()
    code = world.code()
    world.confirm(enrollment_id, code)
    for _ in range(MAX_REPLAYS - 1):  # wrong PINs: each a 409, each counted
        assert raised(lambda: world.confirm(enrollment_id, code, pin="246813")).code == "enrollment_confirmed"
    world.confirm(enrollment_id, code)  # the last replay allowed, with the right PIN
    kms_calls = len(world.kms.calls)
    error = raised(lambda: world.confirm(enrollment_id, code))
    assert isinstance(error, Gone)
    assert error.code == "enrollment_closed"
    assert len(world.kms.calls) == kms_calls, "refused before any KMS call"


# --- the SMS code ----------------------------------------------------------------------------
def test_start_sends_a_six_digit_code_to_the_normalised_phone(world):
    started = world.service.start(BANK, EnrollmentRequest(**CUSTOMER))
    assert [phone for phone, _ in world.sms.sent] == [PHONE]
    assert len(world.code()) == 6
    assert started.expires_at == NOW + timedelta(minutes=5)
    assert started.attempts_allowed == 5


def test_wrong_codes_count_down_the_remaining_attempts(world):
    enrollment_id = world.start()
    bad = wrong(world.code())
    remaining = []
    for _ in range(5):
        error = raised(lambda: world.confirm(enrollment_id, bad))
        assert isinstance(error, InvalidRequest)
        assert error.code == "sms_code_invalid"
        remaining.append(error.details["remaining_attempts"])
    assert remaining == [4, 3, 2, 1, 0]
    assert world.attempts(enrollment_id) == 5


def test_five_wrong_codes_lock_the_enrollment(world):
    enrollment_id = world.start()
    right = world.code()
    for _ in range(5):
        raised(lambda: world.confirm(enrollment_id, wrong(right)))

    error = raised(lambda: world.confirm(enrollment_id, right))

    assert isinstance(error, Gone)
    assert error.code == "enrollment_locked"
    assert world.table.all_credentials() == []


def test_a_right_code_after_four_wrong_ones_still_issues(world):
    enrollment_id = world.start()
    right = world.code()
    for _ in range(4):
        raised(lambda: world.confirm(enrollment_id, wrong(right)))
    assert world.confirm(enrollment_id, right).credential.status == CredentialStatus.ACTIVE


# --- expiry: valid while now < created + 5 min ------------------------------------------------
def test_enrollment_is_valid_one_second_before_five_minutes(world):
    enrollment_id = world.start()
    world.clock.at = NOW + timedelta(minutes=5) - timedelta(seconds=1)
    assert world.confirm(enrollment_id, world.code()).credential.not_before == world.clock.at


def test_enrollment_is_valid_one_millisecond_before_five_minutes(world):
    enrollment_id = world.start()
    world.clock.at = NOW + timedelta(minutes=5) - timedelta(milliseconds=1)
    world.confirm(enrollment_id, world.code())


@pytest.mark.parametrize("after", [timedelta(0), timedelta(milliseconds=1), timedelta(seconds=1)])
def test_enrollment_expires_at_exactly_five_minutes(world, after):
    enrollment_id = world.start()
    world.clock.at = NOW + timedelta(minutes=5) + after

    error = raised(lambda: world.confirm(enrollment_id, world.code()))

    assert isinstance(error, Gone)
    assert error.code == "enrollment_expired"
    assert world.attempts(enrollment_id) == 0
    assert world.table.all_credentials() == []


# --- PIN policy ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pin", "rule"),
    [
        ("12345", "pin_format"),
        ("1234567", "pin_format"),
        ("12a456", "pin_format"),
        ("１３５７９２", "pin_format"),  # full-width digits are not ASCII digits
        ("", "pin_format"),
        ("111111", "pin_repeated_digits"),
        ("123456", "pin_sequential"),
        ("987654", "pin_sequential"),
    ],
)
def test_pin_shape_is_refused_before_any_kms_or_store_call(world, pin, rule):
    enrollment_id = world.start()
    code = world.code()
    kms_calls, dynamodb_calls = list(world.kms.calls), list(world.dynamodb.calls)

    error = raised(lambda: world.confirm(enrollment_id, code, pin))

    assert isinstance(error, WeakPin)
    assert error.code == rule
    assert world.kms.calls == kms_calls
    assert world.dynamodb.calls == dynamodb_calls
    assert world.attempts(enrollment_id) == 0


@pytest.mark.parametrize("pin", ["850314", "031485", "140385"])  # YYMMDD, MMDDYY, DDMMYY
def test_birth_date_pin_is_refused_after_decrypt_without_using_an_attempt(world, pin):
    enrollment_id = world.start()
    code = world.code()
    kms_before = len(world.kms.calls)

    error = raised(lambda: world.confirm(enrollment_id, code, pin))

    assert isinstance(error, WeakPin)
    assert error.code == "pin_birth_date"
    assert world.kms.operations()[kms_before:] == ["decrypt"]
    stored = world.table.enrollment(enrollment_id)
    assert (stored.attempts, stored.lease_until, stored.status) == (0, None, EnrollmentStatus.PENDING)
    assert world.confirm(enrollment_id, code).credential.status == CredentialStatus.ACTIVE


# --- who may confirm -------------------------------------------------------------------------
def test_another_institutions_confirm_is_not_found_and_uses_no_attempt(world):
    enrollment_id = world.start()
    code = world.code()
    kms_calls = list(world.kms.calls)

    error = raised(lambda: world.confirm(enrollment_id, code, principal=OTHER_BANK))

    assert isinstance(error, NotFound)
    assert error.code == "enrollment_not_found"
    assert world.kms.calls == kms_calls
    assert world.attempts(enrollment_id) == 0
    assert world.confirm(enrollment_id, code).credential.issued_by == BANK.institution_id


def test_another_institutions_confirm_of_a_confirmed_enrollment_is_not_found(world):
    enrollment_id = world.start()
    code = world.code()
    world.confirm(enrollment_id, code)
    error = raised(lambda: world.confirm(enrollment_id, code, principal=OTHER_BANK))
    assert isinstance(error, NotFound)


def test_an_unknown_enrollment_is_not_found(world):
    error = raised(lambda: world.confirm("enr_nope", "123456"))
    assert isinstance(error, NotFound)
    assert error.code == "enrollment_not_found"


def test_start_without_the_enroll_scope_is_forbidden_and_does_nothing(world):
    error = raised(lambda: world.start(NO_SCOPE))
    assert isinstance(error, Forbidden)
    assert error.code == "scope_missing"
    assert (world.kms.calls, world.dynamodb.calls, world.sms.sent) == ([], [], [])


def test_confirm_without_the_enroll_scope_is_forbidden_and_uses_no_attempt(world):
    enrollment_id = world.start()
    code = world.code()
    dynamodb_calls = list(world.dynamodb.calls)
    error = raised(lambda: world.confirm(enrollment_id, code, principal=NO_SCOPE))
    assert isinstance(error, Forbidden)
    assert world.dynamodb.calls == dynamodb_calls


# --- bad start requests change nothing ----------------------------------------------------------
def test_terms_not_accepted_is_refused_before_kms_and_stores_nothing(world):
    error = raised(lambda: world.start(terms_accepted=False))
    assert isinstance(error, InvalidRequest)
    assert error.code == "terms_not_accepted"
    assert (world.kms.calls, world.dynamodb.calls, world.sms.sent) == ([], [], [])
    assert world.table.enrollment_count() == 0


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("name", "   ", "name_invalid"),
        ("name", "Robert'); DROP", "name_invalid"),
        ("phone", "02-123-4567", "phone_invalid"),
        ("birth_date", "19900230", "birth_date_invalid"),
        ("birth_date", "20990101", "birth_date_invalid"),
    ],
)
def test_invalid_identity_is_refused_before_kms_and_stores_nothing(world, field, value, code):
    error = raised(lambda: world.start(**{field: value}))
    assert isinstance(error, InvalidRequest)
    assert error.code == code
    assert (world.kms.calls, world.dynamodb.calls, world.sms.sent) == ([], [], [])


# --- SMS failure and rate limits ---------------------------------------------------------------
def test_sms_failure_undoes_the_enrollment_and_its_rate_counts(world):
    world.sms.fail_next()

    error = raised(lambda: world.start())

    assert isinstance(error, ServiceUnavailable)
    assert world.table.enrollment_count() == 0
    assert all(count == 0 for count in world.table.rate_counts().values())
    assert world.sms.sent == []


def test_sms_failure_gives_the_phone_its_quota_back(world):
    for _ in range(3):
        world.sms.fail_next()
        raised(lambda: world.start())
    for _ in range(world.settings.sms_per_phone_per_hour):
        world.start()
    assert len(world.sms.sent) == world.settings.sms_per_phone_per_hour


def test_sms_sends_are_limited_per_phone_per_hour(world):
    for _ in range(5):
        world.start()
    world.kms.calls.clear()

    error = raised(lambda: world.start())

    assert isinstance(error, RateLimited)
    assert error.code == "sms_rate_limited"
    assert error.details == {"limit": "sms-phone"}
    assert error.retry_after == (datetime(2025, 3, 14, 11, tzinfo=UTC) - NOW).total_seconds()
    assert world.table.enrollment_count() == 5
    assert len(world.sms.sent) == 5


def test_the_phone_limit_does_not_touch_other_phones(world):
    for _ in range(5):
        world.start()
    world.start(phone="010-2222-3333")
    assert len(world.sms.sent) == 6


def test_the_phone_limit_opens_again_in_the_next_hour(world):
    for _ in range(5):
        world.start()
    world.clock.at = datetime(2025, 3, 14, 11, tzinfo=UTC)
    world.start()
    assert len(world.sms.sent) == 6


def test_sms_sends_are_limited_per_institution_per_hour(world):
    world.settings = replace(world.settings, sms_per_institution_per_hour=3)
    for n in range(3):
        world.start(phone=f"010-3000-000{n}")

    error = raised(lambda: world.start(phone="010-3000-0009"))

    assert isinstance(error, RateLimited)
    assert error.code == "sms_rate_limited"
    assert error.details == {"limit": "sms-institution"}
    world.start(OTHER_BANK, phone="010-3000-0009")  # another institution has its own budget


# --- leases ----------------------------------------------------------------------------------
def _hold_lease(world: World, enrollment_id: str, now: datetime = NOW) -> datetime:
    """What a concurrent confirm in flight has done: claimed the enrollment."""
    lease_until = now + LEASE
    world.store.claim_enrollment(enrollment_id, BANK.institution_id, now, lease_until, 5)
    return lease_until


def test_a_confirm_while_another_is_in_flight_is_in_progress(world):
    enrollment_id = world.start()
    _hold_lease(world, enrollment_id)
    kms_calls = list(world.kms.calls)

    error = raised(lambda: world.confirm(enrollment_id, world.code()))

    assert isinstance(error, Conflict)
    assert error.code == "enrollment_in_progress"
    assert world.kms.calls == kms_calls
    assert world.attempts(enrollment_id) == 1, "only the one in flight counted"


def test_a_lease_is_held_until_it_ends(world):
    enrollment_id = world.start()
    lease_until = _hold_lease(world, enrollment_id)
    world.clock.at = lease_until
    error = raised(lambda: world.confirm(enrollment_id, world.code()))
    assert error.code == "enrollment_in_progress"


def test_a_lease_left_by_a_crashed_confirm_lapses(world):
    enrollment_id = world.start()
    lease_until = _hold_lease(world, enrollment_id)
    world.clock.at = lease_until + timedelta(seconds=1)
    assert world.confirm(enrollment_id, world.code()).credential.status == CredentialStatus.ACTIVE


def test_a_retry_while_the_last_attempt_is_in_flight_is_in_progress_not_locked(world):
    # Four wrong codes, then the fifth confirm (the right code) is in flight when the bank's
    # client times out and retries. That fifth one may still issue (or be refunded after an
    # AWS fault), so telling the retry "locked, start again" is wrong: it is in progress.
    enrollment_id = world.start()
    right = world.code()
    for _ in range(4):
        raised(lambda: world.confirm(enrollment_id, wrong(right)))
    _hold_lease(world, enrollment_id)

    error = raised(lambda: world.confirm(enrollment_id, right))

    assert isinstance(error, Conflict)
    assert error.code == "enrollment_in_progress"


# --- concurrency -----------------------------------------------------------------------------
@pytest.fixture
def busy_threads() -> Iterator[None]:
    """Switch threads more often than every 5 ms (the default), so confirms interleave mid-flight.
    (Far shorter intervals serialise the threads again.)"""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    yield
    sys.setswitchinterval(interval)


def run_together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Runs the calls in threads released together; each result is a value or the exception."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except BaseException as e:  # collected for the test to judge
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    return results


@pytest.mark.parametrize("run", range(5))
def test_concurrent_issuances_for_one_person_leave_exactly_one_active_certificate(world, busy_threads, run):
    world.settings = replace(world.settings, sms_per_phone_per_hour=100)
    enrollments = []
    for _ in range(10):
        enrollment_id = world.start()
        enrollments.append((enrollment_id, world.code()))

    results = run_together([lambda e=e, c=c: world.confirm(e, c) for e, c in enrollments])

    issued = [r for r in results if isinstance(r, IssuedCertificate)]
    refused = [r for r in results if not isinstance(r, IssuedCertificate)]
    assert issued, "at least one issuance wins"
    for error in refused:
        assert isinstance(error, Conflict), repr(error)
        assert error.code == "issuance_conflict"
    account = world.account()
    credentials = world.table.all_credentials()
    active = [c for c in credentials if c.status == CredentialStatus.ACTIVE]
    assert [c.credential_id for c in active] == [account.active_credential_id]
    assert {c.credential_id for c in credentials} == {r.credential.credential_id for r in issued}
    for c in credentials:
        expected = "issued" if c.status == CredentialStatus.ACTIVE else "revoked"
        assert world.table.serial_status(c.serial_number) == expected
        if c.status == CredentialStatus.REVOKED:
            assert world.table.revocation_of(account.account_id, c.credential_id)[1] == "superseded"
    # Each refused issuance had signed once: its pre-signing record stays for the reconciler.
    assert len(world.table.presigned()) == len(refused)

    # Refused issuances are retryable: the attempt was given back and the lease released.
    for (enrollment_id, code), result in zip(enrollments, results, strict=True):
        if not isinstance(result, IssuedCertificate):
            stored = world.table.enrollment(enrollment_id)
            assert (stored.attempts, stored.lease_until) == (0, None)
            world.confirm(enrollment_id, code)
    credentials = world.table.all_credentials()
    assert len(credentials) == 10
    assert len([c for c in credentials if c.status == CredentialStatus.ACTIVE]) == 1
    assert world.table.person_count() == 1


@pytest.mark.parametrize("run", range(5))
def test_concurrent_confirms_of_one_enrollment_issue_one_certificate(world, busy_threads, run):
    enrollment_id = world.start()
    code = world.code()

    results = run_together([lambda: world.confirm(enrollment_id, code)] * 20)

    issued = [r for r in results if isinstance(r, IssuedCertificate)]
    refused = [r for r in results if not isinstance(r, IssuedCertificate)]
    for error in refused:
        # In flight, or arrived after the commit once the few replays allowed were used up.
        assert (isinstance(error, Conflict) and error.code == "enrollment_in_progress") or (
            isinstance(error, Gone) and error.code == "enrollment_closed"
        ), repr(error)
    assert len([r for r in refused if isinstance(r, Gone)]) <= 20 - MAX_REPLAYS - 1
    assert issued
    assert {r.credential.credential_id for r in issued} == {issued[0].credential.credential_id}
    assert len(world.table.all_credentials()) == 1
    assert world.table.serial_count() == 1, "only one confirm got as far as signing"
    assert world.attempts(enrollment_id) == 1


# --- faults ----------------------------------------------------------------------------------
@pytest.mark.parametrize("operation", ["decrypt", "generate_mac", "encrypt", "sign"])
def test_a_kms_fault_releases_the_lease_and_refunds_the_attempt(world, operation):
    enrollment_id = world.start()
    code = world.code()
    fault = ServiceUnavailable("KMS is unavailable, retry later", retry_after=1)
    world.kms.fail_next(operation, fault)

    assert raised(lambda: world.confirm(enrollment_id, code)) is fault

    stored = world.table.enrollment(enrollment_id)
    assert (stored.attempts, stored.lease_until, stored.status) == (0, None, EnrollmentStatus.PENDING)
    assert world.table.all_credentials() == []
    assert world.confirm(enrollment_id, code).credential.status == CredentialStatus.ACTIVE


def test_a_kms_fault_at_sign_leaves_one_pre_signing_record_and_no_credential(world):
    enrollment_id = world.start()
    code = world.code()
    world.kms.fail_next("sign", ServiceUnavailable("KMS is unavailable, retry later"))

    raised(lambda: world.confirm(enrollment_id, code))

    (record,) = world.table.presigned()
    assert world.table.all_credentials() == []
    assert world.table.accounts() == []
    assert record.not_after == datetime(2028, 3, 14, 10, 20, 29, tzinfo=UTC)
    issued = world.confirm(enrollment_id, code)
    assert issued.credential.serial_number != record.serial_number
    assert world.table.presigned() == [record]  # the reconciler's to revoke


def test_a_store_fault_at_commit_leaves_only_the_pre_signing_record(world, fail_next):
    enrollment_id = world.start()
    code = world.code()
    fault = ServiceUnavailable("DynamoDB is unavailable, retry later")
    fail_next(world.store, "commit_issuance", fault)

    assert raised(lambda: world.confirm(enrollment_id, code)) is fault

    stored = world.table.enrollment(enrollment_id)
    assert (stored.attempts, stored.lease_until) == (0, None)
    assert world.table.all_credentials() == []
    assert len(world.table.presigned()) == 1
    world.confirm(enrollment_id, code)
    assert len(world.table.all_credentials()) == 1
