"""The running stack's state file: `up` writes it (URLs, region, environment, bootstrap output);
`invoke`, `run-job`, `demo` and `sandbox` read it to reach that stack."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fincert_local.template import repo_root

if TYPE_CHECKING:
    from fincert_local.stack import LocalStack

DEFAULT_STATE = repo_root() / ".local-stack" / "state.json"


def load_state(path: Path) -> dict[str, Any] | None:
    """The state `up` wrote, or None (said on stderr) when no stack is running."""
    if not path.exists():
        print(f"{path} not found: start the local stack first (make local)", file=sys.stderr)
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def stack_state(stack: LocalStack, bootstrap_output: dict[str, Any] | None) -> dict[str, Any]:
    """What the state file holds of a started stack: how to reach it and what bootstrap printed."""
    return {
        "gateway_url": stack.gateway_url,
        "moto_url": stack.moto_url,
        "region": stack.region,
        "environment": dict(stack.environment),
        "bootstrap": bootstrap_output,
    }
