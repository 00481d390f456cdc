"""Running one side of a cold start in a fresh interpreter.

The two sides are scripts beside this module: handler_child.py (import the handler, serve one
event, record its AWS calls and its answer) and floor_child.py (import boto3 and the cryptography
the operation needs, replay those calls, redo the operation's cryptography). Each is run
by path with -P, so the child's sys.path gets no script directory (nor, as with -c, its working
directory) and it imports only what the handler or boto3 imports. A job goes in as a JSON file
and the result comes back as one (bytes as {"__bytes__": base64}), because handlers log to stdout.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fincert_local.template import repo_root

HANDLER_CHILD = Path(__file__).with_name("handler_child.py")
FLOOR_CHILD = Path(__file__).with_name("floor_child.py")
CHILD_TIMEOUT_S = 180


@dataclass
class ChildRunner:
    environment: dict[str, str]
    workdir: Path
    python: str = sys.executable

    def child_env(self, function_env: dict[str, str]) -> dict[str, str]:
        base = {name: os.environ[name] for name in ("PATH", "LANG", "LC_ALL", "TZ") if name in os.environ}
        return {
            **base,
            **function_env,
            **self.environment,
            # Nothing from the developer's own AWS setup may change what either side does.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            # The layer of this checkout, where Lambda puts it (/opt/python): not whichever
            # checkout the venv's editable install points at.
            "PYTHONPATH": str(repo_root() / "layers" / "fincert"),
        }

    def run(
        self, script: Path, job: Any, env: dict[str, str], python_flags: tuple[str, ...] = ()
    ) -> tuple[dict, str]:
        fd, job_path = tempfile.mkstemp(suffix=".json", dir=self.workdir)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(job, f, default=_encode_bytes)
        result_path = job_path.replace(".json", ".result.json")
        try:
            done = subprocess.run(
                [self.python, *python_flags, "-P", str(script), job_path, result_path],
                env=env,
                cwd=self.workdir,
                capture_output=True,
                text=True,
                timeout=CHILD_TIMEOUT_S,
                check=False,
            )
            if not os.path.exists(result_path):
                raise RuntimeError(f"benchmark child failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
            with open(result_path, encoding="utf-8") as f:
                return json.load(f, object_hook=_decode_bytes), done.stderr
        finally:
            for path in (job_path, result_path):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)


def _encode_bytes(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {"__bytes__": base64.b64encode(bytes(value)).decode()}
    raise TypeError(type(value).__name__)


def _decode_bytes(obj: dict) -> Any:
    return base64.b64decode(obj["__bytes__"]) if set(obj) == {"__bytes__"} else obj
