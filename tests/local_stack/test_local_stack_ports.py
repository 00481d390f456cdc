"""`make local` as an operator starts it: the ports it takes, a port clash said in one line,
and `make help` naming every target with what it does."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
from fincert_local.__main__ import PORT_IN_USE

from tests.support.stack import REPO


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something else listens on for the test's duration."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def _up(tmp_path, *ports: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fincert_local", "up", *ports, "--state", str(tmp_path / "state.json")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("flag", "other", "variable"),
    [("--port", "--moto-port", "PORT"), ("--moto-port", "--port", "MOTO_PORT")],
    ids=["gateway", "moto"],
)
def test_a_taken_port_is_named_in_one_line(tmp_path, busy_port, flag, other, variable):
    started = _up(tmp_path, flag, str(busy_port), other, "0", "--no-bank")
    assert started.returncode == PORT_IN_USE
    (line,) = started.stderr.splitlines()
    assert f"127.0.0.1:{busy_port} is in use" in line
    assert f"make local {variable}={busy_port + 1}" in line
    assert not (tmp_path / "state.json").exists()


def test_the_demo_bank_sites_taken_port_is_named_too(tmp_path, busy_port):
    started = _up(tmp_path, "--port", "0", "--moto-port", "0", "--bank-port", str(busy_port))
    assert started.returncode == PORT_IN_USE
    (line,) = started.stderr.splitlines()
    assert f"demo bank site's port 127.0.0.1:{busy_port} is in use" in line and "BANK_PORT=" in line


def _make(*args: str) -> str:
    done = subprocess.run(
        ["make", "--no-print-directory", *args], cwd=REPO, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_make_local_passes_the_ports_it_is_given():
    planned = _make("-n", "local", "PORT=3100", "MOTO_PORT=5100", "BANK_PORT=3200")
    assert "-m fincert_local up --port 3100 --moto-port 5100 --bank-port 3200" in planned
    assert "--port 3000 --moto-port 5000" in _make("-n", "local").replace("  ", " ")


def test_make_help_lists_every_target_with_its_comment():
    makefile = (REPO / "Makefile").read_text()
    # Each rule and the `##` lines right above it (variables and helper rules may sit in between,
    # but no blank line: that ends a comment, as in `make help`).
    described = {
        match["target"]: " ".join(line.removeprefix("## ") for line in match["comment"].splitlines())
        for match in re.finditer(
            r"(?P<comment>(?:^## .*\n)+)(?:^(?!## )(?![a-z][a-z-]*:).+\n)*^(?P<target>[a-z][a-z-]*):",
            makefile,
            re.M,
        )
    }
    targets = re.findall(r"^([a-z][a-z-]*):", makefile, re.M)
    assert set(described) == set(targets), f"targets without a ## comment: {set(targets) - set(described)}"
    listed = dict(line.strip().split(None, 1) for line in _make("help").splitlines())
    assert listed == described
