"""Example bodies for the OpenAPI document, one per request and answer schema, by schema name.

build_document puts each on every operation whose request body or success answer is that schema
(and an example error body per error code the operation lists). The people, keys and tokens are
made up; tests/integration/test_openapi.py validates every example against its schema, so an
example that drifts from the model fails the build instead of misleading a reader."""

from __future__ import annotations

from typing import Any

_AT = "2026-11-30T03:40:00Z"
_IN_5_MIN = "2026-11-30T03:45:00Z"
_NOT_AFTER = "2029-11-30T03:40:00Z"
_CREDENTIAL = "cred_8FJ2kQ0xTqzq3mN"
_SERIAL = "5f3a9c2e8b7d41a6"
_PEM = "-----BEGIN CERTIFICATE-----\nMIIDXTCCAkWgAwIBAgIIXzqcLot9QaYwDQYJKoZIhvcNAQELBQAw...\n-----END CERTIFICATE-----\n"
_CHAIN = _PEM + _PEM
_IDENTITY = {"name": "홍길동", "phone": "010-1234-5678", "birth_date": "19900101"}
_CERTIFICATE_STATUS = {
    "credential_id": _CREDENTIAL,
    "serial_number": _SERIAL,
    "status": "valid",
    "key_algorithm": "RSA_2048",
    "auto_renew": True,
    "not_before": _AT,
    "not_after": _NOT_AFTER,
}
_HASH_B64 = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
_FLOW = {
    "ticket_id": "tkt_Q2m9xWc1",
    "purpose": "sign",
    "status": "open",
    "institution_id": "demo-bank",
    "institution_name": "Demo Bank",
    "origin": "https://bank.example",
    "expires_at": "2026-11-30T03:50:00Z",
    "connected": True,
    "certificate": {
        "credential_id": _CREDENTIAL,
        "serial_number": _SERIAL,
        "subject": "CN=홍길동()0012345678901234,OU=personal,O=fincert,C=KR",
        "status": "valid",
        "not_after": _NOT_AFTER,
    },
    "sign": {
        "sign_type": "transfer",
        "sign_type_code": "02",
        "formats": ["cms_attached"],
        "contents": [
            {
                "kind": "text",
                "text": "이체 100,000원 → 국민 123-456-789",
                "name": None,
                "bytes": 41,
                "sha256": "6f1ed002ab5595859014ebf0951522d9f8ee4d1a0d2c5d8b5c26e2a5f7fe3b1a",
            }
        ],
    },
}

EXAMPLES: dict[str, dict[str, Any]] = {
    # --- requests ---------------------------------------------------------------------------
    "EnrollmentStartRequest": _IDENTITY
    | {"terms_accepted": True, "auto_renew": True, "key_algorithm": "RSA_2048"},
    "EnrollmentConfirmRequest": {"sms_code": "482913", "pin": "135790"},
    "IdentityRequest": _IDENTITY,
    "SmsCodeRequest": {"sms_code": "482913"},
    "DeviceConnectionRequest": {"device_handle": "fcd.acct_7Hq2LmX0.dev_Zp4k9Qe1"},
    "DeviceSignatureRequest": {"signature": "MEUCIQDx0aY8o3pXn9c0FQk5u3l0nJ6wC1yq9KpQ2mRkz8xJjQIgY1f7..."},
    "PinResetConfirmRequest": {"sms_code": "482913", "new_pin": "246813"},
    "StatusChangeConfirmRequest": {"sms_code": "482913", "action": "revoke", "reason": "keyCompromise"},
    "StatusChangeRequest": {"action": "suspend", "pin": "135790"},
    "PinRequest": {"pin": "135790"},
    "PinChangeRequest": {"pin": "135790", "new_pin": "246813"},
    "DeviceRegisterRequest": {
        "name": "내 노트북",
        "public_key": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE7kX1cQ2vS0y8bq3q1T9nQmJ0kYp2x...",
    },
    "SignContentsRequest": {
        "contents": [{"text": "이체 100,000원 → 국민 123-456-789"}, {"sha256": _HASH_B64}],
        "sign_type": "transfer",
        "formats": ["cms_detached"],
        "pin": "135790",
    },
    "VerifySignatureRequest": {
        "signature": "MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwGggCSABC...",
        "format": "cms_attached",
        "content": "이체 100,000원 → 국민 123-456-789",
    },
    "TicketRequest": {
        "purpose": "sign",
        "origin": "https://bank.example",
        "sign": {
            "sign_type": "transfer",
            "formats": ["cms_attached"],
            "contents": [{"text": "이체 100,000원 → 국민 123-456-789"}],
        },
    },
    "ConnectCodeRequest": {"code": "cc_5Jm2pQx8Lw0r"},
    "RedeemRequest": {"ticket": "fct.tkt_Q2m9xWc1.4hV0bq8y2Zr7xWmN", "opener_origin": "https://bank.example"},
    "WindowIssueRequest": {"sms_code": "482913", "pin": "135790", "terms_accepted": True, "auto_renew": True},
    "InfoRequest": {"lang": "ko-KR"},
    "CredentialsListRequest": {"maxResults": 10},
    "CredentialsInfoRequest": {
        "credentialID": _CREDENTIAL,
        "certificates": "chain",
        "certInfo": True,
        "authInfo": True,
    },
    "AuthorizeRequest": {
        "credentialID": _CREDENTIAL,
        "numSignatures": 1,
        "hash": [_HASH_B64],
        "PIN": "135790",
    },
    "SignHashRequest": {
        "credentialID": _CREDENTIAL,
        "SAD": "sad_Vb8n2Lq0.Ys3kT9xPz1mC",
        "hash": [_HASH_B64],
        "hashAlgo": "2.16.840.1.101.3.4.2.1",
        "signAlgo": "1.2.840.113549.1.1.11",
    },
    # --- answers ----------------------------------------------------------------------------
    "EnrollmentStartResponse": {
        "enrollment_id": "enr_3kQ9mZt1Xw",
        "expires_at": _IN_5_MIN,
        "attempts_allowed": 5,
    },
    "CertificateResponse": _CERTIFICATE_STATUS | {"certificate_pem": _PEM, "chain_pem": _CHAIN},
    "VerificationStartedResponse": {
        "verification_id": "ver_Lm4q8Rz2",
        "expires_at": _IN_5_MIN,
        "attempts_allowed": 5,
    },
    "SessionResponse": {
        "session_token": "fcs.acct_7Hq2LmX0.ses_Zk2p9.Xh7Vq3mR0tYw8LcN",
        "expires_at": "2026-11-30T03:55:00Z",
        "institution_registered": True,
    },
    "DeviceChallengeResponse": {
        "challenge_id": "chl_Wq3z8Kp1",
        "challenge": "3q2+7wAAAAB0ZXN0LWNoYWxsZW5nZS0zMi1ieXRlcw==",
        "expires_at": "2026-11-30T03:42:00Z",
    },
    "CertificateStatusResponse": _CERTIFICATE_STATUS | {"status": "suspended"},
    "DeviceRegisteredResponse": {
        "device_id": "dev_Zp4k9Qe1",
        "name": "내 노트북",
        "created_at": _AT,
        "last_used_at": None,
        "device_handle": "fcd.acct_7Hq2LmX0.dev_Zp4k9Qe1",
    },
    "DeviceListResponse": {
        "devices": [
            {"device_id": "dev_Zp4k9Qe1", "name": "내 노트북", "created_at": _AT, "last_used_at": _AT}
        ]
    },
    "HistoryPageResponse": {
        "entries": [
            {
                "event": "signed",
                "at": _AT,
                "institution_id": "demo-bank",
                "credential_id": _CREDENTIAL,
                "detail": {"sign_type": "transfer", "sign_type_code": "02", "contents": "1"},
            },
            {
                "event": "connected",
                "at": "2026-11-30T03:38:00Z",
                "institution_id": "demo-bank",
                "credential_id": None,
                "detail": None,
            },
        ],
        "next_cursor": "eyJzayI6IkhJU1QjMjAyNi0xMS0zMFQwMzozODowMFoifQ",
    },
    "SignContentsResponse": {
        "credential_id": _CREDENTIAL,
        "sign_type": "transfer",
        "sign_type_code": "02",
        "formats": ["cms_detached"],
        "contents": [
            {
                "content_sha256": "6f1ed002ab5595859014ebf0951522d9f8ee4d1a0d2c5d8b5c26e2a5f7fe3b1a",
                "signatures": [
                    {
                        "format": "cms_detached",
                        "signature": "MIAGCSqGSIb3DQEHAqCAMIACAQEx...",
                        "timestamp_token": None,
                        "ocsp_response": None,
                    }
                ],
            },
            {
                "content_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                "signatures": [
                    {
                        "format": "cms_detached",
                        "signature": "MIAGCSqGSIb3DQEHAqCAMIACAQEx...",
                        "timestamp_token": None,
                        "ocsp_response": None,
                    }
                ],
            },
        ],
        "certificate_pem": _PEM,
        "chain_pem": _CHAIN,
    },
    "VerifySignatureResponse": {
        "valid": True,
        "signature_valid": True,
        "chain_valid": True,
        "certificate_status": "good",
        "reasons": [],
        "serial": _SERIAL,
        "not_before": _AT,
        "not_after": _NOT_AFTER,
        "signing_time": _AT,
        "revoked_at": None,
        "revocation_reason": None,
        "checked_at": "2026-11-30T03:41:00Z",
        "valid_at": _AT,
        "timestamp_serial": "5f0e3c2a9b17d4e6",
    },
    "TicketResponse": {
        "ticket_id": "tkt_Q2m9xWc1",
        "ticket": "fct.tkt_Q2m9xWc1.4hV0bq8y2Zr7xWmN",
        "purpose": "sign",
        "origin": "https://bank.example",
        "expires_at": "2026-11-30T03:42:00Z",
    },
    "TicketStatusResponse": {
        "ticket_id": "tkt_Q2m9xWc1",
        "purpose": "sign",
        "status": "completed",
        "outcome": {"credential_id": _CREDENTIAL, "signed": 1},
    },
    "ConnectCodeResponse": {
        "ticket_id": "tkt_Q2m9xWc1",
        "code": "cc_5Jm2pQx8Lw0r",
        "expires_at": "2026-11-30T03:42:00Z",
    },
    "WindowFlowResponse": _FLOW,
    "RedeemResponse": {"window_token": "fcw.tkt_Q2m9xWc1.Pq7Zs0Lm3nXv", "flow": _FLOW},
    "WindowIssuedResponse": {
        "credential_id": _CREDENTIAL,
        "serial_number": _SERIAL,
        "certificate_pem": _PEM,
        "not_before": _AT,
        "not_after": _NOT_AFTER,
        "auto_renew": True,
    },
    "InfoResponse": {
        "specs": "1.0.4.0",
        "name": "fincert-cloud",
        "logo": "https://fincert.example/logo.png",
        "region": "KR",
        "lang": "ko-KR",
        "description": "Cloud-held financial certificates",
        "authType": ["basic"],
        "methods": ["credentials/list", "credentials/info", "credentials/authorize", "signatures/signHash"],
        "x-fincert-tsa-url": "https://api.fincert.example/v1/timestamps",
    },
    "CredentialsListResponse": {"credentialIDs": [_CREDENTIAL]},
    "CredentialsInfoResponse": {
        "key": {"status": "enabled", "algo": ["1.2.840.113549.1.1.1"], "len": 2048},
        "cert": {
            "status": "valid",
            "certificates": ["MIIDXTCCAkWgAwIBAgIIXzqcLot9QaYw...", "MIIDQzCCAiugAwIBAgIBAjAN..."],
            "issuerDN": "CN=fincert Issuing CA,O=fincert,C=KR",
            "serialNumber": _SERIAL,
            "subjectDN": "CN=홍길동()0012345678901234,OU=personal,O=fincert,C=KR",
            "validFrom": "20261130034000Z",
            "validTo": "20291130034000Z",
        },
        "authMode": "explicit",
        "PIN": {"presence": "true", "format": "N", "label": "PIN", "description": "금융인증서 6자리 PIN"},
        "multisign": 10,
        "SCAL": "1",
    },
    "AuthorizeResponse": {"SAD": "sad_Vb8n2Lq0.Ys3kT9xPz1mC", "expiresIn": 300},
    "SignHashResponse": {"signatures": ["Jq3V0hXmZ2Lp8sYw...=="]},
}
