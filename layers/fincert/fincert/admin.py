"""Operator commands. Against the running `make local` they need no setup; against a deployed
stack, `--stack-name` (fincert.admin_target says where the CLI looks):

    fincert-admin bootstrap-ca            (also creates the delegated OCSP responder and the TSA)
    fincert-admin upgrade                 (an existing deployment: what bootstrap-ca adds that it lacks)
    fincert-admin renew-ocsp-responder [--force]
    fincert-admin register-institution --id demo-bank --name "Demo Bank" --scope enroll --scope connect
    fincert-admin list-institutions
    fincert-admin rotate-api-key --id demo-bank [--grace-hours 24]
    fincert-admin add-origin --id demo-bank --origin https://bank.example
    fincert-admin remove-origin --id demo-bank --origin https://bank.example
    fincert-admin deactivate-institution --id demo-bank
    fincert-admin reactivate-institution --id demo-bank
    fincert-admin migrate-history [--resume-from '{"pk": ..., "sk": ...}']

Adding a command: write its `_name(svc, args) -> int` (and `_name_arguments(parser)` when it takes
any) and add one `Command` to COMMANDS. Each prints JSON on stdout; errors are one line on stderr
and exit 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from fincert.domain.ca import CertificateAuthority, bootstrap_certificate_authority
from fincert.domain.ca_records import OcspResponderRecord
from fincert.domain.institution_records import Institution, Scope
from fincert.domain.institutions import (
    API_KEY_GRACE,
    DEFAULT_SCOPES,
    add_origin,
    list_institutions,
    register_institution,
    remove_origin,
    rotate_api_key,
    set_active,
)
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


def _print(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False))


def institution_summary(institution: Institution) -> dict[str, Any]:
    """What the operator sees of an institution: never a key or its hash."""
    summary: dict[str, Any] = {
        "institution_id": institution.institution_id,
        "name": institution.name,
        "active": institution.active,
        "scopes": sorted(institution.scopes),
        "origins": list(institution.allowed_origins),
        "hosted_only": institution.hosted_only,
    }
    if institution.previous_key_valid_until is not None:
        summary["previous_key_valid_until"] = institution.previous_key_valid_until.isoformat()
    return summary


def _institution_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--id", required=True, dest="institution_id", help="the institution's id, e.g. demo-bank"
    )


def _origin_arguments(parser: argparse.ArgumentParser) -> None:
    _institution_argument(parser)
    parser.add_argument(
        "--origin", required=True, help="e.g. https://bank.example or https://bank.example:8443"
    )


# --- the CA -------------------------------------------------------------------------------------
def _bootstrap_ca(svc: Services, args: argparse.Namespace) -> int:
    chain = bootstrap_ca(svc).chain_pem()
    ensure_ocsp_responder(svc)
    ensure_timestamp_authority(svc)
    print(chain, end="")
    return 0


def _upgrade(svc: Services, args: argparse.Namespace) -> int:
    _, responder_new = ensure_ocsp_responder(svc)
    tsa, tsa_new = ensure_timestamp_authority(svc)
    _print(
        {
            "ocsp_responder_renewed": responder_new,
            "tsa_serial": format(tsa.serial_number, "x"),
            "tsa_created": tsa_new,
        }
    )
    return 0


def _renew_ocsp_responder_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true", help="issue a new one whatever the current one's age")


def _renew_ocsp_responder(svc: Services, args: argparse.Namespace) -> int:
    record, renewed = ensure_ocsp_responder(svc, force=args.force)
    _print(
        {
            "responder_serial": format(record.serial_number, "x"),
            "not_after": record.not_after.isoformat(),
            "renewed": renewed,
        }
    )
    return 0


# --- institutions ---------------------------------------------------------------------------------
def _register_institution_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--id", required=True, dest="institution_id", help="3-32 lowercase letters, digits, dashes"
    )
    parser.add_argument("--name", required=True)
    parser.add_argument(
        "--scope",
        action="append",
        choices=[s.value for s in Scope],
        default=None,
        help="repeat for each: enroll (issue certificates), connect (connect customers, sign, manage); "
        f"default: {' and '.join(DEFAULT_SCOPES)}",
    )
    parser.add_argument(
        "--origin",
        action="append",
        default=[],
        help="browser origin of the bank's pages: CORS, and where the service's window posts results",
    )
    parser.add_argument(
        "--hosted-only",
        action="store_true",
        help="refuse this bank's own calls that carry a PIN or SMS code: its customers type them in the "
        "service's window only (docs/hosted-window.md)",
    )


def _register_institution(svc: Services, args: argparse.Namespace) -> int:
    scopes = args.scope or list(DEFAULT_SCOPES)
    institution, api_key = register_institution(
        svc.store, args.institution_id, args.name, scopes, args.origin, hosted_only=args.hosted_only
    )
    if not args.scope:
        print(
            f"fincert-admin: no --scope given: granted the default, {' and '.join(DEFAULT_SCOPES)}",
            file=sys.stderr,
        )
    _print({**institution_summary(institution), "api_key": api_key})
    return 0


def _list_institutions(svc: Services, args: argparse.Namespace) -> int:
    _print([institution_summary(institution) for institution in list_institutions(svc.store)])
    return 0


def _rotate_api_key_arguments(parser: argparse.ArgumentParser) -> None:
    _institution_argument(parser)
    parser.add_argument(
        "--grace-hours",
        type=float,
        default=API_KEY_GRACE.total_seconds() / 3600,
        help="how long the current key keeps working (default %(default)g; 0 for a leaked key; at most 720)",
    )


def _rotate_api_key(svc: Services, args: argparse.Namespace) -> int:
    institution, api_key = rotate_api_key(
        svc.store, args.institution_id, svc.clock.now(), timedelta(hours=args.grace_hours)
    )
    _print({**institution_summary(institution), "api_key": api_key})
    return 0


def _add_origin(svc: Services, args: argparse.Namespace) -> int:
    _print(institution_summary(add_origin(svc.store, args.institution_id, args.origin)))
    return 0


def _remove_origin(svc: Services, args: argparse.Namespace) -> int:
    _print(institution_summary(remove_origin(svc.store, args.institution_id, args.origin)))
    return 0


def _deactivate_institution(svc: Services, args: argparse.Namespace) -> int:
    _print(institution_summary(set_active(svc.store, args.institution_id, False)))
    return 0


def _reactivate_institution(svc: Services, args: argparse.Namespace) -> int:
    _print(institution_summary(set_active(svc.store, args.institution_id, True)))
    return 0


def _migrate_history_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--resume-from",
        type=json.loads,
        metavar="KEY",
        help="the key the last run printed on stderr before it stopped (JSON); default: from the start",
    )


def _migrate_history(svc: Services, args: argparse.Namespace) -> int:
    copied = already = 0
    start_key = args.resume_from
    while True:
        page_copied, page_already, start_key = svc.store.migrate_legacy_history(start_key)
        copied, already = copied + page_copied, already + page_already
        if start_key is None:
            break
        # Where a run cut short resumes (every copy is conditional, so rerunning is safe too).
        print(
            f"fincert-admin: {copied} copied, {already} already there; resume with "
            f"--resume-from '{json.dumps(start_key)}'",
            file=sys.stderr,
        )
    _print({"copied": copied, "already_there": already})
    return 0


@dataclass(frozen=True)
class Command:
    help: str
    run: Callable[[Services, argparse.Namespace], int]
    add_arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None


COMMANDS: dict[str, Command] = {
    "bootstrap-ca": Command(
        "create the root and issuing CA certificates (once), the OCSP responder and the TSA certificate",
        _bootstrap_ca,
    ),
    "upgrade": Command(
        "on a deployment bootstrapped by an older version: create what bootstrap-ca now also creates "
        "(the time-stamping authority's certificate); running it again changes nothing",
        _upgrade,
    ),
    "renew-ocsp-responder": Command(
        "issue a new OCSP responder certificate if it ends within 10 days",
        _renew_ocsp_responder,
        _renew_ocsp_responder_arguments,
    ),
    "register-institution": Command(
        "register a bank and print its API key once", _register_institution, _register_institution_arguments
    ),
    "list-institutions": Command("list every institution (never its key)", _list_institutions),
    "rotate-api-key": Command(
        "print a new API key once; the current one works until the grace period ends",
        _rotate_api_key,
        _rotate_api_key_arguments,
    ),
    "add-origin": Command("add a browser origin to an institution", _add_origin, _origin_arguments),
    "remove-origin": Command(
        "remove a browser origin from an institution", _remove_origin, _origin_arguments
    ),
    "deactivate-institution": Command(
        "refuse the institution's key, its customers' sessions and its UI tickets from the next request on",
        _deactivate_institution,
        _institution_argument,
    ),
    "reactivate-institution": Command(
        "accept the institution's key and its customers' unexpired sessions again",
        _reactivate_institution,
        _institution_argument,
    ),
    "migrate-history": Command(
        "once, when upgrading: copy history lines written under ACCT# before audit entries had their"
        " own AUDIT# partition, so history shows them and the idle purge keeps them; idempotent and"
        " resumable; a Scan of the whole table, acceptable for this one-off migration",
        _migrate_history,
        _migrate_history_arguments,
    ),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fincert-admin", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--stack-name", help="a deployed stack: read its CloudFormation outputs")
    parser.add_argument("--region", help="the deployed stack's region (default: AWS_REGION, your profile's)")
    parser.add_argument("--profile", help="the AWS profile to use for a deployed stack")
    parser.add_argument(
        "--local-state", type=Path, help="a local stack's state file (default: found by itself)"
    )
    parser.add_argument("--traceback", action="store_true", help="on an unexpected error, show the traceback")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        command.add_arguments(commands.add_parser(name, help=command.help, description=command.help))
    return parser


def _services(args: argparse.Namespace) -> Services:
    from fincert.admin_target import resolve

    target = resolve(
        stack_name=args.stack_name, region=args.region, profile=args.profile, state_file=args.local_state
    )
    print(f"fincert-admin: {target.description}", file=sys.stderr)
    if target.clients is None:
        return services()  # the process's own: the environment (or a test's moto)
    return Services(target.settings, clients=target.clients)


def _one_line(error: BaseException) -> str:
    from fincert.adapters.aws_errors import describe_failure

    if isinstance(error, FincertError):
        # An AWS fault the store turned into a 503 says more through its cause.
        cause = describe_failure(error.__cause__) if error.__cause__ is not None else None
        return f"{error.code}: {cause or error.message}"
    return describe_failure(error) or f"unexpected {type(error).__name__}: {error}"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command].run(_services(args), args)
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        if args.traceback:
            raise
        print(f"fincert-admin: {_one_line(e)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
