"""The running stack's state file: `up` writes it (URLs, region, environment, bootstrap output);
`invoke`, `run-job`, `demo` and `sandbox` read it to reach that stack."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from fincert_local.template import repo_root

DEFAULT_STATE = repo_root() / ".local-stack" / "state.json"


def load_state(path: Path) -> dict[str, Any] | None:
    """The state `up` wrote, or None (said on stderr) when no stack is running."""
    if not path.exists():
        print(f"{path} not found: start the local stack first (make local)", file=sys.stderr)
        return None
    return json.loads(path.read_text(encoding="utf-8"))
