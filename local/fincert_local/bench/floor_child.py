# The floor of a cold start, run as a script by a fresh interpreter (children.py):
#   python -P floor_child.py JOB.json RESULT.json
# JOB is {"calls": [...], "crypto": {"op": ..., ...}}: import boto3 and the `cryptography` modules
# the operation inherently needs, create the same clients, replay the handler's AWS calls with the
# same parameters, then do the operation's own cryptography the cheapest obvious way (keys that
# came out of a replayed kms.Decrypt, signatures that came out of a replayed kms.Sign). _t0 is the
# first statement, as in handler_child.py. Nothing from fincert or fincert_local may be imported
# here: this is the inherent cost, not ours. What each target's floor does: main_paths.py.
# ruff: noqa: E402

_perf = __import__("time").perf_counter
_t0 = _perf()
import base64
import json
import sys


def _decode(obj):
    return base64.b64decode(obj["__bytes__"]) if set(obj) == {"__bytes__"} else obj


with open(sys.argv[1], encoding="utf-8") as f:
    job = json.load(f, object_hook=_decode)
import boto3
from botocore.exceptions import ClientError

# --- DER, for the structures `cryptography` has no builder for (RFC 3161 tokens, CMS evidence) ---


def _der(tag, *contents):
    content = b"".join(contents)
    if len(content) < 0x80:
        return bytes((tag, len(content))) + content
    octets = len(content).to_bytes((len(content).bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(octets))) + octets + content


def _int(value):
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def _oid(dotted):
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray((40 * arcs[0] + arcs[1],))
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        while arc > 0x7F:
            arc >>= 7
            chunk.append(0x80 | (arc & 0x7F))
        out += bytes(reversed(chunk))
    return _der(0x06, bytes(out))


def _attribute(oid, value):
    return _der(0x30, _oid(oid), _der(0x31, value))


def _signer_info(certificate, attributes, algorithm, signature, *unsigned):
    """RFC 5652 SignerInfo v1: issuerAndSerialNumber, SHA-256, the signed attributes as [0]."""
    return _der(
        0x30,
        _int(1),
        _der(0x30, certificate.issuer.public_bytes(), _int(certificate.serial_number)),
        _SHA256,
        _der(0xA0, *attributes),
        algorithm,
        _der(0x04, signature),
        *unsigned,
    )


_SHA256 = _der(0x30, _oid("2.16.840.1.101.3.4.2.1"), b"\x05\x00")
_RSA = _der(0x30, _oid("1.2.840.113549.1.1.1"), b"\x05\x00")
_ECDSA_SHA256 = _der(0x30, _oid("1.2.840.10045.4.3.2"))

# --- the operations: each imports what it needs (timed with the imports) and returns its work ---


def _none():
    return lambda spec, responses: {}


def _sha256_secret():
    # A session token, window credential or API key is stored only as its SHA-256 (stdlib).
    import hashlib
    import secrets

    def work(spec, responses):
        secret = spec.get("secret") or secrets.token_urlsafe(32)
        return {"sha256_hex": len(hashlib.sha256(secret.encode()).hexdigest())}

    return work


def _keys():
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

    def load(der):
        # A key out of KMS authenticated decryption: no RSA re-validation (as the service loads it).
        return serialization.load_der_private_key(der, password=None, unsafe_skip_rsa_key_validation=True)

    def sign(key, data, prehashed=False):
        algorithm = Prehashed(hashes.SHA256()) if prehashed else hashes.SHA256()
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), algorithm), _RSA
        return key.sign(data, ec.ECDSA(algorithm)), _ECDSA_SHA256

    return load, sign


def _sign_digest():
    load, sign = _keys()

    def work(spec, responses):
        key = load(responses[spec["key_call"]]["Plaintext"])
        signature, _ = sign(key, spec["digest"], prehashed=True)
        return {"signature_bytes": len(signature), "output": signature}

    return work


def _issue_certificate():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    class _SignedByKms(rsa.RSAPrivateKey):
        # The CA's key is in KMS: the signature over the TBS is the replayed kms.Sign's.
        def __init__(self, public_key, signature):
            self._public_key, self._signature = public_key, signature

        def sign(self, data, padding, algorithm):
            return self._signature

        def public_key(self):
            return self._public_key

        @property
        def key_size(self):
            return self._public_key.key_size

        def decrypt(self, ciphertext, padding):
            raise NotImplementedError

        def private_numbers(self):
            raise NotImplementedError

        def private_bytes(self, encoding, format, encryption_algorithm):
            raise NotImplementedError

        def __copy__(self):
            return self

        def __deepcopy__(self, memo):
            return self

    def work(spec, responses):
        issuer = x509.load_der_x509_certificate(spec["issuer_certificate"])
        # The same subject, serial, validity and extensions as the service's certificate.
        like = x509.load_der_x509_certificate(spec["certificate"])
        if spec["key_algorithm"] == "RSA_2048":
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            key = ec.generate_private_key(ec.SECP256R1())
        wrapped = key.private_bytes(  # what kms.Encrypt wraps (the replayed call wraps the handler's)
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(like.subject)
            .issuer_name(issuer.subject)
            .public_key(key.public_key())
            .serial_number(like.serial_number)
            .not_valid_before(like.not_valid_before_utc)
            .not_valid_after(like.not_valid_after_utc)
        )
        for extension in like.extensions:
            builder = builder.add_extension(extension.value, extension.critical)
        ca_key = _SignedByKms(issuer.public_key(), responses[spec["signature_call"]]["Signature"])
        certificate = builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
        return {
            "private_key_der_bytes": len(wrapped),
            "certificate_der_bytes": len(certificate),
            "output": certificate,
        }

    return work


def _device_key():
    import hashlib

    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    def work(spec, responses):
        key = load_der_public_key(spec["public_key"])
        if not (isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"):
            raise ValueError("not a P-256 key")
        return {"fingerprint_bytes": len(hashlib.sha256(spec["public_key"]).digest())}

    return work


def _timestamps():
    """RFC 3161: the TSTInfo and its SignedData, signed by the TSA's KMS key (a replayed kms.Sign)."""
    import hashlib
    from datetime import UTC, datetime

    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import Encoding

    def token(spec, responses, imprint):
        tsa = x509.load_der_x509_certificate(spec["tsa_certificate"])
        tsa_der = tsa.public_bytes(Encoding.DER)
        now = datetime.now(UTC).strftime("%Y%m%d%H%M%SZ").encode()
        tst_info = _der(
            0x30,
            _int(1),
            _oid(spec["policy_oid"]),
            _der(0x30, _SHA256, _der(0x04, imprint)),
            _int(spec["serial_number"]),
            _der(0x18, now),
            _der(0x30, _int(1)),  # accuracy: 1 s
            *([_int(spec["nonce"])] if spec.get("nonce") is not None else []),
            _der(0xA0, _der(0xA4, tsa.subject.public_bytes())),
        )
        issuer_serial = _der(0x30, _der(0x30, _der(0xA4, tsa.issuer.public_bytes())), _int(tsa.serial_number))
        attributes = sorted(
            (
                _attribute("1.2.840.113549.1.9.3", _oid("1.2.840.113549.1.9.16.1.4")),
                _attribute("1.2.840.113549.1.9.4", _der(0x04, hashlib.sha256(tst_info).digest())),
                _attribute(
                    "1.2.840.113549.1.9.16.2.47",
                    _der(
                        0x30,
                        _der(0x30, _der(0x30, _der(0x04, hashlib.sha256(tsa_der).digest()), issuer_serial)),
                    ),
                ),
            )
        )
        algorithm = _RSA if isinstance(tsa.public_key(), rsa.RSAPublicKey) else _ECDSA_SHA256
        signer_info = _signer_info(tsa, attributes, algorithm, responses[spec["signature_call"]]["Signature"])
        signed_data = _der(
            0x30,
            _int(3),
            _der(0x31, _SHA256),
            _der(0x30, _oid("1.2.840.113549.1.9.16.1.4"), _der(0xA0, _der(0x04, tst_info))),
            _der(0xA0, tsa_der),
            _der(0x31, signer_info),
        )
        return _der(0x30, _oid("1.2.840.113549.1.7.2"), _der(0xA0, signed_data))

    return token


def _timestamp():
    token = _timestamps()

    def work(spec, responses):
        granted = _der(0x30, _der(0x30, _int(0)), token(spec, responses, spec["imprint"]))
        return {"timestamp_reply_bytes": len(granted), "output": granted}

    return work


def _ocsp():
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    load, _ = _keys()

    def respond(spec, responses, add_response):
        responder = x509.load_der_x509_certificate(spec["responder_certificate"])
        key = load(responses[spec["responder_key_call"]]["Plaintext"])
        now = datetime.now(UTC).replace(microsecond=0)
        builder = add_response(ocsp.OCSPResponseBuilder(), now, now + timedelta(hours=1))
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, responder).certificates([responder])
        return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def answer(spec, responses):
        request = ocsp.load_der_ocsp_request(spec["request"])

        def add_response(builder, this_update, next_update):
            builder = builder.add_response_by_hash(
                request.issuer_name_hash,
                request.issuer_key_hash,
                request.serial_number,
                request.hash_algorithm,
                ocsp.OCSPCertStatus.GOOD,
                this_update,
                next_update,
                None,
                None,
            )
            for extension in request.extensions:  # the nonce, echoed
                builder = builder.add_extension(extension.value, extension.critical)
            return builder

        return respond(spec, responses, add_response)

    def about(spec, responses, certificate, issuer):
        def add_response(builder, this_update, next_update):
            return builder.add_response(
                certificate,
                issuer,
                hashes.SHA1(),  # noqa: S303  # the CertID hash the service's answer uses
                ocsp.OCSPCertStatus.GOOD,
                this_update,
                next_update,
                None,
                None,
            )

        return respond(spec, responses, add_response)

    return answer, about


def _ocsp_response():
    answer, _ = _ocsp()

    def work(spec, responses):
        response = answer(spec, responses)
        return {"ocsp_response_bytes": len(response), "output": response}

    return work


def _cms_with_evidence():
    """CMS SignedData over the content (attached), signed with the subscriber key, carrying the
    OCSP response for its certificate (RFC 5940) and a time-stamp token over its signature value
    (CAdES-T), written as DER directly: `cryptography` builds no unsigned attributes."""
    import hashlib
    from datetime import UTC, datetime

    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    load, sign = _keys()
    _, about = _ocsp()
    token = _timestamps()

    def work(spec, responses):
        key = load(responses[spec["key_call"]]["Plaintext"])
        certificate = x509.load_der_x509_certificate(spec["certificate"])
        issuer = x509.load_der_x509_certificate(spec["issuer_certificate"])
        content = spec["content"]
        now = datetime.now(UTC).strftime("%y%m%d%H%M%SZ").encode()
        attributes = sorted(
            (
                _attribute("1.2.840.113549.1.9.3", _oid("1.2.840.113549.1.7.1")),
                _attribute("1.2.840.113549.1.9.5", _der(0x17, now)),
                _attribute("1.2.840.113549.1.9.4", _der(0x04, hashlib.sha256(content).digest())),
            )
        )
        signature, algorithm = sign(key, _der(0x31, *attributes))
        ocsp_response = about(spec, responses, certificate, issuer)
        timestamp = token(spec, responses, hashlib.sha256(signature).digest())
        unsigned = _der(0xA1, _attribute("1.2.840.113549.1.9.16.2.14", timestamp))
        signer_info = _signer_info(certificate, attributes, algorithm, signature, unsigned)
        signed_data = _der(
            0x30,
            _int(5),
            _der(0x31, _SHA256),
            _der(0x30, _oid("1.2.840.113549.1.7.1"), _der(0xA0, _der(0x04, content))),
            _der(0xA0, *sorted((spec["certificate"], issuer.public_bytes(Encoding.DER)))),
            _der(0xA1, _der(0xA1, _oid("1.3.6.1.5.5.7.16.2"), ocsp_response)),
            _der(0x31, signer_info),
        )
        cms = _der(0x30, _oid("1.2.840.113549.1.7.2"), _der(0xA0, signed_data))
        return {
            "cms_bytes": len(cms),
            "ocsp_response_bytes": len(ocsp_response),
            "timestamp_bytes": len(timestamp),
            "output": cms,
        }

    return work


_OPERATIONS = {
    "none": _none,
    "sha256_secret": _sha256_secret,
    "sign_digest": _sign_digest,
    "issue_certificate": _issue_certificate,
    "device_key": _device_key,
    "timestamp": _timestamp,
    "ocsp_response": _ocsp_response,
    "cms_with_evidence": _cms_with_evidence,
}
crypto = job["crypto"]
work = _OPERATIONS[crypto["op"]]()
_t_import = _perf()
session = boto3.session.Session()
clients = {}
responses = []
failed = []
for call in job["calls"]:
    key = (call["service"], call["region"])
    if key not in clients:
        clients[key] = session.client(call["service"], region_name=call["region"])
    try:
        responses.append(clients[key]._make_api_call(call["operation"], call["params"]))
    except ClientError as e:
        # Replaying a write meets its own condition (the item exists now): still one round trip.
        failed.append(e.response["Error"]["Code"])
        responses.append(None)
done = work(crypto, responses)
_t1 = _perf()
# What the floor built goes back too (after t1), so a test can check it is the real thing.
if "output" in done:
    done["output"] = {"__bytes__": base64.b64encode(done["output"]).decode()}
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(
        {
            "elapsed_s": _t1 - _t0,
            "import_s": _t_import - _t0,
            "failed": failed,
            "crypto": {"op": crypto["op"], **done},
        },
        f,
    )
