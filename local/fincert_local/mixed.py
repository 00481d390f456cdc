"""`python -m fincert_local load --mixed`: many customers doing everything at once (issue 11, item 10).

Each client thread is one customer, issued a certificate and connected once, who then picks an
operation at random until the time is up: connect again, sign by CSC (authorize the right PIN +
signHash), enter a wrong PIN, sign a text (POST /v1/signatures), suspend (with the PIN), restore
(the bank re-verifies by SMS), register or remove a device, list devices, read the history. Each
customer keeps a model of what it did: suspended or not, wrong PINs since the last right one,
its devices. Answers are checked against it as they come (a signature while suspended, a device
beyond the fifth, a wrong PIN not refused as one: each a violation), and once the load is over
the invariants are checked from the stored state, read from the stack's DynamoDB table:

- at most one active certificate per account, and each customer's certificate in the state its
  model says (active / suspended);
- the PIN counter (attempts - cleared) is exactly the wrong PINs the customer entered since its
  last accepted PIN;
- nothing was authorized or signed while suspended (the account's history, in order, against its
  status changes);
- at most 5 devices, and exactly the ones the customer registered and did not remove.

Any 5xx, unanswered request or broken invariant makes the command exit 1.
"""

from __future__ import annotations

import base64
import hashlib
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests

from fincert_local.demo import DEMO_PIN, demo_customer, enroll, latest_sms_code

WRONG_PIN = "864209"
MAX_DEVICES = 5
MAX_WRONG_BEFORE_LOCK = 4  # the fifth wrong PIN locks; the model never goes there
ALGORITHMS = {"RSA_2048": "1.2.840.113549.1.1.11", "EC_P256": "1.2.840.10045.4.3.2"}
# Relative weights: signing dominates, as in a bank's day.
WEIGHTS = {
    "sign_csc": 6,
    "sign_text": 4,
    "wrong_pin": 2,
    "history": 2,
    "devices": 1,
    "register_device": 2,
    "remove_device": 1,
    "suspend": 1,
    "restore": 2,
    "connect": 1,
}


def _device_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)  # operation -> seconds
    statuses: Counter = field(default_factory=Counter)  # "op status" -> n
    server_errors: list[str] = field(default_factory=list)
    transport_errors: int = 0
    violations: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class MixedCustomer:
    base: str
    api_key: str
    key_algorithm: str
    tally: Tally
    rng: random.Random
    person: dict = field(default_factory=dict)
    credential_id: str = ""
    account_id: str = ""
    token: str = ""
    http: requests.Session = field(default_factory=requests.Session)
    # The model.
    suspended: bool = False
    wrong_pins: int = 0
    devices: set[str] = field(default_factory=set)
    n: int = 0

    # --- transport ------------------------------------------------------------------------------
    def _send(self, op: str, method: str, path: str, body: Any = None, *, bank: bool = False) -> Any:
        key = self.api_key if bank else self.token
        began = time.monotonic()
        try:
            response = self.http.request(
                method, self.base + path, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=60
            )
        except requests.RequestException:
            with self.tally.lock:
                self.tally.transport_errors += 1
            return None
        elapsed = time.monotonic() - began
        with self.tally.lock:
            self.tally.latencies.setdefault(op, []).append(elapsed)
            self.tally.statuses[f"{op} {response.status_code}"] += 1
            if response.status_code >= 500:
                self.tally.server_errors.append(
                    f"{op} {method} {path}: {response.status_code} {response.text[:300]}"
                )
        return response

    def _violation(self, text: str) -> None:
        with self.tally.lock:
            self.tally.violations.append(f"{self.account_id}: {text}")

    def _code(self, response: Any) -> str:
        try:
            body = response.json()
        except ValueError:
            return ""
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            return str(error.get("code", ""))
        return str(error or (body.get("code", "") if isinstance(body, dict) else ""))

    # --- setup ----------------------------------------------------------------------------------
    def start(self) -> None:
        self.person = demo_customer(self.key_algorithm)
        issued = enroll(self.base, self.api_key, self.person, say=lambda _: None)
        self.credential_id = issued["credential_id"]
        self.connect()

    def connect(self) -> None:
        identity = {k: self.person[k] for k in ("name", "phone", "birth_date")}
        started = self._send("connect", "POST", "/v1/connections", identity, bank=True)
        if started is None or started.status_code != 201:
            return
        code = latest_sms_code(self.base, self.person["phone"])
        path = f"/v1/connections/{started.json()['verification_id']}/confirm"
        confirmed = self._send("connect", "POST", path, {"sms_code": code}, bank=True)
        if confirmed is not None and confirmed.status_code in (200, 201):
            self.token = confirmed.json()["session_token"]
            self.account_id = self.token.split(".")[2]  # fcs.<institution>.<account id>.<session id>.<secret>

    # --- operations -----------------------------------------------------------------------------
    def _signed(self, op: str, response: Any) -> None:
        if response is None or response.status_code >= 500:
            return
        if self.suspended and response.status_code < 300:
            self._violation(f"{op} succeeded while suspended")
        if not self.suspended and response.status_code >= 300:
            self._violation(f"{op} refused while active: {response.status_code} {self._code(response)}")
        if not self.suspended and response.status_code < 300:
            self.wrong_pins = 0

    def sign_csc(self) -> None:
        self.n += 1
        digest = base64.b64encode(hashlib.sha256(f"mixed {self.n}".encode()).digest()).decode()
        body = {"credentialID": self.credential_id, "numSignatures": 1, "hash": [digest], "PIN": DEMO_PIN}
        authorized = self._send("sign_csc", "POST", "/csc/v1/credentials/authorize", body)
        self._signed("authorize", authorized)
        if authorized is None or authorized.status_code != 200:
            return
        sign = {
            "credentialID": self.credential_id,
            "SAD": authorized.json()["SAD"],
            "hash": [digest],
            "signAlgo": ALGORITHMS[self.key_algorithm],
        }
        self._signed("signHash", self._send("sign_csc", "POST", "/csc/v1/signatures/signHash", sign))

    def sign_text(self) -> None:
        self.n += 1
        body = {
            "contents": [{"text": f"이체 {self.n}"}],
            "sign_type": "transfer",
            "formats": ["raw"],
            "pin": DEMO_PIN,
        }
        self._signed("sign_text", self._send("sign_text", "POST", "/v1/signatures", body))

    def wrong_pin(self) -> None:
        if self.suspended or self.wrong_pins >= MAX_WRONG_BEFORE_LOCK:
            return self.sign_csc()  # a right PIN instead: it also clears the count
        digest = base64.b64encode(hashlib.sha256(b"wrong").digest()).decode()
        body = {"credentialID": self.credential_id, "numSignatures": 1, "hash": [digest], "PIN": WRONG_PIN}
        response = self._send("wrong_pin", "POST", "/csc/v1/credentials/authorize", body)
        if response is None or response.status_code >= 500:
            return None
        if (response.status_code, self._code(response)) != (400, "pin_invalid"):
            self._violation(f"a wrong PIN answered {response.status_code} {self._code(response)}")
        else:
            self.wrong_pins += 1
        return None

    def suspend(self) -> None:
        if self.suspended:
            return self.restore()
        response = self._send(
            "suspend", "POST", "/v1/certificate/status", {"action": "suspend", "pin": DEMO_PIN}
        )
        if response is not None and response.status_code == 200:
            self.suspended, self.wrong_pins = True, 0
        elif response is not None and response.status_code < 500:
            self._violation(f"suspend refused: {response.status_code} {self._code(response)}")
        return None

    def restore(self) -> None:
        if not self.suspended:
            return self.history()
        identity = {k: self.person[k] for k in ("name", "phone", "birth_date")}
        started = self._send("restore", "POST", "/v1/status-changes", identity, bank=True)
        if started is None or started.status_code != 201:
            return None
        code = latest_sms_code(self.base, self.person["phone"])
        path = f"/v1/status-changes/{started.json()['verification_id']}/confirm"
        response = self._send("restore", "POST", path, {"sms_code": code, "action": "restore"}, bank=True)
        if response is not None and response.status_code == 200:
            self.suspended = False
        elif response is not None and response.status_code < 500:
            self._violation(f"restore refused: {response.status_code} {self._code(response)}")
        return None

    def register_device(self) -> None:
        self.n += 1
        body = {"name": f"기기 {self.n}", "public_key": _device_key()}
        response = self._send("register_device", "POST", "/v1/devices", body)
        if response is None or response.status_code >= 500:
            return
        if response.status_code == 201:
            self.devices.add(response.json()["device_id"])
            if len(self.devices) > MAX_DEVICES:
                self._violation(f"a device beyond the {MAX_DEVICES}th was registered")
        elif len(self.devices) < MAX_DEVICES:
            self._violation(f"device refused below the limit: {response.status_code} {self._code(response)}")

    def remove_device(self) -> None:
        if not self.devices:
            return self.register_device()
        device_id = self.rng.choice(sorted(self.devices))
        response = self._send("remove_device", "DELETE", f"/v1/devices/{device_id}")
        if response is not None and response.status_code == 204:
            self.devices.discard(device_id)
        elif response is not None and response.status_code < 500:
            self._violation(f"device removal refused: {response.status_code} {self._code(response)}")
        return None

    def list_devices(self) -> None:
        response = self._send("devices", "GET", "/v1/devices")
        if response is not None and response.status_code == 200:
            listed = {d["device_id"] for d in response.json()["devices"]}
            if listed != self.devices:
                self._violation(
                    f"GET /v1/devices lists {len(listed)}, the customer holds {len(self.devices)}"
                )

    def history(self) -> None:
        self._send("history", "GET", "/v1/history?limit=20")

    def step(self) -> None:
        op = self.rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        {
            "sign_csc": self.sign_csc,
            "sign_text": self.sign_text,
            "wrong_pin": self.wrong_pin,
            "history": self.history,
            "devices": self.list_devices,
            "register_device": self.register_device,
            "remove_device": self.remove_device,
            "suspend": self.suspend,
            "restore": self.restore,
            "connect": self.connect,
        }[op]()


# --- the invariants, from the stored state ------------------------------------------------------


def _s(item: dict, name: str) -> str | None:
    value = item.get(name)
    return None if value is None else next(iter(value.values()))


def check_stored_state(items: list[dict], customers: list[MixedCustomer]) -> list[str]:
    """The invariants of the module docstring, from the table's items (low-level JSON)."""
    by_account: dict[str, list[dict]] = {}
    for item in items:
        pk = _s(item, "pk") or ""
        if pk.startswith("ACCT#"):
            by_account.setdefault(pk.removeprefix("ACCT#"), []).append(item)
    broken = []
    for account_id, account_items in by_account.items():
        active = [
            i
            for i in account_items
            if (_s(i, "sk") or "").startswith("CRED#") and _s(i, "status") == "active"
        ]
        if len(active) > 1:
            broken.append(f"{account_id}: {len(active)} active certificates")
        devices = [i for i in account_items if (_s(i, "sk") or "").startswith("DEVICE#")]
        if len(devices) > MAX_DEVICES:
            broken.append(f"{account_id}: {len(devices)} devices")
        suspended = False
        for entry in sorted(
            (i for i in account_items if (_s(i, "sk") or "").startswith("HIST#")), key=lambda i: _s(i, "sk")
        ):
            event = _s(entry, "event")
            if event == "status_changed":
                action = (entry.get("detail", {}).get("M", {}).get("action") or {}).get("S")
                suspended = action == "suspend" if action in ("suspend", "restore") else suspended
            elif event in ("signed", "authorized") and suspended:
                broken.append(f"{account_id}: {event} while suspended ({_s(entry, 'sk')})")
    for customer in customers:
        if not customer.account_id:
            continue
        account_items = by_account.get(customer.account_id, [])
        account = next((i for i in account_items if _s(i, "sk") == "ACCOUNT"), None)
        if account is None:
            broken.append(f"{customer.account_id}: no ACCOUNT item")
            continue
        failures = int(_s(account, "pin_attempts") or 0) - int(_s(account, "pin_cleared") or 0)
        if failures != customer.wrong_pins:
            broken.append(
                f"{customer.account_id}: PIN counter {failures}, the customer entered {customer.wrong_pins}"
            )
        stored_suspended = "credential_suspended" in account
        if stored_suspended != customer.suspended:
            broken.append(
                f"{customer.account_id}: stored suspended={stored_suspended}, model {customer.suspended}"
            )
        credential = next((i for i in account_items if _s(i, "sk") == f"CRED#{customer.credential_id}"), None)
        wanted = "suspended" if customer.suspended else "active"
        if credential is None or _s(credential, "status") != wanted:
            broken.append(
                f"{customer.account_id}: certificate {_s(credential or {}, 'status')}, model {wanted}"
            )
        stored_devices = {
            (_s(i, "sk") or "").removeprefix("DEVICE#")
            for i in account_items
            if (_s(i, "sk") or "").startswith("DEVICE#")
        }
        if stored_devices != customer.devices:
            broken.append(
                f"{customer.account_id}: {len(stored_devices)} devices stored, model {len(customer.devices)}"
            )
    return broken


def scan_table(state: dict) -> list[dict]:
    from fincert_local.load_common import dynamodb_client

    client, table, items = dynamodb_client(state), state["environment"]["TABLE_NAME"], []
    for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items += page["Items"]
    return items


def run_mixed(
    target: Any, clients: int, seconds: float, key_algorithm: str, seed: int | None, say: Any
) -> dict:
    from fincert_local.load_common import percentile, rss_mb, run_threads

    tally = Tally()
    seeds = random.Random(seed)  # noqa: S311  # which operation next, not a secret
    say(f"issuing and connecting {clients} customers ({key_algorithm}) ...")
    customers = [
        MixedCustomer(target.url, target.api_key, key_algorithm, tally, random.Random(seeds.random()))  # noqa: S311
        for _ in range(clients)
    ]
    for customer in customers:
        customer.start()
    setup_requests = sum(len(v) for v in tally.latencies.values())
    tally.latencies.clear()
    tally.statuses.clear()
    rss_before = rss_mb(target.pid)
    say(f"{clients} customers doing mixed operations for {seconds:.0f} s ...")

    def work(i: int, until: float) -> None:
        while time.monotonic() < until:
            try:
                customers[i].step()
            # The load's own failure (demo.py's helpers raise SystemExit): reported, and this
            # customer stops.
            except (Exception, SystemExit) as e:
                customers[i]._violation(f"the load client failed: {type(e).__name__}: {e}")
                return

    elapsed = run_threads(work, clients, seconds)
    rss_after = rss_mb(target.pid)
    has_table = "moto_url" in target.state and "environment" in target.state
    broken = check_stored_state(scan_table(target.state), customers) if has_table else None
    everything = [s * 1000 for v in tally.latencies.values() for s in v]
    return {
        "mode": "mixed",
        "clients": clients,
        "seconds": seconds,
        "elapsed_s": elapsed,
        "key_algorithm": key_algorithm,
        "setup_requests": setup_requests,
        "requests": len(everything),
        "per_second": len(everything) / elapsed,
        "latency_ms": {q: percentile(everything, v) for q, v in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))},
        "latency_ms_by_operation": {
            op: {
                "n": len(v),
                "p50": percentile([s * 1000 for s in v], 0.5),
                "p99": percentile([s * 1000 for s in v], 0.99),
            }
            for op, v in sorted(tally.latencies.items())
        },
        "statuses": dict(sorted(tally.statuses.items())),
        "errors_5xx": len(tally.server_errors),
        "server_errors": tally.server_errors[:10],
        "transport_errors": tally.transport_errors,
        "violations": tally.violations,
        "stored_state_checked": broken is not None,
        "invariants_broken": broken or [],
        "rss_mb": {"before": rss_before, "after": rss_after},
    }


def report(result: dict) -> str:
    lat = result["latency_ms"]
    rss = result["rss_mb"]
    lines = [
        f"mixed load: {result['clients']} customers, {result['elapsed_s']:.0f} s, {result['key_algorithm']}",
        f"requests       {result['requests']} ({result['per_second']:.1f}/s; {result['setup_requests']} more to set up)",
        f"latency ms     p50 {lat['p50']:.0f}  p95 {lat['p95']:.0f}  p99 {lat['p99']:.0f}",
        f"5xx            {result['errors_5xx']}, no answer {result['transport_errors']}",
    ]
    for op, row in result["latency_ms_by_operation"].items():
        statuses = ", ".join(
            f"{key.split()[1]} x{n}" for key, n in result["statuses"].items() if key.split()[0] == op
        )
        lines.append(
            f"  {op:<16} n={row['n']:<5} p50 {row['p50']:.0f} ms  p99 {row['p99']:.0f} ms  ({statuses})"
        )
    if rss["before"] is not None and rss["after"] is not None:
        lines.append(f"stack RSS      {rss['before']:.0f} MB -> {rss['after']:.0f} MB")
    if not result["stored_state_checked"]:
        lines.append("invariants     NOT CHECKED (the stack's table is not reachable: pass --state)")
    elif result["invariants_broken"] or result["violations"]:
        lines.append(
            f"invariants     BROKEN: {len(result['invariants_broken'])} stored, {len(result['violations'])} seen"
        )
        lines += [f"  {text}" for text in (result["invariants_broken"] + result["violations"])[:20]]
    else:
        lines.append(
            "invariants     hold: <= 1 active certificate, PIN counters exact, nothing signed while suspended, "
            f"<= {MAX_DEVICES} devices (and each as the customer left it)"
        )
    for text in result["server_errors"]:
        lines.append(f"  5xx: {text}")
    return "\n".join(lines)
