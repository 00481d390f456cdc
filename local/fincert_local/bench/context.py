"""What every measurement shares: the institution the bench registers, the event fixtures, and
the context the event builders and scenarios draw on."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

from fincert_local.template import repo_root

INSTITUTION_ID = "demo-bank"
EVENTS_DIR = repo_root() / "tests" / "events"


class UsageError(ValueError):
    """A bad command line (an unknown function, ...): exit 2 before anything starts."""


@dataclass
class BenchContext:
    """What the event builders need: the running stack and the institution's credentials."""

    region: str
    api_key: str
    institution_id: str = INSTITUTION_ID
    rng: random.Random = field(default_factory=random.Random)

    def fresh_phone(self) -> str:
        # A new number per run: the per-phone SMS limit (5 an hour) must not answer 429.
        return f"010{self.rng.randrange(10**8):08d}"


def fixture(name: str) -> dict:
    """An event from tests/events, as a fresh dict."""
    return json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))
