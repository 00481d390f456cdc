"""Every error code the service answers, as data: its HTTP status(es) and what it means.

docs/errors.md is generated from this table (`python -m fincert_local errors --write
docs/errors.md`), the OpenAPI document lists each operation's codes from it
(fincert.api.operation_errors), and tests/integration/test_error_codes.py reads the source for
every code raised (`code="..."` on an error, an error class's own code, the resolver's and API
Gateway's answers) and fails if one is missing here, has another status here than where it is
raised, or if an entry here is raised nowhere. Clients branch on `error.code` (CSC: `error`);
a code, once published, keeps its meaning."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    statuses: tuple[int, ...]
    meaning: str
    # "api": a client can get it; "admin": fincert-admin reports it; "internal": raised between
    # the service's own layers and translated before any answer (seeing it is a bug, answered 500).
    audience: str = "api"


def _api(*statuses: int, meaning: str) -> ErrorCode:
    return ErrorCode(statuses, meaning)


ERROR_CODES: dict[str, ErrorCode] = {
    # --- the request itself -------------------------------------------------------------------
    "malformed_json": _api(400, meaning="The body is not UTF-8 JSON, or not JSON the parser can read."),
    "body_not_object": _api(
        400, meaning="The body is JSON but not an object (every body of this API is one)."
    ),
    "validation_failed": _api(
        422,
        meaning="The body does not match the operation's schema (a missing field, a wrong type, an "
        "unknown field); `details` lists each problem by location, never echoing the value.",
    ),
    "unknown_parameter": _api(400, meaning="A query parameter the operation does not take."),
    "payload_too_large": _api(
        413, meaning="The body is over the limit (16 KiB; OCSP requests: their own limit)."
    ),
    "unsupported_media_type": _api(
        415, meaning="The body is not `application/json` (OCSP POST: not `application/ocsp-request`)."
    ),
    "malformed_body": _api(400, meaning="An OCSP request body marked base64 is not valid base64."),
    "route_not_found": _api(404, meaning="No such route."),
    "invalid_request": _api(400, meaning="The request is invalid (no more specific code applies)."),
    # --- credentials and who may call -----------------------------------------------------------
    "unauthorized": _api(
        401, meaning="No bearer token, or one the service does not know (API Gateway's authorizer answer)."
    ),
    "forbidden": _api(
        403, meaning="The token is valid but not allowed here (API Gateway's authorizer answer)."
    ),
    "session_expired": _api(401, meaning="The customer session expired or was ended; connect again."),
    "institution_key_required": _api(
        403, meaning="This operation takes the institution's API key, not a session."
    ),
    "customer_session_required": _api(
        403, meaning="This operation takes a customer session token, not an API key."
    ),
    "window_credential_required": _api(403, meaning="This operation takes the service window's credential."),
    "window_credential_not_accepted": _api(
        403, meaning="A window credential acts only on the window's own routes (`/v1/window/...`)."
    ),
    "scope_missing": _api(403, meaning="The institution was not granted the scope this operation needs."),
    "hosted_only_institution": _api(
        403,
        meaning="This institution's customers type PINs and SMS codes only in the service's window; "
        "its back end cannot send them.",
    ),
    # --- identity, SMS codes --------------------------------------------------------------------
    "name_invalid": _api(400, meaning="The name is empty, too long, or has characters other than letters."),
    "name_too_long": _api(
        400,
        meaning="The name as the certificate shows it is over 50 UTF-8 bytes (`details.max_bytes`); never shortened.",
    ),
    "phone_invalid": _api(400, meaning="Not a Korean mobile number (010-1234-5678 or +821012345678)."),
    "birth_date_invalid": _api(
        400, meaning="The birth date is not YYYYMMDD, not a calendar date, or out of range."
    ),
    "phone_unreachable": _api(400, meaning="SNS refused to text this number (opted out, undeliverable)."),
    "terms_not_accepted": _api(400, meaning="The customer did not accept the terms."),
    "sms_rate_limited": _api(
        429, meaning="Too many texts this hour for this phone or this institution (`Retry-After`)."
    ),
    "sms_code_invalid": _api(400, meaning="The SMS code is wrong (`details.remaining_attempts`)."),
    "enrollment_not_found": _api(404, meaning="No such enrollment (or another institution's)."),
    "enrollment_expired": _api(410, meaning="The enrollment's 5 minutes are over; start again."),
    "enrollment_locked": _api(410, meaning="Too many wrong SMS codes; start again."),
    "enrollment_closed": _api(
        410,
        meaning="The enrollment can no longer be confirmed or retried (its retry window or retries are spent).",
    ),
    "enrollment_in_progress": _api(
        409, meaning="A confirm of this enrollment is in flight; retry shortly (`Retry-After`)."
    ),
    "enrollment_confirmed": _api(
        409, meaning="The enrollment was confirmed by another request with another code or PIN."
    ),
    "enrollment_superseded": _api(409, meaning="The certificate this enrollment issued was replaced since."),
    "issuance_conflict": _api(
        409,
        meaning="Another issuance for the same person is committing; retry (`Retry-After` when it is in flight).",
    ),
    "serial_exhausted": _api(409, meaning="No free serial number could be allocated; retry."),
    "verification_not_found": _api(
        404, meaning="No such verification (or another institution's, or another purpose)."
    ),
    "verification_expired": _api(410, meaning="The verification's code expired; start again."),
    "verification_locked": _api(410, meaning="Too many wrong SMS codes; start again."),
    "verification_used": _api(410, meaning="The code was already used; start again."),
    # --- certificates and accounts --------------------------------------------------------------
    "account_not_found": _api(404, meaning="The session's account no longer exists (purged)."),
    "certificate_not_found": _api(
        404,
        meaning="This customer has no certificate usable here (none, revoked, or not registered with this institution).",
    ),
    "credential_not_found": _api(
        404, meaning="No such credential for this customer (a stale `credential_id`)."
    ),
    "credential_not_active": _api(
        403,
        409,
        meaning="403: the certificate is suspended or no longer active and cannot sign; 409: it cannot take the "
        "status change asked for.",
    ),
    "credential_expired": _api(410, meaning="The certificate expired; the customer reissues it."),
    "credential_not_suspended": _api(409, meaning="Only a suspended certificate can be restored."),
    "institution_not_registered": _api(
        403, meaning="The certificate is not registered with this institution (타기관 등록 first)."
    ),
    "reason_invalid": _api(400, meaning="Not a revocation reason a subscriber may give."),
    "reason_not_applicable": _api(
        400, meaning="A reason was given for a suspend or restore, which take none."
    ),
    "reverification_required": _api(
        403,
        meaning="Restoring a suspended certificate takes the institution's re-verification (SMS), not the PIN.",
    ),
    "status_changed": _api(
        409, meaning="Another status change or the PIN won a race; read the certificate and try again."
    ),
    "cursor_invalid": _api(400, meaning="The history cursor is not one this service returned."),
    # --- PIN ------------------------------------------------------------------------------------
    "pin_format": _api(400, meaning="The PIN is not exactly 6 ASCII digits (no attempt used)."),
    "pin_repeated_digits": _api(400, meaning="A new PIN repeats one digit."),
    "pin_sequential": _api(400, meaning="A new PIN is a run of consecutive digits (±1)."),
    "pin_birth_date": _api(400, meaning="A new PIN is the birth date (YYMMDD, MMDDYY or DDMMYY)."),
    "pin_phone_number": _api(400, meaning="A new PIN is 6 consecutive digits of the mobile number."),
    "pin_invalid": _api(400, meaning="The PIN is wrong (`details.remaining_attempts`)."),
    "pin_locked": _api(403, meaning="5 wrong PINs locked it, even for the right PIN, until a PIN reset."),
    "pin_attempt_in_flight": _api(
        409,
        meaning="All 5 PIN attempts are taken by attempts still being judged; retry after `Retry-After` "
        "seconds (no attempt was used). A lock is only ever reported after 5 wrong PINs were judged.",
    ),
    "pin_changed": _api(409, meaning="The PIN changed while this request used it; try again."),
    # --- devices --------------------------------------------------------------------------------
    "device_key_invalid": _api(
        400, meaning="`public_key` is not base64 DER of a P-256 SubjectPublicKeyInfo."
    ),
    "public_key_invalid": _api(400, meaning="The window's `public_key` is not base64."),
    "device_limit_reached": _api(409, meaning="The customer has 5 devices; remove one first."),
    "device_already_registered": _api(409, meaning="This key is already one of the customer's devices."),
    "device_not_found": _api(404, meaning="No such device for this customer."),
    "challenge_not_found": _api(404, meaning="No such device challenge."),
    "challenge_expired": _api(410, meaning="The challenge's 2 minutes are over."),
    "challenge_used": _api(410, meaning="The challenge was already answered."),
    "device_signature_invalid": _api(400, meaning="The device's signature is not base64 or does not verify."),
    "signature_invalid": _api(400, meaning="The window's signature is not base64."),
    # --- signing (CSC and FinCert) ----------------------------------------------------------------
    "otp_unsupported": _api(400, meaning="CSC `OTP` was given; this service authorizes with the PIN only."),
    "num_signatures_invalid": _api(
        400, meaning="`numSignatures` out of range, or not matching the distinct hashes."
    ),
    "hash_invalid": _api(
        400, meaning="A hash is not base64 of a 32-byte SHA-256 digest, or too many hashes."
    ),
    "hash_algo_required": _api(400, meaning="This `signAlgo` needs `hashAlgo`."),
    "hash_algo_unsupported": _api(400, meaning="`hashAlgo` is not SHA-256."),
    "sign_algo_unsupported": _api(400, meaning="`signAlgo` does not fit the credential's key."),
    "sign_algo_params_invalid": _api(
        400, meaning="`signAlgoParams` missing for RSASSA-PSS, or not SHA-256/MGF1-SHA-256."
    ),
    "sad_invalid": _api(
        400, meaning="The SAD is unknown, another credential's, or older than a status change."
    ),
    "sad_expired": _api(400, meaning="The SAD's 5 minutes are over; authorize again."),
    "sad_exhausted": _api(400, meaning="The SAD has no signatures left for these hashes."),
    "sad_hash_mismatch": _api(400, meaning="The SAD was authorized for other hashes."),
    "contents_count_invalid": _api(400, meaning="Not 1 to 10 contents."),
    "content_empty": _api(400, meaning="A content is empty."),
    "content_too_large": _api(
        400, meaning="A content is over 8192 bytes (`details.content`, `details.max_bytes`)."
    ),
    "contents_too_large": _api(400, meaning="The contents are over 16 KiB together."),
    "content_base64_invalid": _api(400, meaning="A base64 content is not standard base64."),
    "content_sha256_invalid": _api(
        400, meaning="A sha256 content is not 64 hex digits or base64 of 32 bytes."
    ),
    "hash_content_not_attachable": _api(400, meaning="A sha256 content cannot be signed as `cms_attached`."),
    "formats_invalid": _api(400, meaning="`formats` is empty or repeats a format."),
    "sign_type_invalid": _api(400, meaning="Not a sign-type name or FinCert's two-digit code."),
    # --- verifying a signature ------------------------------------------------------------------
    "malformed_timestamp": _api(
        400,
        meaning="The timestamp token (`timestamp_token`, or the CMS's signature-timestamp attribute) is not "
        "one RFC 3161 token in base64 DER.",
    ),
    "timestamp_conflict": _api(
        400, meaning="The CMS carries its own timestamp: send no `timestamp_token` beside it."
    ),
    "malformed_signature": _api(
        400, meaning="The signature is not base64, not DER CMS SignedData, or not exactly one signer."
    ),
    "signer_certificate_missing": _api(
        400, meaning="The SignedData does not carry its signer's certificate once."
    ),
    "format_mismatch": _api(
        400, meaning="`format` says attached and the SignedData is detached, or the reverse."
    ),
    "content_required": _api(400, meaning="A detached or raw signature needs the content (or its SHA-256)."),
    "certificate_required": _api(400, meaning="A raw signature needs `certificate_pem`."),
    "malformed_certificate": _api(
        400, meaning="`certificate_pem` is not a PEM or base64 DER X.509 certificate."
    ),
    "content_conflict": _api(400, meaning="More than one of `content`, `content_base64`, `content_sha256`."),
    # --- UI tickets and the window ----------------------------------------------------------------
    "ticket_rate_limited": _api(
        429, meaning="Too many UI tickets this minute for this institution (`Retry-After`)."
    ),
    "ticket_fields_invalid": _api(
        400, meaning="The ticket's fields do not fit its purpose (enrollment_id for issue, sign for sign)."
    ),
    "content_kind_invalid": _api(400, meaning="A window shows what it signs: text or bytes, not a hash."),
    "origin_not_registered": _api(400, meaning="The ticket's origin is not one the institution registered."),
    "ticket_not_found": _api(404, meaning="No such UI ticket (or another institution's)."),
    "ticket_invalid": _api(401, meaning="The ticket is not one this service minted."),
    "ticket_used": _api(409, meaning="The ticket was already redeemed."),
    "ticket_expired": _api(410, meaning="The ticket expired before the window redeemed it."),
    "origin_mismatch": _api(403, meaning="The page that opened the window is not the ticket's origin."),
    "window_closed": _api(
        401, 410, meaning="The window's flow has ended (401: its credential; 410: an action after the end)."
    ),
    "window_not_connected": _api(403, meaning="Connect the customer in this window first."),
    "window_purpose_mismatch": _api(403, meaning="The window was not opened for this action."),
    "connect_code_invalid": _api(400, meaning="The connect code is not this ticket's."),
    "connect_code_used": _api(410, meaning="The connect code was already exchanged."),
    "connect_code_expired": _api(410, meaning="The connect code expired."),
    # --- PKI ------------------------------------------------------------------------------------
    "crl_not_found": _api(404, meaning="No such CRL (not a live partition)."),
    # --- generic categories (sent when no more specific code applies) ----------------------------
    "not_found": _api(404, meaning="Not found."),
    "conflict": _api(409, meaning="The request conflicts with the current state."),
    "gone": _api(410, meaning="No longer available."),
    "rate_limited": _api(429, meaning="Too many requests (`Retry-After`)."),
    "timestamp_rate_limited": _api(
        429,
        meaning="The institution's time-stamp tokens for this minute are spent (each costs a KMS Sign); "
        "retry after `Retry-After` seconds.",
    ),
    # --- ours, not the client's -------------------------------------------------------------------
    "service_unavailable": _api(
        503,
        meaning="An AWS dependency failed or throttled, or the CA is not bootstrapped; nothing was changed, "
        "retrying after `Retry-After` seconds is safe.",
    ),
    "issuing_ca_expiring": _api(
        503,
        meaning="A certificate issued now would end after the issuing CA's certificate, so nothing is "
        "issued (checked before any SMS, KMS call or write) until the operator rolls the CA over; "
        "`Retry-After` is an hour.",
    ),
    "internal_error": _api(500, meaning="A bug; the log has its type and place, never the request's data."),
    "configuration_error": _api(
        500, meaning="The function's environment is incomplete (a deployment fault)."
    ),
    # --- fincert-admin ----------------------------------------------------------------------------
    "institution_id_invalid": ErrorCode(
        (400,), "An institution id is 3 to 32 lowercase letters, digits or dashes.", "admin"
    ),
    "origin_invalid": ErrorCode((400,), "An origin is `https://host[:port]`.", "admin"),
    "scope_invalid": ErrorCode((400,), "An unknown scope.", "admin"),
    "institution_exists": ErrorCode((409,), "The institution id is taken.", "admin"),
    "institution_not_found": ErrorCode((404,), "No institution has that id.", "admin"),
    "origin_not_found": ErrorCode((404,), "The institution has no such origin to remove.", "admin"),
    "origins_changed": ErrorCode(
        (409,),
        "Another operator changed the institution's origins meanwhile; run the command again.",
        "admin",
    ),
    "grace_period_invalid": ErrorCode(
        (400,), "An API key's grace period is 0 to 30 days (`--grace-hours`).", "admin"
    ),
    "no_stack": ErrorCode(
        (500,),
        "No stack to manage: no `--stack-name`, no complete environment, and no running local stack's "
        "state file (`make local` writes it).",
        "admin",
    ),
    "stack_not_found": ErrorCode((404,), "No CloudFormation stack of that name in the region.", "admin"),
    "stack_outputs_missing": ErrorCode(
        (500,), "The stack lacks an output (or resource) the CLI needs; the message names it.", "admin"
    ),
    # --- between the service's own layers -----------------------------------------------------------
    "pin_weak": ErrorCode(
        (400,), "The PIN-policy refusals' class; each refusal carries its own rule's code.", "internal"
    ),
    "condition_failed": ErrorCode((500,), "A DynamoDB condition lost; the domain translates it.", "internal"),
    "decryption_refused": ErrorCode(
        (500,), "KMS refused a ciphertext in its context; the domain translates it.", "internal"
    ),
    "enrollment_unavailable": ErrorCode(
        (500,), "An enrollment could not be claimed; the domain says why.", "internal"
    ),
    "verification_unavailable": ErrorCode(
        (500,), "A verification could not be claimed; the domain says why.", "internal"
    ),
    "ticket_unavailable": ErrorCode(
        (500,), "A UI ticket could not be redeemed; the domain says why.", "internal"
    ),
    "pin_slot_refused": ErrorCode(
        (500,), "No PIN attempt could be reserved; the domain says why.", "internal"
    ),
    "time_budget_exhausted": ErrorCode(
        (500,), "A job worker stopped before Lambda's time limit; SQS redelivers.", "internal"
    ),
    "renewal_conflict": ErrorCode(
        (409,), "A renewal could not be recorded; SQS redelivers the message.", "internal"
    ),
    "purge_conflict": ErrorCode(
        (409,), "An idle purge could not begin; SQS redelivers the message.", "internal"
    ),
}
