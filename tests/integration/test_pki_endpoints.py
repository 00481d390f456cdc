"""The public PKI endpoints: no credentials needed, the CA certificates in the formats relying
parties fetch (DER at the AIA caIssuers URL, a PEM chain)."""

from __future__ import annotations

from cryptography import x509

from tests.support.customers import issue
from tests.support.in_process import Api


def test_ca_certificates_are_public_and_der_encoded(gateway, ca):
    anonymous = Api(gateway)
    root = anonymous.get("/pki/root-ca.crt")
    issuing = anonymous.get("/pki/issuing-ca.crt")
    assert root.status == issuing.status == 200
    assert root.header("Content-Type") == "application/pkix-cert"
    assert x509.load_der_x509_certificate(root.body) == ca.root_certificate
    assert x509.load_der_x509_certificate(issuing.body) == ca.issuing_certificate


def test_chain_is_issuing_then_root(gateway, ca):
    chain = Api(gateway).get("/pki/chain.pem")
    assert chain.status == 200
    certs = x509.load_pem_x509_certificates(chain.body)
    assert certs == [ca.issuing_certificate, ca.root_certificate]


def test_the_aia_ca_issuers_url_of_an_issued_certificate_serves_its_issuer(api):
    issued = issue(api)
    leaf = x509.load_pem_x509_certificate(issued["certificate_pem"].encode())
    aia = leaf.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    url = next(
        d.access_location.value
        for d in aia
        if d.access_method == x509.AuthorityInformationAccessOID.CA_ISSUERS
    )
    path = "/" + url.split("/", 3)[3]
    issuer = x509.load_der_x509_certificate(Api(api.gateway).get(path).body)
    leaf.verify_directly_issued_by(issuer)


def test_pki_answers_503_before_the_ca_is_bootstrapped(gateway):
    response = Api(gateway).get("/pki/chain.pem")
    assert response.status == 503
    assert response.json()["error"]["code"] == "service_unavailable"
