"""`python -m fincert_local sandbox`: seed a demo customer in the running local stack and print
what an integrator needs to point a CSC client (pyHanko, iText, SetaPDF) at the service: the
service URL, a credential ID, a customer session token and the PIN, and the time-stamping
authority's URL with the header its requests carry (RFC 3161 over HTTPS, the same session
token), as one JSON object."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fincert_local.demo import DEMO_PIN, _call, _expect, demo_customer, enroll, latest_sms_code
from fincert_local.state import DEFAULT_STATE, load_state


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE)
    parser.add_argument("--key-algorithm", choices=["RSA_2048", "EC_P256"], default="RSA_2048")


def run(args: argparse.Namespace) -> int:
    state = load_state(args.state)
    if state is None:
        return 2
    base, api_key = state["gateway_url"], state["bootstrap"]["api_key"]
    customer = demo_customer(args.key_algorithm)
    issued = enroll(base, api_key, customer, say=lambda line: print(line, file=sys.stderr))
    identity = {k: customer[k] for k in ("name", "phone", "birth_date")}
    print("4. POST /v1/connections + /confirm: a customer session for the CSC client", file=sys.stderr)
    started = _expect("connect", *_call("POST", f"{base}/v1/connections", identity, api_key), 201)
    code = latest_sms_code(base, customer["phone"])
    confirm_url = f"{base}/v1/connections/{started['verification_id']}/confirm"
    session = _expect("confirm", *_call("POST", confirm_url, {"sms_code": code}, api_key), 201)
    print(
        json.dumps(
            {
                "service_url": base,
                "csc_base_url": f"{base}/csc/v1",
                "credential_id": issued["credential_id"],
                "session_token": session["session_token"],
                "session_expires_at": session["expires_at"],
                "pin": DEMO_PIN,
                "key_algorithm": issued["key_algorithm"],
                "ca_chain_url": f"{base}/pki/chain.pem",
                "tsa_url": f"{base}/v1/timestamps",
                "tsa_headers": {
                    "Authorization": f"Bearer {session['session_token']}",
                    "Content-Type": "application/timestamp-query",
                },
            },
            indent=2,
        )
    )
    return 0
