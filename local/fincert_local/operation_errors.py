"""The error codes each operation can answer, for the OpenAPI document (fincert.api.error_codes
says what each code means and its status).

Kept by hand, in groups a route shares with others, because which use case raises what is a
reading of the domain code, not something Python can list: a reviewer checks a new route's line
here as they check its handler. What cannot drift is checked: building the document fails if an
operation has no line here or names a code the table lacks, and tests/integration/
test_error_codes.py fails if an answerable code belongs to no operation."""

from __future__ import annotations

# Every JSON body route: what the gateway and the resolver refuse before a handler runs.
BODY = (
    "malformed_json",
    "body_not_object",
    "validation_failed",
    "payload_too_large",
    "unsupported_media_type",
)
PATH = ("validation_failed",)
_AUTHORIZER = ("unauthorized", "forbidden", "service_unavailable")
BANK = (*_AUTHORIZER, "institution_key_required", "window_credential_not_accepted", "scope_missing")
CUSTOMER = (
    *_AUTHORIZER,
    "session_expired",
    "customer_session_required",
    "window_credential_not_accepted",
    "account_not_found",
    "institution_not_registered",
)
WINDOW = (*_AUTHORIZER, "window_credential_required", "window_closed", "window_purpose_mismatch")
WINDOW_CUSTOMER = (*WINDOW, "window_not_connected", "account_not_found", "institution_not_registered")
IDENTITY = (
    "name_invalid",
    "phone_invalid",
    "birth_date_invalid",
    "phone_unreachable",
    "sms_rate_limited",
    "hosted_only_institution",
)
SMS_CODE = (
    "verification_not_found",
    "verification_expired",
    "verification_locked",
    "verification_used",
    "sms_code_invalid",
    "hosted_only_institution",
)
NEW_PIN = ("pin_format", "pin_repeated_digits", "pin_sequential", "pin_birth_date", "pin_phone_number")
PIN_USE = (
    "pin_format",
    "pin_invalid",
    "pin_locked",
    "pin_attempt_in_flight",
    "pin_changed",
    "hosted_only_institution",
    "certificate_not_found",
)
STATUS_CHANGE = (
    "reason_invalid",
    "reason_not_applicable",
    "certificate_not_found",
    "credential_not_active",
    "credential_not_suspended",
    "credential_expired",
    "status_changed",
)
CONFIRM_ENROLLMENT = (
    "sms_code_invalid",
    "enrollment_not_found",
    "enrollment_expired",
    "enrollment_locked",
    "enrollment_closed",
    "enrollment_in_progress",
    "enrollment_confirmed",
    "enrollment_superseded",
    "issuance_conflict",
    "serial_exhausted",
    "name_too_long",
    "hosted_only_institution",
    "issuing_ca_expiring",
)
# What a sign request may ask, judged before the PIN.
SIGN_REQUEST = (
    "contents_count_invalid",
    "content_empty",
    "content_too_large",
    "contents_too_large",
    "content_base64_invalid",
    "content_sha256_invalid",
    "hash_content_not_attachable",
    "formats_invalid",
    "sign_type_invalid",
)
SIGN_CREDENTIAL = ("credential_not_found", "credential_not_active", "credential_expired")
DEVICE_CHALLENGE = ("challenge_not_found", "challenge_expired", "challenge_used", "device_not_found")
REGISTER_DEVICE = ("device_key_invalid", "device_limit_reached", "device_already_registered")
HISTORY = ("unknown_parameter", "cursor_invalid")
PKI = ("service_unavailable",)

OPERATION_ERRORS: dict[str, tuple[str, ...]] = {
    # --- issuance (API key, scope enroll) ---------------------------------------------------
    "POST /v1/enrollments": (
        *BANK,
        *BODY,
        *IDENTITY,
        "name_too_long",
        "terms_not_accepted",
        "issuing_ca_expiring",
    ),
    "POST /v1/enrollments/{enrollment_id}/confirm": (*BANK, *BODY, *NEW_PIN, *CONFIRM_ENROLLMENT),
    # --- connection, re-verification (API key, scope connect) -------------------------------
    "POST /v1/connections": (*BANK, *BODY, *IDENTITY),
    "POST /v1/connections/{verification_id}/confirm": (*BANK, *BODY, *SMS_CODE, "certificate_not_found"),
    "POST /v1/device-connections": (*BANK, *BODY, "device_not_found"),
    "POST /v1/device-connections/{challenge_id}/confirm": (
        *BANK,
        *BODY,
        *DEVICE_CHALLENGE,
        "device_signature_invalid",
        "certificate_not_found",
    ),
    "POST /v1/pin-resets": (*BANK, *BODY, *IDENTITY),
    "POST /v1/pin-resets/{verification_id}/confirm": (
        *BANK,
        *BODY,
        *SMS_CODE,
        *NEW_PIN,
        "certificate_not_found",
    ),
    "POST /v1/status-changes": (*BANK, *BODY, *IDENTITY),
    "POST /v1/status-changes/{verification_id}/confirm": (*BANK, *BODY, *SMS_CODE, *STATUS_CHANGE),
    "POST /v1/signatures/verify": (
        *BANK,
        *BODY,
        "malformed_signature",
        "malformed_timestamp",
        "timestamp_conflict",
        "signer_certificate_missing",
        "format_mismatch",
        "content_required",
        "certificate_required",
        "malformed_certificate",
        "content_conflict",
        "content_base64_invalid",
        "content_sha256_invalid",
        "content_too_large",
    ),
    # --- UI tickets (API key) ---------------------------------------------------------------
    "POST /v1/ui-tickets": (
        *BANK,
        *BODY,
        "ticket_rate_limited",
        "ticket_fields_invalid",
        "content_kind_invalid",
        "origin_not_registered",
        "enrollment_not_found",
        "enrollment_closed",
        *SIGN_REQUEST,
    ),
    "GET /v1/ui-tickets/{ticket_id}": (*BANK, *PATH, "ticket_not_found"),
    "POST /v1/ui-tickets/{ticket_id}/session": (
        *BANK,
        *BODY,
        "ticket_not_found",
        "connect_code_invalid",
        "connect_code_used",
        "connect_code_expired",
    ),
    # --- the customer (session token) ---------------------------------------------------------
    "POST /v1/registrations": (*CUSTOMER, *BODY, *PIN_USE),
    "PUT /v1/pin": (*CUSTOMER, *BODY, *PIN_USE, *NEW_PIN),
    "POST /v1/devices": (*CUSTOMER, *BODY, *REGISTER_DEVICE),
    "GET /v1/devices": CUSTOMER,
    "DELETE /v1/devices/{device_id}": (*CUSTOMER, *PATH, "device_not_found"),
    "GET /v1/history": (*CUSTOMER, *PATH, *HISTORY),
    "POST /v1/signatures": (*CUSTOMER, *BODY, *SIGN_REQUEST, *SIGN_CREDENTIAL, *PIN_USE),
    # A DER TimeStampReq, not JSON: what RFC 3161 refuses is a 200 rejection reply, not a code.
    "POST /v1/timestamps": (
        *_AUTHORIZER,
        "session_expired",
        "window_credential_not_accepted",
        "payload_too_large",
        "unsupported_media_type",
        "malformed_body",
        "timestamp_rate_limited",
    ),
    "GET /v1/certificate": (*CUSTOMER, "certificate_not_found"),
    "POST /v1/certificate/status": (*CUSTOMER, *BODY, *PIN_USE, *STATUS_CHANGE, "reverification_required"),
    "DELETE /v1/sessions/current": CUSTOMER,
    # --- CSC API v1 -----------------------------------------------------------------------------
    "POST /csc/v1/info": BODY,
    "POST /csc/v1/credentials/list": (*CUSTOMER, *BODY),
    "POST /csc/v1/credentials/info": (*CUSTOMER, *BODY, "credential_not_found"),
    "POST /csc/v1/credentials/authorize": (
        *CUSTOMER,
        *BODY,
        *PIN_USE,
        *SIGN_CREDENTIAL,
        "num_signatures_invalid",
        "hash_invalid",
        "otp_unsupported",
    ),
    "POST /csc/v1/signatures/signHash": (
        *CUSTOMER,
        *BODY,
        *SIGN_CREDENTIAL,
        "sad_invalid",
        "sad_expired",
        "sad_exhausted",
        "sad_hash_mismatch",
        "hash_invalid",
        "hash_algo_required",
        "hash_algo_unsupported",
        "sign_algo_unsupported",
        "sign_algo_params_invalid",
    ),
    # --- the hosted window (window credential) ----------------------------------------------------
    "POST /v1/window/redeem": (
        *BODY,
        "ticket_invalid",
        "ticket_used",
        "ticket_expired",
        "origin_mismatch",
        "service_unavailable",
    ),
    "GET /v1/window": WINDOW,
    "POST /v1/window/cancel": WINDOW,
    "POST /v1/window/finish": WINDOW,
    "POST /v1/window/connections": (*WINDOW, *BODY, *IDENTITY),
    "POST /v1/window/connections/{verification_id}/confirm": (
        *WINDOW,
        *BODY,
        *SMS_CODE,
        "certificate_not_found",
    ),
    "POST /v1/window/device-connections": (*WINDOW, *BODY, "device_not_found"),
    "POST /v1/window/device-connections/{challenge_id}/confirm": (
        *WINDOW,
        *BODY,
        *DEVICE_CHALLENGE,
        "device_signature_invalid",
        "signature_invalid",
        "certificate_not_found",
    ),
    "POST /v1/window/issuance": (*WINDOW, *BODY, *NEW_PIN, *CONFIRM_ENROLLMENT, "terms_not_accepted"),
    "POST /v1/window/signatures": (*WINDOW_CUSTOMER, *BODY, *PIN_USE, *SIGN_CREDENTIAL),
    "POST /v1/window/connect-code": WINDOW_CUSTOMER,
    "POST /v1/window/devices": (*WINDOW_CUSTOMER, *BODY, "public_key_invalid", *REGISTER_DEVICE),
    "GET /v1/window/devices": WINDOW_CUSTOMER,
    "DELETE /v1/window/devices/{device_id}": (*WINDOW_CUSTOMER, *PATH, "device_not_found"),
    "POST /v1/window/registrations": (*WINDOW_CUSTOMER, *BODY, *PIN_USE),
    "GET /v1/window/certificate": (*WINDOW_CUSTOMER, "certificate_not_found"),
    "POST /v1/window/certificate/status": (
        *WINDOW_CUSTOMER,
        *BODY,
        *PIN_USE,
        *STATUS_CHANGE,
        "reverification_required",
    ),
    "PUT /v1/window/pin": (*WINDOW_CUSTOMER, *BODY, *PIN_USE, *NEW_PIN),
    "GET /v1/window/history": (*WINDOW_CUSTOMER, *PATH, *HISTORY),
    "POST /v1/window/pin-resets": (*WINDOW, *BODY, *IDENTITY),
    "POST /v1/window/pin-resets/{verification_id}/confirm": (
        *WINDOW,
        *BODY,
        *SMS_CODE,
        *NEW_PIN,
        "certificate_not_found",
    ),
    "POST /v1/window/status-changes": (*WINDOW, *BODY, *IDENTITY),
    "POST /v1/window/status-changes/{verification_id}/confirm": (*WINDOW, *BODY, *SMS_CODE, *STATUS_CHANGE),
    # --- public: PKI, health, the window's files ----------------------------------------------------
    "GET /pki/root-ca.crt": PKI,
    "GET /pki/issuing-ca.crt": PKI,
    "GET /pki/chain.pem": PKI,
    "GET /pki/root.crl": PKI,
    "GET /pki/crl/{name}": (*PKI, "crl_not_found"),
    "POST /pki/ocsp": (*PKI, "payload_too_large", "unsupported_media_type", "malformed_body"),
    "GET /pki/ocsp/{request}": (*PKI, "payload_too_large"),
    "GET /v1/health": PKI,
    "GET /hosted/v1/{file}": ("not_found",),
    "GET /sdk/v1/{file}": ("not_found",),
}


def operation_errors(method: str, path: str) -> tuple[str, ...]:
    """The operation's codes, each once, in the order given."""
    return tuple(dict.fromkeys(OPERATION_ERRORS[f"{method.upper()} {path}"]))
