"""The CSC API v1 through the gateway: what a remote-signing client sees, and every way a SAD
or a signHash request can be wrong without anything getting signed."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from asn1crypto import algos
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from fincert.api.csc_presentation import api_base_url

from tests.support.customers import Customer, connected, digest_b64
from tests.support.in_process import Api
from tests.support.people import CUSTOMER, other_customer

SHA256 = "2.16.840.1.101.3.4.2.1"
SHA256_RSA = "1.2.840.113549.1.1.11"
RSA = "1.2.840.113549.1.1.1"
PSS = "1.2.840.113549.1.1.10"
ECDSA_SHA256 = "1.2.840.10045.4.3.2"


def pss_params(salt: int = 32, digest: str = "sha256") -> str:
    params = algos.RSASSAPSSParams(
        {
            "hash_algorithm": {"algorithm": digest},
            "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": digest}},
            "salt_length": salt,
        }
    )
    return base64.b64encode(params.dump()).decode()


def certificate(customer: Customer) -> x509.Certificate:
    info = customer.call("POST", "/csc/v1/credentials/info", {"credentialID": customer.credential_id})
    return x509.load_der_x509_certificate(base64.b64decode(info.json()["cert"]["certificates"][0]))


def sad_for(customer: Customer, hashes_b64: list[str] | None = None, n: int = 1) -> str:
    response = customer.authorize(n, hashes_b64)
    assert response.status == 200, response.body
    return response.json()["SAD"]


def test_info_is_public_and_names_the_methods(api):
    response = api.post("/csc/v1/info", {}, api_key="")
    assert response.status == 200
    body = response.json()
    assert body["specs"].startswith("1.0")
    assert "signatures/signHash" in body["methods"]


def test_info_names_the_time_stamping_service_in_a_vendor_field(api):
    url = api.post("/csc/v1/info", {}, api_key="").json()["x-fincert-tsa-url"]
    assert url.endswith("/v1/timestamps")
    # The named URL is this API's TSA: an RFC 3161 query sent there (with the caller's
    # credentials) is answered, not 404.
    path = url[url.index("/v1/timestamps") :]
    response = api.post(path, {})
    assert response.status != 404, response.body


def test_credentials_list_and_info_describe_the_registered_credential(api):
    customer = connected(api)
    listed = customer.call("POST", "/csc/v1/credentials/list", {})
    assert listed.json() == {"credentialIDs": [customer.credential_id]}
    info = customer.call(
        "POST",
        "/csc/v1/credentials/info",
        {"credentialID": customer.credential_id, "certificates": "chain", "certInfo": True, "authInfo": True},
    ).json()
    chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in info["cert"]["certificates"]]
    assert len(chain) == 3
    assert chain[0].issuer == chain[1].subject and chain[1].issuer == chain[2].subject  # leaf first
    assert info["cert"]["status"] == "valid"
    assert info["cert"]["serialNumber"] == format(chain[0].serial_number, "x")
    # No curve for an RSA key: left out, as CSC's conditional fields are, not null.
    assert info["key"] == {"status": "enabled", "algo": [RSA, SHA256_RSA, PSS], "len": 2048}
    assert info["authMode"] == "explicit" and info["SCAL"] == "1" and info["multisign"] == 10
    assert info["PIN"]["presence"] == "true" and info["PIN"]["format"] == "N"


def test_ec_credential_lists_ecdsa(api):
    customer = connected(api, key_algorithm="EC_P256")
    info = customer.call("POST", "/csc/v1/credentials/info", {"credentialID": customer.credential_id}).json()
    assert info["key"]["algo"] == ["1.2.840.10045.2.1", ECDSA_SHA256]
    assert info["key"]["curve"] == "1.2.840.10045.3.1.7"
    # Without certInfo and authInfo, their fields are left out (never null).
    assert set(info) == {"key", "cert", "authMode", "multisign", "SCAL"}
    assert set(info["cert"]) == {"status", "certificates"}


@pytest.mark.parametrize(
    ("sign_algo", "hash_algo", "params"),
    [(SHA256_RSA, None, None), (RSA, SHA256, None), (SHA256_RSA, SHA256, None), (PSS, None, "pss")],
)
def test_rsa_signatures_verify_against_the_certificate(api, sign_algo, hash_algo, params):
    customer = connected(api)
    digest = digest_b64("login challenge 42")
    extra = {"hashAlgo": hash_algo} if hash_algo else {}
    if params:
        extra["signAlgoParams"] = pss_params(salt=32)
    response = customer.sign_hash(sad_for(customer, [digest]), [digest], sign_algo, **extra)
    assert response.status == 200, response.body
    signature = base64.b64decode(response.json()["signatures"][0])
    scheme = padding.PSS(padding.MGF1(hashes.SHA256()), 32) if params else padding.PKCS1v15()
    certificate(customer).public_key().verify(
        signature, base64.b64decode(digest), scheme, Prehashed(hashes.SHA256())
    )


def test_pss_honours_the_requested_salt_length(api):
    customer = connected(api)
    digest = digest_b64("pss salt")
    response = customer.sign_hash(
        sad_for(customer, [digest]), [digest], PSS, signAlgoParams=pss_params(salt=20)
    )
    signature = base64.b64decode(response.json()["signatures"][0])
    key = certificate(customer).public_key()
    key.verify(
        signature,
        base64.b64decode(digest),
        padding.PSS(padding.MGF1(hashes.SHA256()), 20),
        Prehashed(hashes.SHA256()),
    )


def test_ecdsa_signature_verifies(api):
    customer = connected(api, key_algorithm="EC_P256")
    digest = digest_b64("transfer 10000 KRW")
    response = customer.sign_hash(sad_for(customer, [digest]), [digest], ECDSA_SHA256)
    assert response.status == 200, response.body
    signature = base64.b64decode(response.json()["signatures"][0])
    certificate(customer).public_key().verify(
        signature, base64.b64decode(digest), ec.ECDSA(Prehashed(hashes.SHA256()))
    )


def test_a_sad_signs_at_most_num_signatures_times(api):
    customer = connected(api)
    sad = sad_for(customer, None, n=2)
    first, second, third = (digest_b64(f"doc {i}") for i in range(3))
    assert customer.sign_hash(sad, [first]).status == 200
    assert customer.sign_hash(sad, [second]).status == 200
    replay = customer.sign_hash(sad, [third])
    assert (replay.status, replay.json()["error"]) == (400, "sad_exhausted")


def test_a_sad_bound_to_hashes_signs_only_those(api):
    customer = connected(api)
    bound = digest_b64("the contract")
    sad = sad_for(customer, [bound])
    other = customer.sign_hash(sad, [digest_b64("another contract")])
    assert (other.status, other.json()["error"]) == (400, "sad_hash_mismatch")
    assert customer.sign_hash(sad, [bound]).status == 200  # the refusal did not spend it


def test_an_expired_sad_signs_nothing(api, clock):
    customer = connected(api)
    digest = digest_b64("late")
    sad = sad_for(customer, [digest])
    clock.at += timedelta(minutes=5, seconds=1)
    response = customer.sign_hash(sad, [digest])
    # The session (15 minutes) is still valid; only the SAD is past its 5 minutes.
    assert (response.status, response.json()["error"]) == (400, "sad_expired")


def test_a_sad_is_bound_to_its_credential_and_its_customer(api):
    alice = connected(api)
    bob = connected(api, other_customer(1))
    digest = digest_b64("x")
    sad = sad_for(alice, [digest])
    with_bobs_token = bob.sign_hash(sad, [digest])  # Bob's session, Bob's credential id
    assert (with_bobs_token.status, with_bobs_token.json()["error"]) == (400, "sad_invalid")
    bob_with_alices_credential = bob.call(
        "POST",
        "/csc/v1/signatures/signHash",
        {"credentialID": alice.credential_id, "SAD": sad, "hash": [digest], "signAlgo": SHA256_RSA},
    )
    assert bob_with_alices_credential.status == 400
    prefix, secret = sad.rsplit(".", 1)
    # Another first character, whatever the real one is (a fixed "A" equals it 1 time in 64).
    forged = prefix + "." + ("B" if secret[0] == "A" else "A") + secret[1:]
    assert forged != sad
    assert alice.sign_hash(forged, [digest]).json()["error"] == "sad_invalid"
    assert alice.sign_hash(sad, [digest]).status == 200


def test_authorize_refuses_another_customers_credential_without_touching_either_pin(api, aws):
    alice = connected(api)
    bob = connected(api, other_customer(2))
    response = bob.call(
        "POST",
        "/csc/v1/credentials/authorize",
        {"credentialID": alice.credential_id, "numSignatures": 1, "PIN": alice.pin},
    )
    assert (response.status, response.json()["error"]) == (404, "credential_not_found")
    info = bob.call("POST", "/csc/v1/credentials/info", {"credentialID": alice.credential_id})
    assert info.status == 404


BAD_SIGN_HASH = [
    ({"hash": ["not base64!"]}, 400, "hash_invalid"),
    ({"hash": [base64.b64encode(b"x" * 31).decode()]}, 400, "hash_invalid"),
    ({"hash": [base64.b64encode(b"x" * 48).decode()]}, 400, "hash_invalid"),
    ({"hash": [digest_b64(str(i)) for i in range(11)]}, 422, "validation_failed"),
    ({"hash": []}, 422, "validation_failed"),
    ({"signAlgo": "1.2.3.4"}, 400, "sign_algo_unsupported"),
    ({"signAlgo": ECDSA_SHA256}, 400, "sign_algo_unsupported"),
    ({"signAlgo": RSA}, 400, "hash_algo_required"),
    ({"hashAlgo": "1.3.14.3.2.26"}, 400, "hash_algo_unsupported"),
    ({"signAlgo": PSS}, 400, "sign_algo_params_invalid"),
    ({"signAlgo": PSS, "signAlgoParams": pss_params(digest="sha1")}, 400, "sign_algo_params_invalid"),
    ({"signAlgo": PSS, "signAlgoParams": pss_params(salt=223)}, 400, "sign_algo_params_invalid"),
    ({"signAlgo": PSS, "signAlgoParams": "!!"}, 400, "sign_algo_params_invalid"),
    (
        {"signAlgo": PSS, "signAlgoParams": base64.b64encode(b"\x30\x03\x02\x01").decode()},
        400,
        "sign_algo_params_invalid",
    ),
    ({"signAlgoParams": pss_params()}, 400, "sign_algo_params_invalid"),
    ({"SAD": "sad.garbage"}, 400, "sad_invalid"),
    ({"SAD": 42}, 422, "validation_failed"),
]


def test_bad_sign_hash_requests_sign_nothing_and_leave_the_sad_usable(api, aws_calls):
    customer = connected(api)
    sad = sad_for(customer, None, n=1)
    body = {
        "credentialID": customer.credential_id,
        "SAD": sad,
        "hash": [digest_b64("doc")],
        "signAlgo": SHA256_RSA,
    }
    for change, status, error in BAD_SIGN_HASH:
        aws_calls.clear()
        response = customer.call("POST", "/csc/v1/signatures/signHash", body | change)
        assert (response.status, response.json()["error"]) == (status, error), change
        assert "kms.Decrypt" not in aws_calls.calls, change  # the key was never unwrapped
    assert customer.sign_hash(sad, [digest_b64("doc")]).status == 200


BAD_AUTHORIZE = [
    ({"numSignatures": 0}, 422, "validation_failed"),
    ({"numSignatures": 11}, 400, "num_signatures_invalid"),
    ({"numSignatures": 2, "hash": [digest_b64("a")]}, 400, "num_signatures_invalid"),
    ({"numSignatures": 2, "hash": [digest_b64("a"), digest_b64("a")]}, 400, "num_signatures_invalid"),
    ({"hash": ["%%%"]}, 400, "hash_invalid"),
    ({"OTP": "123456"}, 400, "otp_unsupported"),
    ({"PIN": 135790}, 422, "validation_failed"),
    ({"credentialID": "cred_doesnotexist000000000"}, 404, "credential_not_found"),
]


def test_bad_authorize_requests_issue_no_sad_and_use_no_pin_attempt(api, aws_calls):
    customer = connected(api)
    body = {"credentialID": customer.credential_id, "numSignatures": 1, "PIN": customer.pin}
    for change, status, error in BAD_AUTHORIZE:
        aws_calls.clear()
        response = customer.call("POST", "/csc/v1/credentials/authorize", body | change)
        assert (response.status, response.json()["error"]) == (status, error), change
        assert not any(c.startswith("kms.") for c in aws_calls.calls), change
        assert not any(c in {"dynamodb.TransactWriteItems", "dynamodb.PutItem"} for c in aws_calls.calls), (
            change
        )


def test_unauthenticated_csc_calls_get_401(api):
    response = api.post("/csc/v1/credentials/list", {}, api_key="fcs.acct_x.ses_y.z")
    assert response.status == 401


def test_an_unregistered_institution_sees_no_credentials(api, gateway, other_bank):
    customer = connected(api)
    at_other_bank = Customer(Api(gateway, other_bank["api_key"]), CUSTOMER)
    session = at_other_bank.connect()
    assert session["institution_registered"] is False
    assert at_other_bank.call("POST", "/csc/v1/credentials/list", {}).json() == {"credentialIDs": []}
    at_other_bank.credential_id = customer.credential_id
    info = at_other_bank.call("POST", "/csc/v1/credentials/info", {"credentialID": customer.credential_id})
    assert info.status == 404
    refused = at_other_bank.authorize()
    assert (refused.status, refused.json()["error"]) == (403, "institution_not_registered")


def test_a_json_array_body_is_refused_not_read_as_its_first_element(api):
    customer = connected(api)
    for path in ["/csc/v1/credentials/list", "/v1/connections"]:
        response = customer.call("POST", path, [{}, 1])
        assert response.status == 400, (path, response.body)
    as_bank = api.post("/v1/connections", [CUSTOMER])
    assert (as_bank.status, as_bank.json()["error"]["code"]) == (400, "body_not_object")


# CSC v1.0.4 types its fields as JSON Number, Boolean and String, and that is what CSC clients
# send (pyHanko: numSignatures an int, certInfo a bool). Anything else is a client bug to show,
# not a value to guess at: `true`, "1" and 1.5 are not 1 signature. (1.0 is: JSON Schema's integer.)
WRONG_CSC_TYPES = [
    ("/csc/v1/credentials/authorize", {"numSignatures": True}),
    ("/csc/v1/credentials/authorize", {"numSignatures": "1"}),
    ("/csc/v1/credentials/authorize", {"numSignatures": 1.5}),
    ("/csc/v1/credentials/authorize", {"numSignatures": [1]}),
    ("/csc/v1/credentials/authorize", {"hash": digest_b64("a")}),
    ("/csc/v1/credentials/info", {"certInfo": "true"}),
    ("/csc/v1/credentials/info", {"authInfo": 1}),
    ("/csc/v1/credentials/list", {"maxResults": "10"}),
    ("/csc/v1/credentials/list", {"maxResults": 10.5}),
]


@pytest.mark.parametrize(("path", "change"), WRONG_CSC_TYPES, ids=[f"{p}-{c}" for p, c in WRONG_CSC_TYPES])
def test_csc_fields_of_the_wrong_json_type_are_refused_not_coerced(api, aws_calls, path, change):
    customer = connected(api)
    body = {"credentialID": customer.credential_id, "numSignatures": 1, "PIN": customer.pin}
    aws_calls.clear()
    response = customer.call("POST", path, body | change)
    assert (response.status, response.json()["error"]) == (422, "validation_failed"), response.body
    assert not any(c.startswith("kms.") for c in aws_calls.calls)
    assert not any(
        c in {"dynamodb.TransactWriteItems", "dynamodb.PutItem", "dynamodb.UpdateItem"}
        for c in aws_calls.calls
    )
    assert customer.authorize().status == 200, "no PIN attempt was used"


def test_a_count_written_as_an_integral_json_number_is_that_count(api):
    # Our OpenAPI document says integer; JSON Schema validators (and schemathesis) take 1.0 as one.
    customer = connected(api)
    body = {"credentialID": customer.credential_id, "numSignatures": 1.0, "PIN": customer.pin}
    response = customer.call("POST", "/csc/v1/credentials/authorize", body)
    assert response.status == 200, response.body
    sad = response.json()["SAD"]
    first = customer.sign_hash(sad, [digest_b64("one")])
    assert first.status == 200, first.body
    assert customer.sign_hash(sad, [digest_b64("two")]).json()["error"] == "sad_exhausted", (
        "one signature only"
    )
    listed = customer.call("POST", "/csc/v1/credentials/list", {"maxResults": 10.0})
    assert listed.status == 200 and listed.json()["credentialIDs"] == [customer.credential_id]


@pytest.mark.parametrize(
    ("host", "proto", "expected"),
    [
        (
            "abc123.execute-api.ap-northeast-2.amazonaws.com",
            "https",
            "https://abc123.execute-api.ap-northeast-2.amazonaws.com/live",
        ),
        ("api.fincert.example", "https", "https://api.fincert.example"),
        ("127.0.0.1:8080", None, "http://127.0.0.1:8080"),
    ],
    ids=["execute-api-carries-the-stage", "custom-domain-maps-it-at-root", "local-gateway"],
)
def test_the_tsa_url_is_the_api_base_the_caller_reached(host, proto, expected):
    headers = {"Host": host} | ({"X-Forwarded-Proto": proto} if proto else {})
    event = {"headers": headers, "requestContext": {"domainName": host, "stage": "live"}}
    assert api_base_url(event) == expected
