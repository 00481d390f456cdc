"""Operator commands: bootstrap the CA, register an institution. They run wherever the AWS
credentials are (an operator's shell against AWS, or the local stack against moto):

    fincert-admin bootstrap-ca            (also creates the delegated OCSP responder and the TSA)
    fincert-admin upgrade                 (an existing deployment: what bootstrap-ca adds that it lacks)
    fincert-admin renew-ocsp-responder [--force]
    fincert-admin register-institution --id demo-bank --name "Demo Bank" --scope enroll
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from fincert.domain.ca import CertificateAuthority, bootstrap_certificate_authority
from fincert.domain.institutions import register_institution
from fincert.domain.model import OcspResponderRecord, Scope
from fincert.domain.timestamping import TimestampAuthorityRecord
from fincert.errors import FincertError
from fincert.wiring import Services, services


def bootstrap_ca(svc: Services) -> CertificateAuthority:
    s = svc.settings
    return bootstrap_certificate_authority(
        svc.store,
        svc.kms,
        svc.clock,
        root_key_id=s.root_ca_key_id,
        issuing_key_id=s.issuing_ca_key_id,
        pki_base_url=s.pki_base_url,
    )


def ensure_ocsp_responder(svc: Services, *, force: bool = False) -> tuple[OcspResponderRecord, bool]:
    """`renew-ocsp-responder` and bootstrap-ca's responder (Services.ensure_ocsp_responder)."""
    return svc.ensure_ocsp_responder(force=force)


def ensure_timestamp_authority(svc: Services) -> tuple[TimestampAuthorityRecord, bool]:
    """The TSA's certificate for its KMS key (TSA_KEY_ID), issued once (fincert.domain.timestamping)."""
    return svc.ensure_timestamp_authority()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fincert-admin", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "bootstrap-ca", help="create the root and issuing CA certificates (once) and the OCSP responder"
    )
    commands.add_parser(
        "upgrade",
        help="on a deployment bootstrapped by an older version: create what bootstrap-ca now also "
        "creates (the time-stamping authority's certificate); running it again changes nothing",
    )
    renew = commands.add_parser(
        "renew-ocsp-responder", help="issue a new OCSP responder certificate if it ends within 10 days"
    )
    renew.add_argument("--force", action="store_true", help="issue a new one whatever the current one's age")
    register = commands.add_parser("register-institution", help="register a bank and print its API key once")
    register.add_argument("--id", required=True, help="lowercase id, e.g. demo-bank")
    register.add_argument("--name", required=True)
    register.add_argument("--scope", action="append", choices=[s.value for s in Scope], default=None)
    register.add_argument(
        "--origin",
        action="append",
        default=[],
        help="browser origin of the bank's pages: CORS, and where the service's window posts results",
    )
    register.add_argument(
        "--hosted-only",
        action="store_true",
        help="refuse this bank's own calls that carry a PIN or SMS code: its customers type them in the "
        "service's window only (docs/hosted-window.md)",
    )
    args = parser.parse_args(argv)

    svc = services()
    try:
        if args.command == "bootstrap-ca":
            chain = bootstrap_ca(svc).chain_pem()
            ensure_ocsp_responder(svc)
            ensure_timestamp_authority(svc)
            print(chain, end="")
            return 0
        if args.command == "upgrade":
            _, responder_new = ensure_ocsp_responder(svc)
            tsa, tsa_new = ensure_timestamp_authority(svc)
            summary = {
                "ocsp_responder_renewed": responder_new,
                "tsa_serial": format(tsa.serial_number, "x"),
                "tsa_created": tsa_new,
            }
            print(json.dumps(summary))
            return 0
        if args.command == "renew-ocsp-responder":
            record, renewed = ensure_ocsp_responder(svc, force=args.force)
            summary = {
                "responder_serial": format(record.serial_number, "x"),
                "not_after": record.not_after.isoformat(),
                "renewed": renewed,
            }
            print(json.dumps(summary))
            return 0
        scopes = args.scope or [s.value for s in Scope]
        institution, api_key = register_institution(
            svc.store, args.id, args.name, scopes, args.origin, hosted_only=args.hosted_only
        )
    except FincertError as e:
        print(f"fincert-admin: {e.code}: {e.message}", file=sys.stderr)
        return 1
    summary = {"institution_id": institution.institution_id, "api_key": api_key, "scopes": sorted(scopes)}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
