"""The suite's own layout rules (issue "One place for each rule"): test modules share helpers only
through tests/support (and the fakes in tests/fakes), never by importing another test module or a
conftest, and fixtures are defined in conftest.py files, not in the shared helpers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
# What any file of the suite may import from the `tests` package.
SHARED = ("tests.support", "tests.fakes")


def _module_name(path: Path) -> str:
    return ".".join(("tests", *path.relative_to(TESTS).with_suffix("").parts)).removesuffix(".__init__")


def _imported(path: Path, source: str) -> list[tuple[int, str]]:
    """(line, module) of every import in the file, relative ones resolved, `from x import y` as
    both x and x.y (y may be a module)."""
    tree = ast.parse(source, filename=str(path))
    package = _module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else _module_name(path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def _suite_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)


def forbidden_imports(path: Path, source: str | None = None) -> list[str]:
    """Imports of the `tests` package outside tests/support and tests/fakes."""
    source = path.read_text() if source is None else source
    return [
        f"{path.relative_to(TESTS.parent)}:{line}: imports {module}"
        for line, module in _imported(path, source)
        if (module == "tests" or module.startswith("tests."))
        and not module.startswith(SHARED)
        and module not in ("tests", *(f"tests.{name.split('.')[-1]}" for name in SHARED))
    ]


def test_no_file_of_the_suite_imports_a_test_module_or_a_conftest():
    found = [problem for path in _suite_files() for problem in forbidden_imports(path)]
    assert not found, "share helpers through tests/support:\n" + "\n".join(found)


def test_the_rule_catches_what_it_is_for():
    probe = TESTS / "integration" / "probe.py"
    cases = {
        "from tests.conftest import REGION": True,
        "from tests.integration.test_issuance_api import issue": True,
        "import tests.e2e.conftest": True,
        "from tests.e2e import test_local_stack": True,
        "from . import test_csc_api": True,
        "from .test_csc_api import digest_b64": True,
        "from tests import conftest": True,
        "from tests.support.customers import Customer": False,
        "from tests.support import log_safety": False,
        "from tests.fakes.kms import FakeKeyManagement": False,
        "import pytest": False,
    }
    for source, forbidden in cases.items():
        assert bool(forbidden_imports(probe, source)) is forbidden, source


def test_shared_helpers_define_no_fixtures():
    helpers = sorted((TESTS / "support").rglob("*.py"))
    assert helpers, "tests/support exists"
    offenders = []
    for path in helpers:
        for node in ast.walk(ast.parse(path.read_text())):
            decorators = getattr(node, "decorator_list", [])
            if any("fixture" in ast.unparse(d) for d in decorators):
                offenders.append(f"{path.relative_to(TESTS.parent)}:{node.lineno}")
    assert not offenders, "fixtures belong in a conftest.py:\n" + "\n".join(offenders)


@pytest.mark.parametrize("folder", ["unit", "integration", "e2e", "local_stack"])
def test_every_test_folder_is_a_package_without_helper_modules(folder):
    """Each folder holds test modules (and at most a conftest); helpers live in tests/support."""
    files = {p.name for p in (TESTS / folder).glob("*.py")}
    assert "__init__.py" in files
    assert not {f for f in files if not f.startswith("test_") and f not in ("__init__.py", "conftest.py")}
