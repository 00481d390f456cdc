"""The composition root: builds the adapters from the settings once per container and hands
them to the use cases. Handlers ask `services()`; tests replace it with `use_services()`.

Use cases are imported when first asked for, not here: a function imports only what its routes
use (the authorizer needs no X.509 code, the PKI function no issuance), which is most of what a
cold start costs beyond boto3 itself. The same holds for storage: each use case gets the DynamoDB
composition of the aggregates it touches (fincert.adapters.dynamodb.*_store), built when first
asked for, and the whole table (`store`) only where everything is needed."""

from __future__ import annotations

from functools import cached_property
from threading import Lock
from typing import TYPE_CHECKING, Any

from fincert import snapstart
from fincert.adapters.clients import AwsClients
from fincert.adapters.kms import KmsKeyManagement
from fincert.adapters.metrics import EmfMetrics
from fincert.adapters.notify import SnsSmsSender
from fincert.clock import SystemClock
from fincert.domain.metrics import MeteredSms
from fincert.ports import Clock, KeyManagement, Metrics, SmsSender
from fincert.settings import Settings, get_settings

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from cryptography import x509

    from fincert.adapters.dynamodb.access_store import AccessStore
    from fincert.adapters.dynamodb.customer_store import CustomerStore
    from fincert.adapters.dynamodb.institutions import InstitutionTable
    from fincert.adapters.dynamodb.issuance_store import IssuanceStore
    from fincert.adapters.dynamodb.revocation_store import RevocationStore
    from fincert.adapters.dynamodb.store import DynamoStore
    from fincert.adapters.dynamodb.ticket_store import TicketStore
    from fincert.adapters.dynamodb.timestamps import TimestampTable
    from fincert.adapters.dynamodb.window_store import WindowStore
    from fincert.domain.account_records import Credential
    from fincert.domain.accounts import AccountService
    from fincert.domain.ca import CertificateAuthority
    from fincert.domain.ca_records import OcspResponderRecord
    from fincert.domain.content_macs import ContentMacs
    from fincert.domain.devices import DeviceService
    from fincert.domain.enrollment import EnrollmentService
    from fincert.domain.institution_records import Principal
    from fincert.domain.pin_attempts import PinChecker
    from fincert.domain.purge import IdlePurgeJob
    from fincert.domain.renewal import RenewalJob
    from fincert.domain.revocation_status import RevocationStatus
    from fincert.domain.signing import SigningService
    from fincert.domain.status_changes import CertificateStatusService
    from fincert.domain.timestamping import SigningEvidence, TimestampAuthorityRecord, TimestampService
    from fincert.domain.ui_tickets import UiTicketService
    from fincert.domain.verification import VerificationService
    from fincert.domain.window import WindowService
    from fincert.domain.window_issuance import WindowIssuance
    from fincert.domain.window_signing import WindowSigning
    from fincert.ports import JobQueue


class Services:
    def __init__(
        self,
        settings: Settings,
        *,
        store: DynamoStore | None = None,
        kms: KeyManagement | None = None,
        sms: SmsSender | None = None,
        clock: Clock | None = None,
        clients: AwsClients | None = None,
        metrics: Metrics | None = None,
    ):
        self.settings = settings
        self._clients = clients or AwsClients()
        self.metrics: Metrics = metrics or EmfMetrics(settings.metrics_namespace)
        # A store given (tests) serves every storage role; otherwise each role gets its own.
        self._store = store
        self.kms: KeyManagement = kms or KmsKeyManagement(lambda: self._clients.kms, self.metrics)
        # Every text, whichever flow sends it, is counted (SmsSent, SmsRefused).
        self.sms: SmsSender = MeteredSms(
            sms or SnsSmsSender(lambda: self._clients.sns_in(settings.sms_region)), self.metrics
        )
        self.clock: Clock = clock or SystemClock()
        self._ca: CertificateAuthority | None = None
        self._ca_lock = Lock()

    @property
    def clients(self) -> AwsClients:
        return self._clients

    def _dynamodb(self) -> Any:
        return self._clients.dynamodb

    # --- storage: the whole table, or the composition a group of use cases needs ---------------
    @cached_property
    def store(self) -> DynamoStore:
        """The whole table (the operator's commands, the scheduled jobs)."""
        if self._store is None:
            from fincert.adapters.dynamodb.store import DynamoStore

            self._store = DynamoStore(self._dynamodb, self.settings.table_name)
        return self._store

    @cached_property
    def institution_store(self) -> InstitutionTable | DynamoStore:
        """Institutions, their origins and the CA's record: CORS preflights, the CA's loading."""
        from fincert.adapters.dynamodb.institutions import InstitutionTable

        return self._store or InstitutionTable(self._dynamodb, self.settings.table_name)

    @cached_property
    def access_store(self) -> AccessStore | DynamoStore:
        """Institutions, customer sessions and UI tickets: what the authorizer reads."""
        from fincert.adapters.dynamodb.access_store import AccessStore

        return self._store or AccessStore(self._dynamodb, self.settings.table_name)

    @cached_property
    def _customer_store(self) -> CustomerStore | DynamoStore:
        from fincert.adapters.dynamodb.customer_store import CustomerStore

        return self._store or CustomerStore(self._dynamodb, self.settings.table_name)

    @cached_property
    def _issuance_store(self) -> IssuanceStore | DynamoStore:
        from fincert.adapters.dynamodb.issuance_store import IssuanceStore

        return self._store or IssuanceStore(self._dynamodb, self.settings.table_name)

    @cached_property
    def _window_store(self) -> WindowStore | DynamoStore:
        from fincert.adapters.dynamodb.window_store import WindowStore

        return self._store or WindowStore(self._dynamodb, self.settings.table_name)

    @cached_property
    def _ticket_store(self) -> TicketStore | DynamoStore:
        from fincert.adapters.dynamodb.ticket_store import TicketStore

        return self._store or TicketStore(self._dynamodb, self.settings.table_name)

    @cached_property
    def _revocation_store(self) -> RevocationStore | DynamoStore:
        from fincert.adapters.dynamodb.revocation_store import RevocationStore

        return self._store or RevocationStore(self._dynamodb, self.settings.table_name)

    def certificate_authority(self) -> CertificateAuthority:
        # Read once per container: the CA changes only by an operator's bootstrap.
        from fincert.domain.ca import load_certificate_authority

        with self._ca_lock:
            if self._ca is None:
                self._ca = load_certificate_authority(self.institution_store)
            return self._ca

    @cached_property
    def enrollment(self) -> EnrollmentService:
        from fincert.domain.enrollment import EnrollmentService

        return EnrollmentService(
            store=self._issuance_store,
            kms=self.kms,
            sms=self.sms,
            clock=self.clock,
            settings=self.settings,
            certificate_authority=self.certificate_authority,
            metrics=self.metrics,
        )

    @cached_property
    def pins(self) -> PinChecker:
        from fincert.domain.pin_attempts import PinChecker

        return PinChecker(
            store=self._customer_store,
            kms=self.kms,
            hmac_key_id=self.settings.hmac_key_id,
            clock=self.clock,
            metrics=self.metrics,
        )

    @cached_property
    def content_macs(self) -> ContentMacs:
        # One per container: its key is derived from KMS once, at the first use.
        from fincert.domain.content_macs import ContentMacs

        return ContentMacs(self.kms, self.settings.content_mac_key_id)

    @cached_property
    def accounts(self) -> AccountService:
        from fincert.domain.accounts import AccountService

        return AccountService(
            store=self._customer_store,
            kms=self.kms,
            sms=self.sms,
            clock=self.clock,
            settings=self.settings,
            pins=self.pins,
            metrics=self.metrics,
            content_macs=self.content_macs,
        )

    @cached_property
    def devices(self) -> DeviceService:
        from fincert.domain.devices import DeviceService

        return DeviceService(
            store=self._customer_store, clock=self.clock, settings=self.settings, accounts=self.accounts
        )

    @cached_property
    def signing(self) -> SigningService:
        from fincert.domain.signing import SigningService

        return SigningService(
            store=self._customer_store,
            kms=self.kms,
            clock=self.clock,
            settings=self.settings,
            pins=self.pins,
            certificate_authority=self.certificate_authority,
            metrics=self.metrics,
            content_macs=self.content_macs,
            evidence=self._signing_evidence,
        )

    def _signing_evidence(
        self, principal: Principal, credential: Credential, values: Sequence[bytes], now: datetime
    ) -> SigningEvidence:
        """A signature's time-stamp tokens and its certificate's OCSP answer (docs/architecture.md:
        the signing function holds the OCSP responder's key)."""
        from fincert.domain.timestamping import signing_evidence

        return signing_evidence(
            self.timestamps,
            self.revocation_status.good_at,
            principal,
            credential.serial_number,
            values,
            now,
        )

    @cached_property
    def certificate_status(self) -> CertificateStatusService:
        from fincert.domain.status_changes import CertificateStatusService

        return CertificateStatusService(
            store=self._customer_store,
            kms=self.kms,
            sms=self.sms,
            clock=self.clock,
            settings=self.settings,
            pins=self.pins,
            accounts=self.accounts,
            metrics=self.metrics,
        )

    @cached_property
    def verification(self) -> VerificationService:
        from fincert.domain.verification import VerificationService

        return VerificationService(
            store=self._revocation_store,
            clock=self.clock,
            certificate_authority=self.certificate_authority,
            policy_oid=self.settings.certificate_policy_oid,
            tsa_certificates=self._tsa_certificates,
        )

    def _tsa_certificates(self) -> list[x509.Certificate]:
        """The TSA's certificate, for a token that does not carry it; none before the TSA is set up."""
        from fincert.errors import ServiceUnavailable

        try:
            return [self.timestamps.certificate()]
        except ServiceUnavailable:
            return []

    # --- the hosted window (docs/hosted-window.md) ---------------------------------------------
    @cached_property
    def ui_tickets(self) -> UiTicketService:
        from fincert.domain.ui_tickets import UiTicketService

        return UiTicketService(store=self._ticket_store, clock=self.clock, settings=self.settings)

    @cached_property
    def window(self) -> WindowService:
        from fincert.domain.window import WindowService

        return WindowService(
            store=self._window_store,
            clock=self.clock,
            settings=self.settings,
            accounts=self.accounts,
            devices=self.devices,
        )

    @cached_property
    def window_issuance(self) -> WindowIssuance:
        from fincert.domain.window_issuance import WindowIssuance

        return WindowIssuance(window=self.window, enrollment=self.enrollment)

    @cached_property
    def window_signing(self) -> WindowSigning:
        from fincert.domain.window_signing import WindowSigning

        return WindowSigning(window=self.window, signing=self.signing)

    # --- revocation status (OCSP, CRLs) ---------------------------------------------------------
    @cached_property
    def revocation_status(self) -> RevocationStatus:
        # One per container: it holds the decrypted OCSP responder key and the CRLs built so far.
        from fincert.domain.revocation_status import RevocationStatus

        return RevocationStatus(
            store=self._revocation_store,
            kms=self.kms,
            clock=self.clock,
            key_wrap_key_id=self.settings.key_wrap_key_id,
            pki_base_url=self.settings.pki_base_url,
            certificate_authority=self.certificate_authority,
        )

    # --- scheduled jobs: auto-renewal and idle purge ------------------------------------------
    @cached_property
    def renewal_job(self) -> RenewalJob:
        from fincert.domain.renewal import RenewalJob

        return RenewalJob(
            store=self.store,
            kms=self.kms,
            sms=self.sms,
            clock=self.clock,
            settings=self.settings,
            certificate_authority=self.certificate_authority,
            metrics=self.metrics,
        )

    @cached_property
    def purge_job(self) -> IdlePurgeJob:
        from fincert.domain.purge import IdlePurgeJob

        return IdlePurgeJob(
            store=self.store, kms=self.kms, sms=self.sms, clock=self.clock, settings=self.settings
        )

    # --- the time-stamping authority (RFC 3161) ------------------------------------------------
    @cached_property
    def timestamp_store(self) -> TimestampTable:
        from fincert.adapters.dynamodb.timestamps import TimestampTable

        return TimestampTable(lambda: self._clients.dynamodb, self.settings.table_name)

    @cached_property
    def timestamps(self) -> TimestampService:
        # One per container: it holds the TSA certificate.
        from fincert.domain.timestamping import TimestampService

        return TimestampService(
            store=self.timestamp_store,
            kms=self.kms,
            clock=self.clock,
            policy_oid=self.settings.tsa_policy_oid,
            per_institution_per_minute=self.settings.timestamps_per_institution_per_minute,
        )

    def ensure_timestamp_authority(self) -> tuple[TimestampAuthorityRecord, bool]:
        """The TSA's certificate, issued once (bootstrap-ca, upgrade); (the TSA, whether new)."""
        from fincert.domain.timestamping import ensure_timestamp_authority

        return ensure_timestamp_authority(
            self.timestamp_store,
            self.kms,
            self.clock,
            self.certificate_authority(),
            tsa_key_id=self.settings.tsa_key_id,
            policy_oid=self.settings.tsa_policy_oid,
            pki_base_url=self.settings.pki_base_url,
        )

    def ensure_ocsp_responder(self, *, force: bool = False) -> tuple[OcspResponderRecord, bool]:
        """The delegated OCSP responder, created or renewed when due (or `force`d); returns
        (the responder in force, whether it is new). See fincert.domain.revocation_status."""
        from fincert.domain.revocation_status import ensure_ocsp_responder

        return ensure_ocsp_responder(
            self._revocation_store,
            self.kms,
            self.clock,
            self.certificate_authority(),
            key_wrap_key_id=self.settings.key_wrap_key_id,
            force=force,
        )

    def job_queue(self, queue_url: str) -> JobQueue:
        from fincert.adapters.queue import SqsJobQueue

        return SqsJobQueue(lambda: self._clients.sqs, queue_url)


_current: Services | None = None
_lock = Lock()


def services() -> Services:
    global _current
    with _lock:
        if _current is None:
            _current = Services(get_settings())
        return _current


def drop_services() -> None:
    """Forget the Services built so far (their clients, connections and keys), keeping the
    settings: the next request builds new ones (fincert.snapstart, after a SnapStart restore)."""
    global _current
    with _lock:
        _current = None


def use_services(replacement: Services | None) -> None:
    """Tests and the local stack install their own Services (or None to rebuild from env)."""
    global _current
    with _lock:
        _current = replacement
    get_settings.cache_clear()


# SnapStart's hooks, registered at init by every function that imports the composition root.
snapstart.register()
