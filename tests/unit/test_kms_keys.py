import copy
import datetime as dt
import hashlib
import subprocess

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import NoDigestInfo, Prehashed
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID
from fincert.crypto.keys import public_key_from_der
from fincert.crypto.kms_keys import (
    KMS_RAW_MESSAGE_LIMIT,
    KmsEcPrivateKey,
    KmsKeyExportError,
    KmsRsaPrivateKey,
    kms_private_key,
)
from fincert.crypto.x509_profile import build_root_ca_certificate
from fincert.errors import DecryptionRefused, ServiceUnavailable

from tests.fakes.kms import FakeKeyManagement, FakeKmsError

PSS_KMS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)


@pytest.fixture(scope="module")
def kms():
    fake = FakeKeyManagement()
    fake.create_key("rsa", "RSA_2048")
    fake.create_key("ec", "ECC_NIST_P256")
    return fake


@pytest.fixture(autouse=True)
def _clear_calls(kms):
    kms.calls.clear()


def _key(kms, key_id, before_sign=None):
    return kms_private_key(kms, key_id, public_key_from_der(kms.public_key_der(key_id)), before_sign)


def test_factory_picks_the_class_from_the_public_key(kms):
    rsa_key = _key(kms, "rsa")
    ec_key = _key(kms, "ec")
    assert isinstance(rsa_key, KmsRsaPrivateKey)
    assert isinstance(rsa_key, rsa.RSAPrivateKey)
    assert rsa_key.key_size == 2048
    assert isinstance(ec_key, KmsEcPrivateKey)
    assert isinstance(ec_key, ec.EllipticCurvePrivateKey)
    assert isinstance(ec_key.curve, ec.SECP256R1)
    assert ec_key.key_size == 256


def test_ec_curves_kms_cannot_pair_with_sha256_are_refused(kms):
    with pytest.raises(ValueError):
        KmsEcPrivateKey(kms, "ec", ec.generate_private_key(ec.SECP384R1()).public_key())


@pytest.mark.parametrize(
    ("pad", "kms_alg"),
    [(padding.PKCS1v15(), "RSASSA_PKCS1_V1_5_SHA_256"), (PSS_KMS, "RSASSA_PSS_SHA_256")],
)
def test_rsa_signatures_map_to_kms_algorithms_and_verify(kms, pad, kms_alg):
    recording = _RecordingKms(kms)
    key = _key(recording, "rsa")
    signature = key.sign(b"hello", pad, hashes.SHA256())
    key.public_key().verify(signature, b"hello", pad, hashes.SHA256())
    assert recording.requests == [("rsa", b"hello", kms_alg, False)]


def test_ecdsa_signature_maps_to_kms_and_verifies(kms):
    recording = _RecordingKms(kms)
    key = _key(recording, "ec")
    signature = key.sign(b"hello", ec.ECDSA(hashes.SHA256()))
    key.public_key().verify(signature, b"hello", ec.ECDSA(hashes.SHA256()))
    assert recording.requests == [("ec", b"hello", "ECDSA_SHA_256", False)]


@pytest.mark.parametrize(
    ("pad", "alg"),
    [
        (padding.PKCS1v15(), hashes.SHA384()),
        (padding.PKCS1v15(), hashes.SHA1()),  # noqa: S303 - must be refused
        (padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH), hashes.SHA256()),
        (padding.PSS(mgf=padding.MGF1(hashes.SHA1()), salt_length=32), hashes.SHA256()),  # noqa: S303
        (padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=20), hashes.SHA256()),
        (padding.PKCS1v15(), NoDigestInfo()),
        (
            padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
            hashes.SHA256(),
        ),
    ],
)
def test_unsupported_rsa_padding_or_hash_never_reaches_kms(kms, pad, alg):
    seen = []
    key = _key(kms, "rsa", before_sign=seen.append)
    kms.calls.clear()
    with pytest.raises((UnsupportedAlgorithm, ValueError)):
        key.sign(b"hello", pad, alg)
    assert kms.calls == []
    assert seen == []


@pytest.mark.parametrize(
    "sig_alg", [ec.ECDSA(hashes.SHA384()), ec.ECDSA(hashes.SHA512()), ec.ECDSA(Prehashed(hashes.SHA384()))]
)
def test_unsupported_ecdsa_hash_never_reaches_kms(kms, sig_alg):
    key = _key(kms, "ec")
    kms.calls.clear()
    with pytest.raises((UnsupportedAlgorithm, ValueError)):
        key.sign(b"hello", sig_alg)
    assert kms.calls == []


class _RecordingKms:
    """Wraps the fake to see exactly what reaches KMS."""

    def __init__(self, inner):
        self.inner = inner
        self.requests = []

    def sign(self, key_id, message, algorithm, *, is_digest=False):
        self.requests.append((key_id, bytes(message), algorithm, is_digest))
        return self.inner.sign(key_id, message, algorithm, is_digest=is_digest)

    def public_key_der(self, key_id):
        return self.inner.public_key_der(key_id)


def _verify(public_key, signature, data):
    if isinstance(public_key, rsa.RSAPublicKey):
        public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    else:
        public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize("key_id", ["rsa", "ec"])
def test_messages_over_4096_bytes_are_hashed_locally_and_sent_as_digest(kms, key_id):
    recording = _RecordingKms(kms)
    key = _key(recording, key_id)
    blob = bytes(range(256)) * 20  # 5120 bytes
    assert len(blob) > KMS_RAW_MESSAGE_LIMIT
    if key_id == "rsa":
        signature = key.sign(blob, padding.PKCS1v15(), hashes.SHA256())
    else:
        signature = key.sign(blob, ec.ECDSA(hashes.SHA256()))
    _verify(key.public_key(), signature, blob)
    with pytest.raises(InvalidSignature):
        _verify(key.public_key(), signature, blob + b"x")
    assert [(r[1], r[3]) for r in recording.requests] == [(hashlib.sha256(blob).digest(), True)]


def test_large_pss_message_verifies(kms):
    key = _key(kms, "rsa")
    blob = b"\x02" * 5000
    signature = key.sign(blob, PSS_KMS, hashes.SHA256())
    key.public_key().verify(signature, blob, PSS_KMS, hashes.SHA256())


def test_exactly_4096_bytes_go_raw(kms):
    recording = _RecordingKms(kms)
    key = _key(recording, "rsa")
    blob = b"\x01" * KMS_RAW_MESSAGE_LIMIT
    signature = key.sign(blob, padding.PKCS1v15(), hashes.SHA256())
    key.public_key().verify(signature, blob, padding.PKCS1v15(), hashes.SHA256())
    assert recording.requests == [("rsa", blob, "RSASSA_PKCS1_V1_5_SHA_256", False)]


def test_prehashed_sha256_is_sent_as_digest(kms):
    recording = _RecordingKms(kms)
    key = _key(recording, "ec")
    digest = hashlib.sha256(b"content").digest()
    signature = key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    key.public_key().verify(signature, b"content", ec.ECDSA(hashes.SHA256()))
    assert recording.requests == [("ec", digest, "ECDSA_SHA_256", True)]
    with pytest.raises(ValueError):
        key.sign(b"short", ec.ECDSA(Prehashed(hashes.SHA256())))
    assert len(recording.requests) == 1


@pytest.mark.parametrize("key_id", ["rsa", "ec"])
def test_before_sign_gets_the_tbs_bytes_before_kms_is_called(kms, key_id):
    recorded = []

    def before_sign(data: bytes) -> None:
        # The pre-signing record must exist before KMS signs anything.
        recorded.append((bytes(data), list(kms.calls)))

    key = _key(kms, key_id, before_sign=before_sign)
    kms.calls.clear()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "before-sign test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    assert len(recorded) == 1
    tbs, calls_at_that_moment = recorded[0]
    assert tbs == cert.tbs_certificate_bytes
    assert calls_at_that_moment == []
    assert kms.calls == [("sign", key_id)]
    cert.verify_directly_issued_by(cert)


def test_before_sign_failure_stops_signing(kms):
    def refuse(_data: bytes) -> None:
        raise ServiceUnavailable("could not write the pre-signing record")

    key = _key(kms, "rsa", before_sign=refuse)
    kms.calls.clear()
    with pytest.raises(ServiceUnavailable):
        key.sign(b"tbs", padding.PKCS1v15(), hashes.SHA256())
    assert kms.calls == []


def test_kms_faults_propagate(kms):
    key = _key(kms, "rsa")
    kms.fail_next("sign", ServiceUnavailable("throttled"))
    with pytest.raises(ServiceUnavailable):
        key.sign(b"tbs", padding.PKCS1v15(), hashes.SHA256())
    key.sign(b"tbs", padding.PKCS1v15(), hashes.SHA256())


@pytest.mark.parametrize("key_id", ["rsa", "ec"])
def test_private_material_is_never_exposed(kms, key_id):
    key = _key(kms, key_id)
    with pytest.raises(KmsKeyExportError):
        key.private_numbers()
    with pytest.raises(KmsKeyExportError):
        key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    if key_id == "rsa":
        with pytest.raises(KmsKeyExportError):
            key.decrypt(b"\x00" * 256, padding.PKCS1v15())
    else:
        peer = ec.generate_private_key(ec.SECP256R1()).public_key()
        with pytest.raises(KmsKeyExportError):
            key.exchange(ec.ECDH(), peer)
    assert copy.copy(key) is key
    assert copy.deepcopy(key) is key
    assert "key_id=" in repr(key)


# --- FakeKeyManagement: the fake the domain tests rely on must behave like KMS ----------------


@pytest.fixture
def fake():
    kms = FakeKeyManagement()
    kms.create_key("wrap", "SYMMETRIC_DEFAULT")
    kms.create_key("wrap-2", "SYMMETRIC_DEFAULT")
    kms.create_key("mac", "HMAC_256")
    kms.create_key("mac-2", "HMAC_256")
    return kms


def test_fake_encrypt_round_trips_under_the_same_context_in_any_order(fake):
    context = {"account": "a-1", "credential": "c-1"}
    ciphertext = fake.encrypt("wrap", b"pkcs8 bytes", context)
    assert b"pkcs8 bytes" not in ciphertext
    reordered = {"credential": "c-1", "account": "a-1"}
    assert fake.decrypt("wrap", ciphertext, reordered) == b"pkcs8 bytes"
    assert fake.encrypt("wrap", b"pkcs8 bytes", context) != ciphertext  # fresh nonce


@pytest.mark.parametrize(
    "other",
    [
        {"account": "a-2", "credential": "c-1"},
        {"account": "a-1", "credential": "c-2"},
        {"account": "a-1"},
        {"account": "a-1", "credential": "c-1", "extra": "x"},
        {},
    ],
)
def test_fake_decrypt_refuses_another_context(fake, other):
    ciphertext = fake.encrypt("wrap", b"secret", {"account": "a-1", "credential": "c-1"})
    with pytest.raises(DecryptionRefused):
        fake.decrypt("wrap", ciphertext, other)


def test_fake_decrypt_refuses_another_key_tampering_and_garbage(fake):
    context = {"account": "a-1"}
    ciphertext = fake.encrypt("wrap", b"secret", context)
    with pytest.raises(DecryptionRefused):
        fake.decrypt("wrap-2", ciphertext, context)
    with pytest.raises(DecryptionRefused):
        fake.decrypt("missing", ciphertext, context)
    tampered = ciphertext[:-1] + bytes([ciphertext[-1] ^ 1])
    with pytest.raises(DecryptionRefused):
        fake.decrypt("wrap", tampered, context)
    with pytest.raises(DecryptionRefused):
        fake.decrypt("wrap", b"not a ciphertext", context)


def test_fake_mac_verifies_only_the_same_message_under_the_same_key(fake):
    mac = fake.generate_mac("mac", b"v1|pin|123456")
    assert len(mac) == 32
    assert mac == fake.generate_mac("mac", b"v1|pin|123456")
    assert fake.verify_mac("mac", b"v1|pin|123456", mac) is True
    assert fake.verify_mac("mac", b"v1|pin|123457", mac) is False
    assert fake.verify_mac("mac-2", b"v1|pin|123456", mac) is False
    assert fake.verify_mac("mac", b"v1|pin|123456", mac[:-1] + bytes([mac[-1] ^ 1])) is False


def test_fake_refuses_wrong_key_usage(fake):
    with pytest.raises(FakeKmsError):
        fake.generate_mac("wrap", b"x")
    with pytest.raises(FakeKmsError):
        fake.encrypt("mac", b"x", {})
    with pytest.raises(FakeKmsError):
        fake.sign("wrap", b"x", "RSASSA_PKCS1_V1_5_SHA_256")
    with pytest.raises(FakeKmsError):
        fake.create_key("x", "RSA_4096")


def test_fake_records_calls_and_injects_one_fault(fake):
    fake.fail_next("generate_mac", ServiceUnavailable("throttled"))
    with pytest.raises(ServiceUnavailable):
        fake.generate_mac("mac", b"m")
    fake.generate_mac("mac", b"m")
    fake.encrypt("wrap", b"p", {"a": "b"})
    assert fake.calls == [("generate_mac", "mac"), ("generate_mac", "mac"), ("encrypt", "wrap")]
    with pytest.raises(ValueError):
        fake.fail_next("Sign", RuntimeError())


def _openssl_verify(tmp_path, public_der, message, signature, *opts):
    (tmp_path / "pub.der").write_bytes(public_der)
    (tmp_path / "msg").write_bytes(message)
    (tmp_path / "sig").write_bytes(signature)
    return subprocess.run(
        [
            "openssl",
            "dgst",
            "-sha256",
            "-keyform",
            "DER",
            "-verify",
            str(tmp_path / "pub.der"),
            *opts,
            "-signature",
            str(tmp_path / "sig"),
            str(tmp_path / "msg"),
        ],
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    ("spec", "algorithm", "opts"),
    [
        ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256", ()),
        # KMS's PSS salt is the digest length; openssl is told to expect exactly 32 bytes.
        (
            "RSA_2048",
            "RSASSA_PSS_SHA_256",
            (
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:32",
                "-sigopt",
                "rsa_mgf1_md:sha256",
            ),
        ),
        ("ECC_NIST_P256", "ECDSA_SHA_256", ()),
    ],
)
@pytest.mark.parametrize("is_digest", [False, True])
def test_fake_signatures_verify_with_openssl(tmp_path, spec, algorithm, opts, is_digest):
    kms = FakeKeyManagement()
    kms.create_key("k", spec)
    message = b"to be signed"
    payload = hashlib.sha256(message).digest() if is_digest else message
    signature = kms.sign("k", payload, algorithm, is_digest=is_digest)
    result = _openssl_verify(tmp_path, kms.public_key_der("k"), message, signature, *opts)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Verified OK" in result.stdout
    bad = _openssl_verify(tmp_path, kms.public_key_der("k"), message + b"!", signature, *opts)
    assert bad.returncode != 0


def test_fake_sign_rejects_mismatched_algorithm_and_bad_digest():
    kms = FakeKeyManagement()
    kms.create_key("r", "RSA_2048")
    with pytest.raises(FakeKmsError):
        kms.sign("r", b"m", "ECDSA_SHA_256")
    with pytest.raises(FakeKmsError):
        kms.sign("r", b"not 32 bytes", "RSASSA_PKCS1_V1_5_SHA_256", is_digest=True)
    with pytest.raises(FakeKmsError):
        kms.sign("r", b"\0" * 4097, "RSASSA_PKCS1_V1_5_SHA_256")


# --- the other builders the CA uses sign through the same key objects -------------------------


@pytest.fixture(scope="module", params=["rsa", "ec"])
def ca(request, kms):
    key = _key(kms, request.param)
    now = dt.datetime.now(dt.UTC)
    cert = build_root_ca_certificate(signing_key=key, not_before=now, years=1)
    return key, cert


def test_crl_signed_in_kms_verifies_with_openssl(tmp_path, ca):
    key, cert = ca
    now = dt.datetime.now(dt.UTC)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(cert.subject)
        .last_update(now)
        .next_update(now + dt.timedelta(days=1))
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(12345).revocation_date(now).build()
        )
        .sign(key, hashes.SHA256())
    )
    assert crl.is_signature_valid(cert.public_key())
    (tmp_path / "ca.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "crl.der").write_bytes(crl.public_bytes(serialization.Encoding.DER))
    result = subprocess.run(
        [
            "openssl",
            "crl",
            "-inform",
            "DER",
            "-in",
            str(tmp_path / "crl.der"),
            "-CAfile",
            str(tmp_path / "ca.pem"),
            "-noout",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "verify OK" in result.stdout + result.stderr


def test_cms_signed_in_kms_verifies_with_openssl(tmp_path, ca):
    key, cert = ca
    content = "전자서명 대상 문서".encode()
    signed = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(content)
        .add_signer(cert, key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary, pkcs7.PKCS7Options.DetachedSignature])
    )
    (tmp_path / "ca.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "sig.der").write_bytes(signed)
    (tmp_path / "content").write_bytes(content)
    result = subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(tmp_path / "sig.der"),
            "-content",
            str(tmp_path / "content"),
            "-CAfile",
            str(tmp_path / "ca.pem"),
            "-purpose",
            "any",
            "-out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out").read_bytes() == content


def test_ocsp_response_signed_in_kms_verifies(ca):
    key, cert = ca
    now = dt.datetime.now(dt.UTC)
    response = (
        ocsp.OCSPResponseBuilder()
        .add_response(
            cert=cert,
            issuer=cert,
            algorithm=hashes.SHA1(),  # noqa: S303 - the CertID hash RFC 6960 clients default to
            cert_status=ocsp.OCSPCertStatus.GOOD,
            this_update=now,
            next_update=now + dt.timedelta(hours=1),
            revocation_time=None,
            revocation_reason=None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, cert)
        .sign(key, hashes.SHA256())
    )
    public_key = cert.public_key()
    if isinstance(public_key, rsa.RSAPublicKey):
        public_key.verify(
            response.signature, response.tbs_response_bytes, padding.PKCS1v15(), hashes.SHA256()
        )
    else:
        public_key.verify(response.signature, response.tbs_response_bytes, ec.ECDSA(hashes.SHA256()))
