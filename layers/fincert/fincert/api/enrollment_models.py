"""Request and response bodies of enrollment and issuance, apart from the other models: they
bring in the issuance code (key generation, the X.509 profile), which no other function needs
to import."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fincert.api.models import CertificateStatusResponse, StrictModel
from fincert.api.schema import Field
from fincert.crypto.keys import KeyAlgorithm
from fincert.domain.enrollment import EnrollmentRequest, EnrollmentStarted, IssuedCertificate


class EnrollmentStartRequest(StrictModel):
    name: str = Field(min_length=1, max_length=64, description="The customer's real name as verified")
    phone: str = Field(
        min_length=10, max_length=20, description="Korean mobile number, 010-1234-5678 or +821012345678"
    )
    birth_date: str = Field(min_length=8, max_length=8, description="YYYYMMDD")
    terms_accepted: bool = Field(description="The customer accepted the terms")
    auto_renew: bool = Field(default=False, description="Renew automatically before expiry")
    key_algorithm: Literal["RSA_2048", "EC_P256"] = "RSA_2048"

    def to_domain(self) -> EnrollmentRequest:
        return EnrollmentRequest(
            name=self.name,
            phone=self.phone,
            birth_date=self.birth_date,
            terms_accepted=self.terms_accepted,
            auto_renew=self.auto_renew,
            key_algorithm=KeyAlgorithm(self.key_algorithm),
        )


class EnrollmentStartResponse(StrictModel):
    enrollment_id: str
    expires_at: datetime
    attempts_allowed: int

    @classmethod
    def from_domain(cls, started: EnrollmentStarted) -> EnrollmentStartResponse:
        return cls(
            enrollment_id=started.enrollment_id,
            expires_at=started.expires_at,
            attempts_allowed=started.attempts_allowed,
        )


class EnrollmentConfirmRequest(StrictModel):
    sms_code: str = Field(pattern=r"^[0-9]{6}$", description="The 6-digit code sent by SMS")
    # Length only here: the PIN policy (digits, repeats, runs, birth date) answers with its own codes.
    pin: str = Field(min_length=1, max_length=16, description="The customer's new 6-digit PIN")


class CertificateResponse(CertificateStatusResponse):
    """The issued certificate: what GET /v1/certificate shows, with the certificate and its chain."""

    certificate_pem: str
    chain_pem: str = Field(description="PEM: the issuing CA's certificate, then the root CA's")

    @classmethod
    def from_domain(cls, issued: IssuedCertificate, now: datetime) -> CertificateResponse:
        return cls(
            **CertificateStatusResponse.of(issued.credential, now).model_dump(),
            certificate_pem=issued.certificate_pem,
            chain_pem=issued.chain_pem,
        )
