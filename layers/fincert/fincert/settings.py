"""The one place that reads the environment: a validated, immutable settings object."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

from fincert.errors import ConfigurationError


@dataclass(frozen=True)
class Settings:
    table_name: str
    root_ca_key_id: str
    issuing_ca_key_id: str
    key_wrap_key_id: str
    hmac_key_id: str
    pki_base_url: str
    certificate_policy_oid: str
    # The KMS HMAC key of signed contents' keyed values (fincert.domain.content_macs), apart from
    # the identity one so the signing functions cannot compute identity blind indexes.
    content_mac_key_id: str
    # Enrollment: how long an SMS code lives and how many tries it allows.
    enrollment_ttl_seconds: int = 300
    enrollment_max_attempts: int = 5
    # SMS pumping costs real money: cap sends per phone number and per institution per hour.
    sms_per_phone_per_hour: int = 5
    sms_per_institution_per_hour: int = 1000
    max_body_bytes: int = 16 * 1024
    # A customer session (bearer token) lives this long; a new connection opens a new one.
    session_ttl_seconds: int = 900
    # The hosted window (docs/hosted-window.md): a UI ticket must be redeemed within this time,
    # the window credential it becomes lasts for one flow, a connect code is exchanged quickly.
    ui_ticket_ttl_seconds: int = 120
    window_ttl_seconds: int = 600
    connect_code_ttl_seconds: int = 120
    ui_tickets_per_institution_per_minute: int = 600
    # Scheduled jobs: the SQS queues their planners fill for their workers (only those functions
    # have them set).
    renewal_queue_url: str = ""
    purge_queue_url: str = ""
    # CloudWatch namespace of the EMF metrics (docs/observability.md).
    metrics_namespace: str = "FinCert"
    # Where SNS sends the SMS from, when the stack's own region has no SNS SMS ("" = the same).
    sms_region: str = ""
    # The time-stamping authority (fincert.domain.timestamping): its KMS key, the policy its
    # tokens name, and how many tokens an institution may have signed per minute.
    tsa_key_id: str = ""
    tsa_policy_oid: str = "1.3.6.1.4.1.32473.1.2"
    timestamps_per_institution_per_minute: int = 600

    @classmethod
    def from_env(cls, env: os._Environ[str] | dict[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        required = {
            "table_name": "TABLE_NAME",
            "root_ca_key_id": "ROOT_CA_KEY_ID",
            "issuing_ca_key_id": "ISSUING_CA_KEY_ID",
            "key_wrap_key_id": "KEY_WRAP_KEY_ID",
            "hmac_key_id": "HMAC_KEY_ID",
            "pki_base_url": "PKI_BASE_URL",
            "certificate_policy_oid": "CERTIFICATE_POLICY_OID",
            "content_mac_key_id": "CONTENT_MAC_KEY_ID",
        }
        missing = [name for name in required.values() if not env.get(name)]
        if missing:
            raise ConfigurationError(f"missing environment variables: {', '.join(missing)}")
        values: dict[str, object] = {field: env[name] for field, name in required.items()}
        optional_ints = {
            "enrollment_ttl_seconds": "ENROLLMENT_TTL_SECONDS",
            "enrollment_max_attempts": "ENROLLMENT_MAX_ATTEMPTS",
            "sms_per_phone_per_hour": "SMS_PER_PHONE_PER_HOUR",
            "sms_per_institution_per_hour": "SMS_PER_INSTITUTION_PER_HOUR",
            "max_body_bytes": "MAX_BODY_BYTES",
            "session_ttl_seconds": "SESSION_TTL_SECONDS",
            "ui_ticket_ttl_seconds": "UI_TICKET_TTL_SECONDS",
            "window_ttl_seconds": "WINDOW_TTL_SECONDS",
            "ui_tickets_per_institution_per_minute": "UI_TICKETS_PER_INSTITUTION_PER_MINUTE",
            "timestamps_per_institution_per_minute": "TIMESTAMPS_PER_INSTITUTION_PER_MINUTE",
        }
        for field, name in optional_ints.items():
            if env.get(name):
                try:
                    values[field] = int(env[name])
                except ValueError as e:
                    raise ConfigurationError(f"{name} must be an integer") from e
        optional_strings = {
            "renewal_queue_url": "RENEWAL_QUEUE_URL",
            "purge_queue_url": "PURGE_QUEUE_URL",
            "metrics_namespace": "METRICS_NAMESPACE",
            "sms_region": "SMS_REGION",
            "tsa_key_id": "TSA_KEY_ID",
            "tsa_policy_oid": "TSA_POLICY_OID",
        }
        for field, name in optional_strings.items():
            if env.get(name):
                values[field] = env[name]
        values["pki_base_url"] = str(values["pki_base_url"]).rstrip("/")
        return cls(**values)  # type: ignore[arg-type]  # values: str|int per field, checked above


# The variables Settings.from_env requires (the operator CLI says which are missing).
REQUIRED_VARIABLES = (
    "TABLE_NAME",
    "ROOT_CA_KEY_ID",
    "ISSUING_CA_KEY_ID",
    "KEY_WRAP_KEY_ID",
    "HMAC_KEY_ID",
    "PKI_BASE_URL",
    "CERTIFICATE_POLICY_OID",
    "CONTENT_MAC_KEY_ID",
)


def process_environment() -> dict[str, str]:
    """A copy of the environment, for the operator CLI (fincert.admin_target), which lays it over
    what it discovered (a local stack's state file, a deployed stack's outputs)."""
    return dict(os.environ)


@cache
def get_settings() -> Settings:
    return Settings.from_env()
