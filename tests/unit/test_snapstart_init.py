"""What a SnapStart snapshot may hold (docs/snapstart.md): the functions' init and the
before-snapshot hooks open no connection (a socket, or TLS state, in the snapshot would be shared
by every restored copy), and the layer draws no randomness from a generator whose state the
snapshot would copy. Each function is imported in a fresh interpreter, as Lambda's runtime does."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "fincert"
FUNCTIONS = sorted(path.parent.name for path in (ROOT / "functions").glob("*/app.py"))

# Imports every function's app.py, then runs the before-snapshot hooks as the runtime does
# (reverse order of registration), recording every audited step towards a peer: a name lookup,
# a connect, a datagram. (urllib3 binds a throwaway socket to ::1 at import to learn whether
# IPv6 exists, and closes it: no peer, nothing left open.)
_PROBE = """
import importlib.util, json, sys
OUTBOUND = ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.sendto", "socket.sendmsg")
events = []
sys.addaudithook(lambda event, args: events.append(event) if event in OUTBOUND else None)
for name in sys.argv[1:]:
    spec = importlib.util.spec_from_file_location(f"app_{name}", f"functions/{name}/app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
import snapshot_restore_py
from fincert import snapstart
again = snapstart.register()
for hook, args, kwargs in reversed(snapshot_restore_py.get_before_snapshot()):
    hook(*args, **kwargs)
print(json.dumps({
    "events": events,
    "again": again,
    "before": [hook.__qualname__ for hook, _, _ in snapshot_restore_py.get_before_snapshot()],
    "after": [hook.__qualname__ for hook, _, _ in snapshot_restore_py.get_after_restore()],
}))
"""


def _environment() -> dict[str, str]:
    names = (
        "TABLE_NAME",
        "ROOT_CA_KEY_ID",
        "ISSUING_CA_KEY_ID",
        "KEY_WRAP_KEY_ID",
        "HMAC_KEY_ID",
        "CONTENT_MAC_KEY_ID",
        "CERTIFICATE_POLICY_OID",
    )
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environment |= dict.fromkeys(names, "x") | {"PKI_BASE_URL": "http://pki.fincert.example"}
    # An endpoint nobody listens on: a call at init would show as a socket event, never reach AWS.
    environment |= {"AWS_DEFAULT_REGION": "ap-northeast-2", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    environment |= {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    environment["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
    return environment


def test_no_function_opens_a_connection_before_its_snapshot():
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *FUNCTIONS],
        cwd=ROOT,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"authorizer", "enrollment", "signing", "csc", "pki"} <= set(FUNCTIONS)
    assert probe["events"] == []
    # Registered once by the first import of fincert.wiring, whatever imports it again.
    assert probe["again"] is True
    assert probe["before"].count("before_snapshot") == 1
    assert probe["after"].count("after_restore") == 1


def _imports_of(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_the_service_draws_no_randomness_from_a_generator_a_snapshot_would_copy():
    # Secrets, ids, serials and SMS codes come from `secrets` (the kernel): restored copies do not
    # share them. `random` is a Mersenne Twister seeded once per process, which a snapshot freezes;
    # only fincert.snapstart touches it, to reseed it after a restore.
    sources = [*sorted((LAYER / "fincert").rglob("*.py")), *sorted((ROOT / "functions").glob("*/*.py"))]
    using_random = {str(path.relative_to(ROOT)) for path in sources if "random" in _imports_of(path)}
    assert using_random == {"layers/fincert/fincert/snapstart.py"}
    assert any("secrets" in _imports_of(path) for path in sources)
