"""`python -m fincert_local demo`: a scripted enrollment and issuance against a running local
stack, as a bank would do it, then the certificate checked by `openssl verify` against the
root served at the PKI endpoint (not the one the response carried)."""

from __future__ import annotations

import argparse
import json
import re
import secrets
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

import requests
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from fincert_local.state import DEFAULT_STATE, load_state
from fincert_local.template import repo_root

DEMO_PIN = "135790"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE)
    parser.add_argument("--out", type=Path, default=repo_root() / "out" / "demo")
    parser.add_argument("--key-algorithm", choices=["RSA_2048", "EC_P256"], default="RSA_2048")


def sms_code_in(text: str) -> str:
    """The 6-digit code of an enrollment SMS ("... 인증번호 [123456] ...")."""
    found = re.search(r"\[(\d{6})\]", text)
    if found is None:
        raise ValueError("no code in this SMS")
    return found.group(1)


def _call(method: str, url: str, body: Any = None, api_key: str | None = None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    response = requests.request(method, url, json=body, headers=headers, timeout=30)
    return response.status_code, response.content


def _expect(step: str, status: int, body: bytes, wanted: int) -> Any:
    if status != wanted:
        raise SystemExit(f"{step}: HTTP {status}: {body.decode(errors='replace')}")
    return json.loads(body) if body.startswith(b"{") else body


def demo_customer(key_algorithm: str) -> dict[str, Any]:
    # A fresh number each run, so repeated demos stay under the per-phone SMS limit.
    phone = f"010{secrets.randbelow(10**8):08d}"
    return {
        "name": "홍길동",
        "phone": phone,
        "birth_date": "19900101",
        "terms_accepted": True,
        "auto_renew": True,
        "key_algorithm": key_algorithm,
    }


def latest_sms_code(base: str, phone: str) -> str:
    """From the local-only endpoint (the deployed API has none)."""
    query = urllib.parse.urlencode({"phone": "+82" + phone[1:]})
    texts = _expect("sms", *_call("GET", f"{base}/_local/sms?{query}"), 200)["messages"]
    return sms_code_in(texts[-1])


def enroll(base: str, api_key: str, customer: dict[str, Any], say=print) -> dict[str, Any]:
    say(f"1. POST /v1/enrollments for a demo customer ({customer['key_algorithm']})")
    started = _expect("enroll", *_call("POST", f"{base}/v1/enrollments", customer, api_key), 201)
    say("2. read the SMS code from the local-only endpoint (the deployed API has none)")
    code = latest_sms_code(base, customer["phone"])
    say("3. POST /v1/enrollments/{id}/confirm with the code and a new PIN")
    confirm_url = f"{base}/v1/enrollments/{started['enrollment_id']}/confirm"
    return _expect("confirm", *_call("POST", confirm_url, {"sms_code": code, "pin": DEMO_PIN}, api_key), 201)


def run(args: argparse.Namespace) -> int:
    state = load_state(args.state)
    if state is None:
        return 2
    base, api_key = state["gateway_url"], state["bootstrap"]["api_key"]
    issued = enroll(base, api_key, demo_customer(args.key_algorithm))

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "certificate.pem").write_text(issued["certificate_pem"])
    issuing = x509.load_pem_x509_certificates(issued["chain_pem"].encode())[0]  # issuing CA, then root
    (args.out / "issuing-ca.pem").write_bytes(issuing.public_bytes(Encoding.PEM))
    root_der = _expect("root", *_call("GET", f"{base}/pki/root-ca.crt"), 200)
    (args.out / "root-ca.der").write_bytes(root_der)
    subprocess.run(
        ["openssl", "x509", "-inform", "DER", "-in", "root-ca.der", "-out", "root-ca.pem"],
        cwd=args.out,
        check=True,
    )
    print(f"4. issued serial {issued['serial_number']}, valid until {issued['not_after']}")
    print("5. openssl verify -CAfile root-ca.pem -untrusted issuing-ca.pem certificate.pem")
    verified = subprocess.run(
        [
            "openssl",
            "verify",
            "-x509_strict",
            "-CAfile",
            "root-ca.pem",
            "-untrusted",
            "issuing-ca.pem",
            "certificate.pem",
        ],
        cwd=args.out,
        check=False,
    )
    print(f"files in {args.out}")
    return verified.returncode
