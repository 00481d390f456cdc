"""fincert-admin against the running local stack with zero setup: no variable exported, run
from anywhere inside the checkout that started it; its changes are what the stack's gateway
answers from the next request on."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fincert.settings import REQUIRED_VARIABLES

from tests.support import log_safety

pytestmark = pytest.mark.e2e

ORIGIN = "https://cli-bank.example"


def _checkout_with(stack, tmp_path: Path) -> Path:
    """A directory laid out as a checkout where `make local` runs: .local-stack/state.json."""
    state = tmp_path / ".local-stack" / "state.json"
    state.parent.mkdir()
    shutil.copy(stack.state_file, state)
    return tmp_path


def admin(cwd: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in REQUIRED_VARIABLES and not name.startswith("AWS_") and name != "FINCERT_LOCAL_STATE"
    }
    done = subprocess.run(
        [sys.executable, "-m", "fincert.admin", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode == 0 and done.stdout.startswith("{") and "api_key" in done.stdout:
        log_safety.remember_secret(json.loads(done.stdout)["api_key"])
    return done


def test_the_cli_finds_the_running_local_stack_by_itself(stack, tmp_path):
    checkout = _checkout_with(stack, tmp_path)
    deep = checkout / "docs" / "somewhere"
    deep.mkdir(parents=True)

    registered = admin(
        deep,
        "register-institution",
        "--id",
        "cli-bank",
        "--name",
        "CLI",
        "--scope",
        "connect",
        "--origin",
        ORIGIN,
    )
    assert registered.returncode == 0, registered.stderr
    assert "the local stack" in registered.stderr
    api_key = json.loads(registered.stdout)["api_key"]
    ticket = {"purpose": "connect", "origin": ORIGIN}
    assert stack.post("/v1/ui-tickets", ticket, api_key=api_key).status_code == 201

    listed = admin(deep, "list-institutions")
    assert listed.returncode == 0, listed.stderr
    assert {"demo-bank", "cli-bank"} <= {i["institution_id"] for i in json.loads(listed.stdout)}

    assert admin(deep, "deactivate-institution", "--id", "cli-bank").returncode == 0
    assert stack.post("/v1/ui-tickets", ticket, api_key=api_key).status_code == 401
    assert admin(deep, "reactivate-institution", "--id", "cli-bank").returncode == 0
    assert stack.post("/v1/ui-tickets", ticket, api_key=api_key).status_code == 201


def test_the_started_stack_prints_next_steps_with_the_line_to_export(stack):
    printed = (stack.state_file.parent / "stack.log").read_text()
    assert "Next steps" in printed and "make demo" in printed and "make sandbox" in printed
    assert f"export FINCERT_LOCAL_STATE={stack.state_file.resolve()}" in printed
    assert f"{stack.url}/_local/docs" in printed


def test_the_exported_state_file_works_from_outside_any_checkout(stack, tmp_path):
    env_line = f"FINCERT_LOCAL_STATE={stack.state_file}"
    done = subprocess.run(
        [sys.executable, "-m", "fincert.admin", "list-institutions"],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k not in REQUIRED_VARIABLES}
        | dict([env_line.split("=", 1)]),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "demo-bank" in {i["institution_id"] for i in json.loads(done.stdout)}


def test_the_cli_says_in_one_line_when_the_stack_has_stopped(tmp_path):
    state = tmp_path / ".local-stack" / "state.json"
    state.parent.mkdir()
    state.write_text(
        json.dumps({"moto_url": "http://127.0.0.1:9", "environment": {}, "region": "ap-northeast-2"})
    )
    done = admin(tmp_path, "list-institutions")
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert "not running" in line and "make local" in line


def test_a_variable_in_the_environment_wins_over_the_state_files(stack, tmp_path):
    checkout = _checkout_with(stack, tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in REQUIRED_VARIABLES} | {"TABLE_NAME": "elsewhere"}
    done = subprocess.run(
        [sys.executable, "-m", "fincert.admin", "list-institutions"],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "the local stack" in done.stderr and "ResourceNotFoundException" in done.stderr
