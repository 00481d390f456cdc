import subprocess

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from fincert.crypto.keys import (
    KeyAlgorithm,
    generate_private_key,
    key_algorithm_of,
    private_key_from_der,
    private_key_from_kms_decryption,
    private_key_to_der,
    public_key_der,
    public_key_from_der,
    signing_algorithm_for,
)


def _openssl(*args: str, stdin: bytes) -> bytes:
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, check=True).stdout


def _openssl_text(*args: str, stdin: bytes) -> str:
    return _openssl(*args, stdin=stdin).decode()


def test_rsa_key_is_2048_bits_with_e_65537():
    key = generate_private_key(KeyAlgorithm.RSA_2048)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 2048
    assert key.public_key().public_numbers().e == 65537
    text = _openssl_text("pkey", "-inform", "DER", "-noout", "-text", stdin=private_key_to_der(key))
    assert "2048 bit" in text
    assert "publicExponent: 65537" in text


def test_ec_key_is_p256():
    key = generate_private_key("EC_P256")
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert isinstance(key.curve, ec.SECP256R1)
    text = _openssl_text("pkey", "-inform", "DER", "-noout", "-text", stdin=private_key_to_der(key))
    assert "prime256v1" in text


def test_unknown_algorithm_is_rejected():
    with pytest.raises(ValueError):
        generate_private_key("RSA_1024")


@pytest.mark.parametrize("alg", list(KeyAlgorithm))
def test_private_key_der_is_unencrypted_pkcs8_and_round_trips(alg):
    key = generate_private_key(alg)
    der = private_key_to_der(key)
    # A PrivateKeyInfo (RFC 5208) starts with version 0 and the key's algorithm; an
    # EncryptedPrivateKeyInfo would start with PBES2.
    asn1 = _openssl_text("asn1parse", "-inform", "DER", stdin=der)
    expected_alg = ":rsaEncryption" if alg is KeyAlgorithm.RSA_2048 else ":id-ecPublicKey"
    assert expected_alg in asn1.splitlines()[3]
    assert "PBES2" not in asn1
    pem = _openssl_text("pkey", "-inform", "DER", "-outform", "PEM", stdin=der)
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
    restored = private_key_from_der(der)
    assert public_key_der(restored) == public_key_der(key)
    assert key_algorithm_of(restored) is alg


@pytest.mark.parametrize("alg", list(KeyAlgorithm))
def test_public_key_der_is_spki_matching_openssl(alg):
    key = generate_private_key(alg)
    spki = _openssl("pkey", "-inform", "DER", "-pubout", "-outform", "DER", stdin=private_key_to_der(key))
    assert public_key_der(key) == spki
    assert public_key_der(key.public_key()) == spki
    assert public_key_from_der(spki) == key.public_key()


def test_private_key_from_der_rejects_garbage():
    with pytest.raises(ValueError):
        private_key_from_der(b"\x30\x03\x02\x01\x00")


@pytest.mark.parametrize("alg", list(KeyAlgorithm))
def test_kms_decrypted_key_loads_as_the_validated_loader_does(alg):
    # The same key, and the same deterministic PKCS#1 v1.5 signature, with or without RSA re-validation.
    der = private_key_to_der(generate_private_key(alg))
    fast, checked = private_key_from_kms_decryption(der), private_key_from_der(der)
    assert public_key_der(fast) == public_key_der(checked)
    assert key_algorithm_of(fast) is alg
    if isinstance(fast, rsa.RSAPrivateKey) and isinstance(checked, rsa.RSAPrivateKey):
        message = b"fincert"
        assert fast.sign(message, padding.PKCS1v15(), hashes.SHA256()) == checked.sign(
            message, padding.PKCS1v15(), hashes.SHA256()
        )


def test_kms_decrypted_key_loader_refuses_garbage_and_other_key_types():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    with pytest.raises(ValueError):
        private_key_from_kms_decryption(b"\x30\x03\x02\x01\x00")
    ed = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ValueError):
        private_key_from_kms_decryption(ed)


def test_signing_algorithm_for_ca_keys():
    rsa_key = generate_private_key(KeyAlgorithm.RSA_2048)
    ec_key = generate_private_key(KeyAlgorithm.EC_P256)
    assert signing_algorithm_for(rsa_key.public_key()) == "RSASSA_PKCS1_V1_5_SHA_256"
    assert signing_algorithm_for(ec_key.public_key()) == "ECDSA_SHA_256"
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    with pytest.raises(ValueError):
        signing_algorithm_for(p384)


def test_generated_rsa_key_signs_what_openssl_verifies(tmp_path):
    key = generate_private_key(KeyAlgorithm.RSA_2048)
    message = b"fincert"
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    (tmp_path / "pub.der").write_bytes(public_key_der(key))
    (tmp_path / "msg").write_bytes(message)
    (tmp_path / "sig").write_bytes(signature)
    result = subprocess.run(
        [
            "openssl",
            "dgst",
            "-sha256",
            "-verify",
            str(tmp_path / "pub.der"),
            "-keyform",
            "DER",
            "-signature",
            str(tmp_path / "sig"),
            str(tmp_path / "msg"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "Verified OK" in result.stdout


def test_only_kms_decrypted_keys_skip_rsa_validation():
    # docs/architecture.md#identity-and-secrets: one loader skips the check, and only the signing
    # use case (a subscriber's key) and the OCSP responder (its own key) call it, on the plaintext
    # of KMS Decrypt; every other key is loaded validated.
    from pathlib import Path

    import fincert

    layer = Path(fincert.__file__).parent
    sources = {path.relative_to(layer).as_posix(): path.read_text() for path in layer.rglob("*.py")}
    assert [name for name, text in sources.items() if "unsafe_skip_rsa_key_validation" in text] == [
        "crypto/keys.py"
    ]
    assert sources["crypto/keys.py"].count("password=None, unsafe_skip_rsa_key_validation=True)") == 1
    callers = [
        name
        for name, text in sources.items()
        if "private_key_from_kms_decryption(" in text and name != "crypto/keys.py"
    ]
    assert sorted(callers) == ["domain/revocation_status.py", "domain/signing.py"]
    for name in callers:
        assert "self._kms.decrypt(" in sources[name], name
