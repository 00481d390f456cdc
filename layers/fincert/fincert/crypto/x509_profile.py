"""The certificate profile: root CA, issuing CA and subscriber (financial certificate).

Choices that are not obvious, and what drove them (checked with pkilint's lint_pkix_cert and
lint_pkix_signer_signee_cert_chain, which must report no ERROR or WARNING):
- Certificate policy OIDs need arcs below 2**32. pkilint's DER decoder (pyasn1-fasder) rejects
  larger arcs with FATAL itu.invalid_asn1_syntax, and so do Botan, RustCrypto's const-oid and Go
  before 1.22. A 2.25.<UUID> OID (X.667, a 128-bit arc) therefore cannot pass the lint gate; an
  OID under an IANA Private Enterprise Number can. The tests use 1.3.6.1.4.1.32473, the PEN
  RFC 5612 reserves for documentation.
- The issuing CA asserts anyPolicy (or the given policy). pkilint is silent when it has no
  certificatePolicies at all, but RFC 5280 6.1.3 (e) then empties the valid_policy_tree, so a
  relying party that requires the leaf's policy (`openssl verify -explicit_policy -policy ...`)
  rejects every leaf. A specific policy on the CA that the leaf lacks is a chain-lint NOTICE
  (pkix.certificate_subject_has_policy_not_in_issuer).
- keyUsage is critical everywhere (RFC 5280 4.2.1.3 SHOULD; pkilint WARNING
  pkix.key_usage_extension_not_critical). Subscriber certificates carry digitalSignature and
  nonRepudiation (contentCommitment) only: keyCertSign there is an ERROR.
- Subscriber certificates carry a subjectKeyIdentifier (RFC 5280 4.2.1.2 SHOULD; pkilint WARNING
  pkix.certificate_skid_end_entity_missing), computed by method 1 (SHA-1 of the key; INFO).
- Subscriber certificates have no basicConstraints: RFC 5280 4.2.1.9 requires it only in CA
  certificates and pkilint reports nothing for its absence.
- The root carries an authorityKeyIdentifier equal to its own SKI. RFC 5280 4.2.1.1 lets a
  self-signed certificate omit it, but lint_pkix_signer_signee_cert_chain on (root, root), the
  check a relying party makes on a trust anchor, reports ERROR pkix.authority_key_id_extension_missing.
- AIA and CRL DP URLs need a host with a dot or an IP: pkilint reports `http://localhost/...` as
  ERROR pkix.invalid_uri_syntax (a port or http://127.0.0.1 is fine).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import (
    AuthorityInformationAccessOID,
    CertificatePoliciesOID,
    ExtendedKeyUsageOID,
    NameOID,
)

from fincert.crl_partitions import crl_partition
from fincert.crypto.keys import certificate_public_key
from fincert.crypto.subject_name import MAX_HOLDER_NAME_BYTES as MAX_HOLDER_NAME_BYTES  # re-exported
from fincert.crypto.subject_name import subscriber_common_name

CaPrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

SUBSCRIBER_VALIDITY_YEARS = 3
ROOT_CA_VALIDITY_YEARS = 20
ISSUING_CA_VALIDITY_YEARS = 10

ORGANIZATION = "fincert-cloud"
SUBSCRIBER_ORGANIZATIONAL_UNIT = "personal"

ROOT_CA_SUBJECT = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "KR"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
        x509.NameAttribute(NameOID.COMMON_NAME, "fincert-cloud Root CA"),
    ]
)
ISSUING_CA_SUBJECT = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "KR"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
        x509.NameAttribute(NameOID.COMMON_NAME, "fincert-cloud Issuing CA 1"),
    ]
)

# RFC 5280 4.1.2.2: serials are positive and at most 20 octets. 159 bits with the top one forced
# on gives a fixed 20-octet DER INTEGER (bit 159 stays 0, so no sign-padding octet) that is never
# 0, and 158 random bits, far above the CA/B Forum's 64.
_SERIAL_BITS = 159


def _serial(serial_number: int | None) -> int:
    if serial_number is None:
        return new_serial_number()
    # Positive and no more than 20 DER octets (RFC 5280 4.1.2.2).
    if serial_number <= 0 or serial_number.bit_length() > _SERIAL_BITS:
        raise ValueError("serial number must be positive and fit in 20 DER octets")
    return serial_number


def _utc_second(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("certificate times must be timezone-aware")
    # X.509 UTCTime/GeneralizedTime carry whole seconds (RFC 5280 4.1.2.5.1/4.1.2.5.2).
    return value.astimezone(UTC).replace(microsecond=0)


def _add_years(value: datetime, years: int) -> datetime:
    try:
        return value.replace(year=value.year + years)
    except ValueError:
        # Only Feb 29 fails: the anniversary in a common year is Feb 28, not Mar 1.
        return value.replace(year=value.year + years, day=28)


def _validity(not_before: datetime, years: int) -> tuple[datetime, datetime]:
    if years < 1:
        raise ValueError("validity must be at least one year")
    start = _utc_second(not_before)
    # RFC 5280 4.1.2.5: notAfter is inclusive, so the period ends one second before the anniversary.
    return start, _add_years(start, years) - timedelta(seconds=1)


def certificate_validity(not_before: datetime) -> tuple[datetime, datetime]:
    """(notBefore, notAfter) of a subscriber certificate: 3 calendar years minus one second."""
    return _validity(not_before, SUBSCRIBER_VALIDITY_YEARS)


def new_serial_number() -> int:
    return secrets.randbits(_SERIAL_BITS - 1) | (1 << (_SERIAL_BITS - 1))


@dataclass(frozen=True)
class PkiUrls:
    ocsp: str
    issuing_ca_cert: str
    root_ca_cert: str
    crl: str
    root_crl: str

    @classmethod
    def from_base(cls, base_url: str) -> PkiUrls:
        base = base_url.rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise ValueError("the PKI base URL must be http(s)")
        return cls(
            ocsp=f"{base}/pki/ocsp",
            issuing_ca_cert=f"{base}/pki/issuing-ca.crt",
            root_ca_cert=f"{base}/pki/root-ca.crt",
            crl=f"{base}/pki/crl",
            root_crl=f"{base}/pki/root.crl",
        )

    def crl_for(self, not_after: datetime) -> str:
        """The CRL distribution point of a certificate expiring at `not_after`: its partition's
        CRL (fincert.crl_partitions), whose issuingDistributionPoint names the same URL."""
        return self.crl_url(crl_partition(not_after))

    def crl_url(self, partition: str) -> str:
        return f"{self.crl}/{partition}.crl"


def subscriber_subject(holder_name: str, holder_suffix: str) -> x509.Name:
    """The subscriber DN. The suffix (unique per person) keeps namesakes' DNs apart; what the
    common name can hold is fincert.crypto.subject_name's (MAX_HOLDER_NAME_BYTES)."""
    common_name = subscriber_common_name(holder_name, holder_suffix)
    # cryptography encodes C as PrintableString and the rest as UTF8String (RFC 5280 4.1.2.6
    # wants UTF8String for new DirectoryString values), which carries Hangul as is.
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "KR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, SUBSCRIBER_ORGANIZATIONAL_UNIT),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(
    *,
    digital_signature: bool = False,
    content_commitment: bool = False,
    key_cert_sign: bool = False,
    crl_sign: bool = False,
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def authority_key_identifier(issuer_certificate: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    try:
        ski = issuer_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(certificate_public_key(issuer_certificate))
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _check_issuer(
    issuer_key: CaPrivateKey, issuer_certificate: x509.Certificate, not_after: datetime
) -> None:
    # Refuse before anything reaches KMS or the pre-signing record: a wrong key id would yield a
    # certificate no path validation accepts.
    if issuer_key.public_key() != issuer_certificate.public_key():
        raise ValueError("the CA key does not match the CA certificate's public key")
    # RFC 5280 6.1.3 (a)(2) checks every certificate of the path against the current time, so a
    # certificate outliving its issuer would stop validating early: roll the CA over instead.
    if not_after > issuer_certificate.not_valid_after_utc:
        raise ValueError("the certificate would outlive its issuing CA certificate")


def _sign(
    builder: x509.CertificateBuilder, key: CaPrivateKey, issuer_certificate: x509.Certificate | None
) -> x509.Certificate:
    """`issuer_certificate` None means self-signed."""
    # SHA-256 with the CA key's own scheme: sha256WithRSAEncryption (PKCS#1 v1.5) for RSA,
    # ecdsa-with-SHA256 for P-256, the pairs KMS signs with.
    certificate = builder.sign(private_key=key, algorithm=hashes.SHA256())
    # A KMS fault or a key id pointing at another key must not yield a certificate nobody can
    # validate; checking costs one local verification.
    try:
        certificate.verify_directly_issued_by(issuer_certificate or certificate)
    except (InvalidSignature, ValueError, TypeError) as e:
        raise ValueError("the CA key produced a signature that does not verify") from e
    return certificate


def _ca_builder(
    *,
    subject: x509.Name,
    issuer: x509.Name,
    public_key: PublicKey,
    serial_number: int,
    not_before: datetime,
    not_after: datetime,
    path_length: int | None,
    key_usage: x509.KeyUsage,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(serial_number)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(key_usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def build_root_ca_certificate(
    *,
    signing_key: CaPrivateKey,
    subject: x509.Name = ROOT_CA_SUBJECT,
    not_before: datetime,
    years: int = ROOT_CA_VALIDITY_YEARS,
    serial_number: int | None = None,
) -> x509.Certificate:
    start, end = _validity(not_before, years)
    public_key = signing_key.public_key()
    builder = _ca_builder(
        subject=subject,
        issuer=subject,
        public_key=public_key,
        serial_number=_serial(serial_number),
        not_before=start,
        not_after=end,
        path_length=None,
        key_usage=_key_usage(key_cert_sign=True, crl_sign=True),
    )
    # The root's AKI is its own SKI: see the module docstring.
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False
    )
    return _sign(builder, signing_key, None)


def build_issuing_ca_certificate(
    *,
    root_key: CaPrivateKey,
    root_certificate: x509.Certificate,
    issuing_public_key: PublicKey,
    subject: x509.Name = ISSUING_CA_SUBJECT,
    not_before: datetime,
    urls: PkiUrls,
    years: int = ISSUING_CA_VALIDITY_YEARS,
    serial_number: int | None = None,
    policy_oid: str | None = None,
) -> x509.Certificate:
    """`policy_oid` None asserts anyPolicy, so the CA can issue under any policy the service
    defines without a new CA certificate."""
    start, end = _validity(not_before, years)
    _check_issuer(root_key, root_certificate, end)
    policy = x509.ObjectIdentifier(policy_oid) if policy_oid else CertificatePoliciesOID.ANY_POLICY
    builder = (
        _ca_builder(
            subject=subject,
            issuer=root_certificate.subject,
            public_key=issuing_public_key,
            serial_number=_serial(serial_number),
            not_before=start,
            not_after=end,
            path_length=0,
            # digitalSignature lets the issuing CA sign OCSP responses itself (RFC 6960 4.2.2.2).
            key_usage=_key_usage(digital_signature=True, key_cert_sign=True, crl_sign=True),
        )
        .add_extension(authority_key_identifier(root_certificate), critical=False)
        .add_extension(x509.CertificatePolicies([x509.PolicyInformation(policy, None)]), critical=False)
        .add_extension(_crl_distribution_points(urls.root_crl), critical=False)
        .add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.CA_ISSUERS,
                        x509.UniformResourceIdentifier(urls.root_ca_cert),
                    )
                ]
            ),
            critical=False,
        )
    )
    return _sign(builder, root_key, root_certificate)


def _crl_distribution_points(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints(
        [
            x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(url)],
                relative_name=None,
                reasons=None,
                crl_issuer=None,
            )
        ]
    )


def build_subscriber_certificate(
    *,
    ca_key: CaPrivateKey,
    ca_certificate: x509.Certificate,
    subscriber_public_key: PublicKey,
    serial_number: int,
    holder_name: str,
    holder_suffix: str,
    not_before: datetime,
    urls: PkiUrls,
    policy_oid: str,
) -> x509.Certificate:
    subject = subscriber_subject(holder_name, holder_suffix)
    policy = x509.ObjectIdentifier(policy_oid)
    start, end = certificate_validity(not_before)
    _check_issuer(ca_key, ca_certificate, end)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_certificate.subject)
        .public_key(subscriber_public_key)
        .serial_number(_serial(serial_number))
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            _key_usage(digital_signature=True, content_commitment=True),
            critical=True,
        )
        .add_extension(x509.CertificatePolicies([x509.PolicyInformation(policy, None)]), critical=False)
        .add_extension(authority_key_identifier(ca_certificate), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(subscriber_public_key), critical=False)
        .add_extension(_issued_certificate_aia(urls), critical=False)
        .add_extension(_crl_distribution_points(urls.crl_for(end)), critical=False)
    )
    return _sign(builder, ca_key, ca_certificate)


def _issued_certificate_aia(urls: PkiUrls) -> x509.AuthorityInformationAccess:
    """Where a relying party asks about a certificate the issuing CA signed: its OCSP responder
    and the issuing CA's certificate (RFC 5280 4.2.2.1)."""
    return x509.AuthorityInformationAccess(
        [
            x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(urls.ocsp)
            ),
            x509.AccessDescription(
                AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(urls.issuing_ca_cert)
            ),
        ]
    )


# --- the delegated OCSP responder (RFC 6960 4.2.2.2) -----------------------------------------

OCSP_RESPONDER_SUBJECT = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "KR"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
        x509.NameAttribute(NameOID.COMMON_NAME, "fincert-cloud OCSP Responder"),
    ]
)
# Short on purpose: the certificate carries id-pkix-ocsp-nocheck, so nothing can revoke it; its
# validity is how long a leaked responder key could lie (RFC 6960 4.2.2.2.1). Renewed well
# before the end (fincert.domain.revocation_status.RESPONDER_RENEW_BEFORE).
OCSP_RESPONDER_VALIDITY = timedelta(days=30)


def build_ocsp_responder_certificate(
    *,
    ca_key: CaPrivateKey,
    ca_certificate: x509.Certificate,
    responder_public_key: PublicKey,
    not_before: datetime,
    validity: timedelta = OCSP_RESPONDER_VALIDITY,
    serial_number: int | None = None,
) -> x509.Certificate:
    """A delegated OCSP signing certificate issued by the issuing CA: keyUsage digitalSignature,
    extendedKeyUsage id-kp-OCSPSigning (what makes clients accept it as the CA's responder) and
    id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1: clients do not check its own status, so it needs
    no AIA or CRL distribution point)."""
    start = _utc_second(not_before)
    end = start + validity
    _check_issuer(ca_key, ca_certificate, end)
    builder = (
        x509.CertificateBuilder()
        .subject_name(OCSP_RESPONDER_SUBJECT)
        .issuer_name(ca_certificate.subject)
        .public_key(responder_public_key)
        .serial_number(_serial(serial_number))
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
        .add_extension(x509.OCSPNoCheck(), critical=False)
        .add_extension(authority_key_identifier(ca_certificate), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(responder_public_key), critical=False)
    )
    return _sign(builder, ca_key, ca_certificate)


# --- the time-stamping authority (RFC 3161 2.3) ----------------------------------------------

TSA_SUBJECT = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "KR"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
        x509.NameAttribute(NameOID.COMMON_NAME, "fincert-cloud Time-Stamping Authority"),
    ]
)
# Tokens are checked against the TSA certificate's validity: five years of signing, then a new
# certificate (and, by policy, a new KMS key). Never past the issuing CA (_check_issuer).
TSA_VALIDITY_YEARS = 5


def tsa_validity(not_before: datetime, ca_certificate: x509.Certificate) -> tuple[datetime, datetime]:
    """(notBefore, notAfter) of a TSA certificate: TSA_VALIDITY_YEARS, cut at the issuing CA's end."""
    start, end = _validity(not_before, TSA_VALIDITY_YEARS)
    return start, min(end, ca_certificate.not_valid_after_utc)


def build_tsa_certificate(
    *,
    ca_key: CaPrivateKey,
    ca_certificate: x509.Certificate,
    tsa_public_key: PublicKey,
    serial_number: int,
    not_before: datetime,
    urls: PkiUrls,
    policy_oid: str,
) -> x509.Certificate:
    """The TSA's certificate, issued by the issuing CA: RFC 3161 2.3 asks for exactly one
    extendedKeyUsage, id-kp-timeStamping, marked critical; keyUsage digitalSignature only. It is
    revocable like a subscriber's (AIA OCSP, CRL DP: its SERIAL record is written at issuance),
    since a relying party judging a timestamp checks the TSA certificate's status too."""
    start, end = tsa_validity(not_before, ca_certificate)
    _check_issuer(ca_key, ca_certificate, end)
    builder = (
        x509.CertificateBuilder()
        .subject_name(TSA_SUBJECT)
        .issuer_name(ca_certificate.subject)
        .public_key(tsa_public_key)
        .serial_number(_serial(serial_number))
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(
            x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier(policy_oid), None)]),
            critical=False,
        )
        .add_extension(authority_key_identifier(ca_certificate), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(tsa_public_key), critical=False)
        .add_extension(_issued_certificate_aia(urls), critical=False)
        .add_extension(_crl_distribution_points(urls.crl_for(end)), critical=False)
    )
    return _sign(builder, ca_key, ca_certificate)
