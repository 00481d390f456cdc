"""`python -m fincert_local smoke --base-url URL`: is a deployment answering as it should?

Against any base URL (a deployed stack, the local one), with nothing but HTTP: what needs no SMS
always (the PKI chain, the CRL and OCSP at the URLs the CA certificates name, CSC info, the
authorizer's refusals); the issuance journey only with --journey, when the operator types the SMS
code sent to a phone they hold. Changes nothing without --journey; with it, one enrollment and
one certificate for the operator's own identity. docs/deploy.md#smoke-test.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import secrets
import sys
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID
from fincert.domain.access import SESSION_PREFIX
from fincert.domain.institutions import API_KEY_PREFIX

from fincert_local.state import DEFAULT_STATE

TIMEOUT_S = 30


class CheckFailed(Exception):
    """One check's finding, said in one line."""


@dataclass
class Journey:
    """The operator's own identity, for the issuance journey (--journey)."""

    name: str
    phone: str  # 010XXXXXXXX
    birth_date: str  # YYYYMMDD
    ask_code: Callable[[], str]
    ask_pin: Callable[[], str]


@dataclass
class Smoke:
    base_url: str
    pki_base_url: str
    api_key: str | None = None
    say: Callable[[str], None] = print
    results: list[tuple[str, str | None]] = field(default_factory=list)
    # What earlier checks found, for later ones.
    root: x509.Certificate | None = None
    issuing: x509.Certificate | None = None

    def check(self, title: str, run: Callable[[], str | None]) -> None:
        try:
            detail = run()
        except (CheckFailed, requests.RequestException, ValueError) as e:
            self.results.append((title, str(e) or type(e).__name__))
            self.say(f"FAIL  {title}: {str(e) or type(e).__name__}")
            return
        self.results.append((title, None))
        self.say(f"ok    {title}" + (f": {detail}" if detail else ""))

    @property
    def failed(self) -> list[str]:
        return [title for title, problem in self.results if problem is not None]


# --- HTTP ---------------------------------------------------------------------------------------


def _get(url: str, **kw: Any) -> requests.Response:
    return requests.get(url, timeout=TIMEOUT_S, allow_redirects=False, **kw)


def _post(url: str, **kw: Any) -> requests.Response:
    return requests.post(url, timeout=TIMEOUT_S, allow_redirects=False, **kw)


def _expect(response: requests.Response, status: int, content_type: str | None = None) -> requests.Response:
    if response.status_code != status:
        raise CheckFailed(
            f"{response.request.method} {response.url}: HTTP {response.status_code}, expected {status}: "
            f"{response.text[:200]!r}"
        )
    if content_type is not None and response.headers.get("Content-Type", "").split(";")[0] != content_type:
        raise CheckFailed(
            f"{response.url}: Content-Type {response.headers.get('Content-Type')!r}, expected {content_type}"
        )
    return response


def _error_code(response: requests.Response) -> str | None:
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


# --- signatures ---------------------------------------------------------------------------------


def _verify(public_key: Any, signature: bytes, data: bytes, algorithm: hashes.HashAlgorithm | None) -> None:
    if algorithm is None:
        raise CheckFailed("no signature hash algorithm")
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(algorithm))
        else:
            raise CheckFailed(f"unexpected key type {type(public_key).__name__}")
    except InvalidSignature:
        raise CheckFailed("the OCSP response's signature does not verify") from None


def _signed_by(child: x509.Certificate, parent: x509.Certificate, what: str) -> None:
    try:
        child.verify_directly_issued_by(parent)
    except Exception as e:  # InvalidSignature, ValueError, TypeError: all the same finding here
        raise CheckFailed(f"{what} is not signed by {parent.subject.rfc4514_string()}: {e!r}") from None


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _crl_urls(certificate: x509.Certificate) -> list[str]:
    try:
        points = certificate.extensions.get_extension_for_oid(ExtensionOID.CRL_DISTRIBUTION_POINTS).value
    except x509.ExtensionNotFound:
        return []
    return [
        name.value
        for point in points
        for name in point.full_name or []
        if isinstance(name, x509.UniformResourceIdentifier)
    ]


def _ocsp_urls(certificate: x509.Certificate) -> list[str]:
    try:
        access = certificate.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_INFORMATION_ACCESS).value
    except x509.ExtensionNotFound:
        return []
    return [d.access_location.value for d in access if d.access_method == AuthorityInformationAccessOID.OCSP]


# --- the checks that need no SMS ----------------------------------------------------------------


def check_pki(smoke: Smoke) -> None:
    pki = smoke.pki_base_url

    def root() -> str:
        response = _expect(_get(f"{pki}/pki/root-ca.crt"), 200, "application/pkix-cert")
        certificate = x509.load_der_x509_certificate(response.content)
        _signed_by(certificate, certificate, "the root CA certificate")
        if not _is_ca(certificate):
            raise CheckFailed("the root certificate is not a CA")
        smoke.root = certificate
        return certificate.subject.rfc4514_string()

    def issuing() -> str:
        if smoke.root is None:
            raise CheckFailed("no root CA certificate to check it against")
        response = _expect(_get(f"{pki}/pki/issuing-ca.crt"), 200, "application/pkix-cert")
        certificate = x509.load_der_x509_certificate(response.content)
        _signed_by(certificate, smoke.root, "the issuing CA certificate")
        if not _is_ca(certificate):
            raise CheckFailed("the issuing certificate is not a CA")
        smoke.issuing = certificate
        return (
            f"{certificate.subject.rfc4514_string()}, valid until {certificate.not_valid_after_utc:%Y-%m-%d}"
        )

    def chain() -> None:
        response = _expect(_get(f"{pki}/pki/chain.pem"), 200)
        served = x509.load_pem_x509_certificates(response.content)
        if served != [smoke.issuing, smoke.root]:
            raise CheckFailed("chain.pem is not the issuing CA then the root served above")

    def root_crl() -> str:
        if smoke.issuing is None or smoke.root is None:
            raise CheckFailed("no CA certificates to follow")
        # The URL the issuing CA certificate names: the one relying parties will fetch, so this
        # also checks that PkiBaseUrl reaches this deployment over plain http.
        urls = _crl_urls(smoke.issuing)
        if not urls:
            raise CheckFailed("the issuing CA certificate names no CRL")
        response = _expect(_get(urls[0]), 200, "application/pkix-crl")
        crl = x509.load_der_x509_crl(response.content)
        if not crl.is_signature_valid(smoke.root.public_key()):
            raise CheckFailed(f"{urls[0]}: not signed by the root")
        next_update = crl.next_update_utc
        if next_update is None or next_update <= datetime.now(UTC):
            raise CheckFailed(f"{urls[0]}: nextUpdate {next_update} is past")
        return f"{urls[0]}, next update {next_update:%Y-%m-%d %H:%M} UTC"

    def ocsp_unknown() -> str:
        if smoke.issuing is None:
            raise CheckFailed("no issuing CA certificate to ask about")
        serial = secrets.randbits(159) | 1  # one this CA never issued
        status, url = _ocsp(smoke, serial, use_get=False)
        if status != ocsp.OCSPCertStatus.UNKNOWN:
            raise CheckFailed(f"a serial never issued is {status.name}, expected UNKNOWN")
        status, _ = _ocsp(smoke, serial, use_get=True)
        if status != ocsp.OCSPCertStatus.UNKNOWN:
            raise CheckFailed(f"GET: a serial never issued is {status.name}, expected UNKNOWN")
        return f"{url}: a serial never issued is unknown (POST and GET)"

    smoke.check("PKI: root CA certificate (self-signed CA)", root)
    smoke.check("PKI: issuing CA certificate (signed by the root)", issuing)
    smoke.check("PKI: chain.pem is the issuing CA then the root", chain)
    smoke.check("PKI: the root CRL at the issuing CA certificate's cRLDistributionPoints", root_crl)
    smoke.check("PKI: OCSP answers, signed, nonce echoed", ocsp_unknown)


def _ocsp(smoke: Smoke, serial: int, *, use_get: bool) -> tuple[ocsp.OCSPCertStatus, str]:
    """Asks about one serial; checks the answer is about it, echoes the nonce and is signed by
    the issuing CA or a responder it certified. Returns the status and the responder's URL."""
    issuing = smoke.issuing
    if issuing is None:
        raise CheckFailed("no issuing CA certificate to ask about")
    url = f"{smoke.pki_base_url}/pki/ocsp"
    name_hash = hashes.Hash(hashes.SHA1())  # noqa: S303 - RFC 6960 CertID, what clients send
    name_hash.update(issuing.subject.public_bytes())
    key_hash = x509.SubjectKeyIdentifier.from_public_key(issuing.public_key()).digest  # SHA-1 of the key bits
    nonce = secrets.token_bytes(16)
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(name_hash.finalize(), key_hash, serial, hashes.SHA1())  # noqa: S303
        .add_extension(x509.OCSPNonce(nonce), critical=False)
        .build()
    )
    der = request.public_bytes(Encoding.DER)
    if use_get:
        encoded = urllib.parse.quote(base64.b64encode(der).decode(), safe="")
        response = _get(f"{url}/{encoded}")
    else:
        response = _post(url, data=der, headers={"Content-Type": "application/ocsp-request"})
    _expect(response, 200, "application/ocsp-response")
    answer = ocsp.load_der_ocsp_response(response.content)
    if answer.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise CheckFailed(f"{url}: {answer.response_status.name}")
    if answer.serial_number != serial:
        raise CheckFailed(f"{url}: answered about serial {answer.serial_number:x}, asked {serial:x}")
    try:
        echoed = answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    except x509.ExtensionNotFound:
        echoed = None
    if echoed != nonce:
        raise CheckFailed(f"{url}: the nonce was not echoed")
    # Signed by a delegated responder the issuing CA certified, or by the issuing CA itself.
    signer = next(iter(answer.certificates), issuing)
    if signer is not issuing:
        _signed_by(signer, issuing, "the OCSP responder certificate")
    _verify(signer.public_key(), answer.signature, answer.tbs_response_bytes, answer.signature_hash_algorithm)
    return answer.certificate_status, url


def check_api(smoke: Smoke) -> None:
    base = smoke.base_url

    def csc_info() -> str:
        info = _expect(_post(f"{base}/csc/v1/info", json={}), 200).json()
        if "signatures/signHash" not in info.get("methods", []):
            raise CheckFailed(f"methods {info.get('methods')} lack signatures/signHash")
        return f"{info.get('name')} (CSC {info.get('specs')})"

    def refused(method: str, path: str, token: str | None, body: Any = None) -> Callable[[], str]:
        def run() -> str:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = requests.request(
                method, f"{base}{path}", json=body, headers=headers, timeout=TIMEOUT_S
            )
            if response.status_code != 401 or _error_code(response) != "unauthorized":
                raise CheckFailed(
                    f"HTTP {response.status_code} {response.text[:200]!r}, expected 401 unauthorized"
                )
            return "401 unauthorized"

        return run

    smoke.check("CSC: POST /csc/v1/info (public)", csc_info)
    smoke.check("authorizer: no credentials -> 401", refused("POST", "/v1/enrollments", None, {}))
    # Well-formed, so the authorizer looks them up (the table is reached) and finds nothing.
    unknown_key = f"{API_KEY_PREFIX}_smoke-{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"
    unknown_session = f"{SESSION_PREFIX}.acct_{secrets.token_urlsafe(16)}.ses_{secrets.token_urlsafe(16)}.{secrets.token_urlsafe(32)}"
    smoke.check("authorizer: an unknown API key -> 401", refused("POST", "/v1/enrollments", unknown_key, {}))
    smoke.check(
        "authorizer: an unknown session token -> 401", refused("GET", "/v1/certificate", unknown_session)
    )
    if smoke.api_key:
        api_key = smoke.api_key

        def accepted() -> str:
            # An empty body: past the authorizer, refused by validation, nothing started.
            response = _post(
                f"{base}/v1/enrollments", json={}, headers={"Authorization": f"Bearer {api_key}"}
            )
            if response.status_code in (401, 403) or not 400 <= response.status_code < 500:
                raise CheckFailed(
                    f"HTTP {response.status_code} {response.text[:200]!r}, expected a validation error"
                )
            return f"HTTP {response.status_code} {_error_code(response)} (the key passed the authorizer; nothing started)"

        smoke.check("authorizer: the API key is accepted", accepted)


# --- the journey, with the operator's phone ------------------------------------------------------


def check_journey(smoke: Smoke, journey: Journey) -> None:
    base, api_key = smoke.base_url, smoke.api_key
    auth = {"Authorization": f"Bearer {api_key}"}
    issued: dict[str, Any] = {}

    def enroll() -> str:
        body = {
            "name": journey.name,
            "phone": journey.phone,
            "birth_date": journey.birth_date,
            "terms_accepted": True,
            "auto_renew": False,
            "key_algorithm": "EC_P256",
        }
        started = _expect(_post(f"{base}/v1/enrollments", json=body, headers=auth), 201).json()
        code = journey.ask_code().strip()
        pin = journey.ask_pin()
        confirm = f"{base}/v1/enrollments/{started['enrollment_id']}/confirm"
        issued.update(_expect(_post(confirm, json={"sms_code": code, "pin": pin}, headers=auth), 201).json())
        return f"serial {issued['serial_number']}"

    def certificate() -> str:
        if not issued or smoke.issuing is None:
            raise CheckFailed("nothing issued, or no issuing CA certificate")
        cert = x509.load_pem_x509_certificate(issued["certificate_pem"].encode())
        _signed_by(cert, smoke.issuing, "the new certificate")
        for url in _ocsp_urls(cert) + _crl_urls(cert):
            if not url.startswith(smoke.pki_base_url + "/"):
                raise CheckFailed(f"the certificate names {url}, outside {smoke.pki_base_url}")
        status, _ = _ocsp(smoke, cert.serial_number, use_get=False)
        if status != ocsp.OCSPCertStatus.GOOD:
            raise CheckFailed(f"OCSP says {status.name}, expected GOOD")
        [crl_url] = _crl_urls(cert)
        crl = x509.load_der_x509_crl(_expect(_get(crl_url), 200, "application/pkix-crl").content)
        if not crl.is_signature_valid(smoke.issuing.public_key()):
            raise CheckFailed(f"{crl_url}: not signed by the issuing CA")
        if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
            raise CheckFailed(f"{crl_url} lists the new certificate")
        return f"chains to the issuing CA; OCSP good; not on {crl_url}"

    smoke.check("journey: enrollment, SMS code, PIN -> a certificate", enroll)
    smoke.check("journey: the certificate, its OCSP answer and its CRL", certificate)


# --- command line -------------------------------------------------------------------------------


def run_smoke(
    base_url: str,
    pki_base_url: str | None = None,
    api_key: str | None = None,
    journey: Journey | None = None,
    say: Callable[[str], None] = print,
) -> Smoke:
    smoke = Smoke(
        base_url=base_url.rstrip("/"),
        pki_base_url=(pki_base_url or base_url).rstrip("/"),
        api_key=api_key,
        say=say,
    )
    check_pki(smoke)
    check_api(smoke)
    if journey is not None:
        check_journey(smoke, journey)
    total = len(smoke.results)
    if smoke.failed:
        say(f"smoke test: {len(smoke.failed)} of {total} checks FAILED")
    else:
        say(f"smoke test: all {total} checks good")
    return smoke


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base-url", help="the API (the stack's ApiUrl output); default: the running `make local`"
    )
    parser.add_argument(
        "--pki-base-url", help="where /pki/ is served over http (PkiBaseUrl); default: --base-url"
    )
    parser.add_argument(
        "--api-key", help="an institution's API key (or FINCERT_API_KEY): check it is accepted"
    )
    parser.add_argument(
        "--journey",
        action="store_true",
        help="also issue a certificate to you: texts your phone, asks for the code and a new PIN",
    )
    parser.add_argument("--name", help="--journey: your name as your bank verified it")
    parser.add_argument("--phone", help="--journey: your mobile number, 010XXXXXXXX")
    parser.add_argument("--birth-date", help="--journey: YYYYMMDD")
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    import json
    import os

    base_url, pki_base_url, api_key = (
        args.base_url,
        args.pki_base_url,
        args.api_key or os.environ.get("FINCERT_API_KEY"),
    )
    if base_url is None:
        if not args.state.exists():
            print(
                "no --base-url and no running local stack (make local): say which deployment to test",
                file=sys.stderr,
            )
            return 2
        state = json.loads(args.state.read_text(encoding="utf-8"))
        base_url = state["gateway_url"]
        api_key = api_key or (state.get("bootstrap") or {}).get("api_key")
    journey = None
    if args.journey:
        missing = [
            flag
            for flag, value in (
                ("--api-key", api_key),
                ("--name", args.name),
                ("--phone", args.phone),
                ("--birth-date", args.birth_date),
            )
            if not value
        ]
        if missing:
            print(f"--journey needs {', '.join(missing)}", file=sys.stderr)
            return 2
        journey = Journey(
            name=args.name,
            phone=args.phone,
            birth_date=args.birth_date,
            ask_code=lambda: input("the 6-digit code texted to your phone: "),
            ask_pin=lambda: getpass.getpass("a new 6-digit PIN for this certificate: "),
        )
    smoke = run_smoke(base_url, pki_base_url, api_key, journey)
    return 1 if smoke.failed else 0
