"""docs/security.md points each claim at a test: every test it names exists, so a renamed or
deleted test cannot leave a claim pointing at nothing."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# `tests/x/test_y.py::test_z`, `test_y.py::test_z` (a file named earlier), `::test_z` (the same
# file as the previous reference), or a bare `tests/x/test_y.py`.
REFERENCE = re.compile(r"`((?:tests/[\w/]+/)?test_\w+\.py)?(?:::(test_\w+))?`")


def _resolve(name: str) -> Path:
    if "/" in name:
        return ROOT / name
    [path] = list((ROOT / "tests").rglob(name))
    return path


def test_every_test_the_threat_model_names_exists():
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    current: Path | None = None
    checked = 0
    for match in REFERENCE.finditer(text):
        file_name, test_name = match.groups()
        if file_name is None and test_name is None:
            continue
        if file_name is not None:
            current = _resolve(file_name)
            assert current.is_file(), file_name
        if test_name is not None:
            assert current is not None, test_name
            source = current.read_text(encoding="utf-8")
            assert re.search(rf"^(async )?def {test_name}\(", source, re.MULTILINE), (
                f"{current.name}::{test_name}"
            )
            checked += 1
    assert checked >= 30
