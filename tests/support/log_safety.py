"""Suite-wide log capture: every log record any test causes (all loggers, DEBUG and up, with
their extra fields and tracebacks) is kept, so that no secret or personal data may reach a log
line unseen. Tests register the secrets they handle with `remember_secret`.

Each process captures its own lines. Under pytest-xdist every worker hands its `snapshot()` to
the controller when it finishes, and the controller `judge`s all of them together, each line
against every secret any worker remembered (tests/conftest.py, pytest_sessionfinish); a serial
run judges its own snapshot the same way. The runs_last test in tests/integration/test_log_safety.py
judges what its own process captured before it, as a test."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import traceback
from collections.abc import Iterable
from pathlib import Path

CAPTURED: list[str] = []
SECRETS: set[str] = set()
# Log files of processes the tests started (the e2e local stack).
EXTERNAL_LOGS: list[Path] = []

# Whatever the test registered, plus what is a secret by its shape.
SECRET_PATTERNS = [
    re.compile(r"PRIVATE KEY"),
    re.compile(r"fck_[a-z0-9-]{3,32}_[A-Za-z0-9_-]{20,}"),  # institution API keys
    re.compile(r"Bearer\s+\S{8,}"),
]


def remember_secret(*values: str) -> None:
    SECRETS.update(v for v in values if v)


_NUMERIC_NOISE = {"created", "msecs", "relativeCreated", "thread", "process", "lineno"}


class CaptureEverything(logging.Handler):
    def filter(self, record: logging.LogRecord) -> bool:
        # Powertools puts a SuppressFilter on every root handler that drops its own service's
        # records (they are already printed by its handler); this one must see them all.
        return True

    def emit(self, record: logging.LogRecord) -> None:
        # Timing fields are dropped: their digits would look like 6-digit codes.
        fields = {k: v for k, v in record.__dict__.items() if k not in _NUMERIC_NOISE}
        if record.exc_info:
            fields["exc_info"] = "".join(traceback.format_exception(*record.exc_info))
        with contextlib.suppress(TypeError, ValueError):
            fields["message"] = record.getMessage()
        CAPTURED.append(json.dumps(fields, default=str, ensure_ascii=False))


def install() -> None:
    logging.getLogger().addHandler(CaptureEverything(level=logging.DEBUG))
    # Our own loggers at DEBUG whatever the root's level: their every line is judged.
    logging.getLogger("fincert").setLevel(logging.DEBUG)


def _trie_pattern(words: set[str]) -> str:
    """A regex matching exactly these strings, branching one character at a time (longest first
    where one is a prefix of another)."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def pattern(node: dict) -> str:
        branches = [re.escape(char) + pattern(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        if len(branches) == 1 and "" not in node:
            return branches[0]
        return "(?:" + "|".join(branches) + ")" + ("?" if "" in node else "")

    return pattern(trie)


def leaks(lines: list[str], secrets: set[str]) -> list[str]:
    found = []
    # One pattern for every secret, shaped as a trie, so each line is scanned once however many
    # secrets the suite remembered (a search per secret per line took minutes). Whole tokens
    # only: a 6-digit code must not match inside a timestamp.
    any_secret = re.compile(rf"(?<![0-9A-Za-z.]){_trie_pattern(secrets)}(?![0-9A-Za-z])") if secrets else None
    for line in lines:
        if any_secret is not None:
            found += [f"{m.group(0)!r} in {line[:300]}" for m in any_secret.finditer(line)]
        found += [f"{p.pattern!r} in {line[:300]}" for p in SECRET_PATTERNS if p.search(line)]
    return found


# Log records in another process's output: JSON (Powertools) or timestamped lines (the gateway's
# access log). Anything else there is the program's own console output, e.g. the local stack's
# banner, which prints the demo API key on purpose.
_LOG_LINE = re.compile(r"^(\{|\d{4}-\d{2}-\d{2}[ T])")


def all_lines() -> list[str]:
    lines = list(CAPTURED)
    for path in EXTERNAL_LOGS:
        if path.exists():
            lines += [line for line in path.read_text(errors="replace").splitlines() if _LOG_LINE.match(line)]
    return lines


def snapshot() -> dict[str, list[str]]:
    """What this process saw: every log line it captured (with its started processes' log files)
    and the secrets its tests remembered; plain lists, so that xdist can send it."""
    return {"lines": all_lines(), "secrets": sorted(SECRETS)}


def judge(snapshots: Iterable[dict[str, list[str]]], known: Iterable[str] = ()) -> list[str]:
    """The leaks in every line of every snapshot, against every secret any of them remembered
    and the `known` ones (a secret one worker handled must not show in another's lines either)."""
    lines: list[str] = []
    secrets = set(known)
    for seen in snapshots:
        lines += seen["lines"]
        secrets.update(seen["secrets"])
    return leaks(lines, secrets)
