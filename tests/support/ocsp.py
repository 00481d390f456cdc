"""Revocation status as relying parties see it: OCSP requests, and the openssl CLI's verdict on
responses, in process (a served response) or over HTTP (`openssl ocsp -url`)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from tests.support.verifiers import pem_blocks

# CertIDs hash the CA's name and key with SHA-1 in what openssl and RFC 5019 clients send.
SHA1 = hashes.SHA1()  # noqa: S303


def leaf_of(issued: dict) -> x509.Certificate:
    return x509.load_pem_x509_certificate(issued["certificate_pem"].encode())


def ocsp_request(leaf: x509.Certificate, issuer: x509.Certificate, *, nonce: bytes | None = None, hash_=None):
    builder = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, hash_ or SHA1)
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def openssl(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60
    )


def ca_files(tmp_path: Path, ca, **certs: x509.Certificate) -> Path:
    """root.pem, issuing.pem and the given certificates as <name>.pem in tmp_path."""
    for name, cert in {"root": ca.root_certificate, "issuing": ca.issuing_certificate, **certs}.items():
        (tmp_path / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return tmp_path


def openssl_ocsp_status(
    tmp_path: Path, ca, leaf: x509.Certificate | None, response_der: bytes, *, serial: int | None = None
) -> str:
    """openssl's verdict on a served response: signature and delegation chain to the root, then
    the status line for `leaf` (the CertID openssl computes itself), or for a bare `serial`."""
    ca_files(tmp_path, ca, **({"leaf": leaf} if leaf is not None else {}))
    target = ["-cert", "leaf.pem"] if leaf is not None else ["-serial", str(serial)]
    (tmp_path / "response.der").write_bytes(response_der)
    result = openssl(
        tmp_path,
        "ocsp",
        "-respin",
        "response.der",
        "-CAfile",
        "root.pem",
        "-verify_other",
        "issuing.pem",
        "-no_nonce",
        "-issuer",
        "issuing.pem",
        *target,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Response verify OK" in result.stderr, result.stderr
    return result.stdout


def write_issued(directory: Path, issued: dict) -> x509.Certificate:
    """leaf.pem, issuing.pem and root.pem of an issuance response, in directory."""
    (directory / "leaf.pem").write_text(issued["certificate_pem"])
    issuing_pem, root_pem = pem_blocks(issued["chain_pem"])
    (directory / "issuing.pem").write_text(issuing_pem)
    (directory / "root.pem").write_text(root_pem)
    return leaf_of(issued)


def ocsp_status_over_http(directory: Path, url: str) -> list[str]:
    """`openssl ocsp -url` for the files write_issued wrote: the lines it prints."""
    # A nonce is sent and checked (openssl's default), the responder's delegation is checked
    # against the trusted root through the issuing CA.
    result = openssl(
        directory,
        "ocsp",
        "-url",
        url,
        "-issuer",
        "issuing.pem",
        "-cert",
        "leaf.pem",
        "-CAfile",
        "root.pem",
        "-verify_other",
        "issuing.pem",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Response verify OK" in result.stderr, result.stderr
    return [line.strip() for line in result.stdout.splitlines()]
