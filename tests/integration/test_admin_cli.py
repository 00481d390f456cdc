"""The operator commands: fincert-admin bootstrap-ca and register-institution."""

from __future__ import annotations

import json

from cryptography import x509
from fincert.admin import main
from fincert.domain.institutions import authenticate_api_key

from tests.support import log_safety


def test_bootstrap_ca_prints_the_chain_and_is_idempotent(svc, capsys):
    assert main(["bootstrap-ca"]) == 0
    first = capsys.readouterr().out
    issuing, root = x509.load_pem_x509_certificates(first.encode())
    issuing.verify_directly_issued_by(root)
    assert main(["bootstrap-ca"]) == 0
    assert capsys.readouterr().out == first, "a second bootstrap returns the same CA"


def test_register_institution_prints_a_working_key_once(svc, capsys):
    assert main(["register-institution", "--id", "hana-bank", "--name", "Hana", "--scope", "enroll"]) == 0
    printed = json.loads(capsys.readouterr().out)
    log_safety.remember_secret(printed["api_key"])
    principal = authenticate_api_key(svc.store, printed["api_key"])
    assert principal.institution_id == "hana-bank"
    assert principal.scopes == frozenset({"enroll"})


def test_registering_an_existing_institution_fails_without_a_new_key(svc, capsys):
    main(["register-institution", "--id", "hana-bank", "--name", "Hana"])
    first_key = json.loads(capsys.readouterr().out)["api_key"]
    log_safety.remember_secret(first_key)
    assert main(["register-institution", "--id", "hana-bank", "--name", "Hana again"]) == 1
    assert "institution_exists" in capsys.readouterr().err
    assert authenticate_api_key(svc.store, first_key).institution_id == "hana-bank"
