"""The local stack as a user starts it (`python -m fincert_local up`), in a subprocess, used over
HTTP: starting it, the bank's requests to it, and its moto server's table."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3
import requests
from cryptography import x509

from tests.support import log_safety

REPO = Path(__file__).resolve().parents[2]


@dataclass
class RunningStack:
    url: str
    moto_url: str
    api_key: str
    state_file: Path
    region: str

    def post(self, path: str, body: object, api_key: str | None = None) -> requests.Response:
        key = self.api_key if api_key is None else api_key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return requests.post(self.url + path, json=body, headers=headers, timeout=30)

    def get(self, path: str, **kw) -> requests.Response:
        return requests.get(self.url + path, timeout=30, **kw)

    def sms_code(self, phone_e164: str) -> str:
        from fincert_local.demo import sms_code_in

        texts = self.get("/_local/sms", params={"phone": phone_e164}).json()["messages"]
        code = sms_code_in(texts[-1])
        log_safety.remember_secret(code)
        return code

    @property
    def table_name(self) -> str:
        return json.loads(self.state_file.read_text())["environment"]["TABLE_NAME"]

    def dynamodb(self):
        """A DynamoDB client on the stack's moto server (the stack's own fake credentials)."""
        return boto3.client(
            "dynamodb",
            endpoint_url=self.moto_url,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


@contextmanager
def running_stack(workdir: Path) -> Iterator[RunningStack]:
    """Starts `fincert_local up` with its state and log in workdir, until the block ends."""
    state_file = workdir / "state.json"
    log_file = workdir / "stack.log"
    log_safety.EXTERNAL_LOGS.append(log_file)
    env = os.environ | {
        # The concurrency tests enroll one person many times; the SMS limit is tested elsewhere.
        "SMS_PER_PHONE_PER_HOUR": "1000",
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("AWS_ENDPOINT_URL", None)
    with log_file.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fincert_local",
                "up",
                "--port",
                "0",
                "--moto-port",
                "0",
                "--state",
                str(state_file),
                # Expired items go within a second (tests/local_stack/test_moto_fixes.py waits for it).
                "--ttl-sweep-seconds",
                "1",
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 90
            while not state_file.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"local stack did not start:\n{log_file.read_text()}")
                time.sleep(0.2)
            state = json.loads(state_file.read_text())
            log_safety.remember_secret(state["bootstrap"]["api_key"])
            yield RunningStack(
                url=state["gateway_url"],
                moto_url=state["moto_url"],
                api_key=state["bootstrap"]["api_key"],
                state_file=state_file,
                region=state["region"],
            )
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def served_root(stack: RunningStack) -> x509.Certificate:
    response = stack.get("/pki/root-ca.crt")
    assert response.status_code == 200
    return x509.load_der_x509_certificate(response.content)
