"""No import cycles between the project's modules.

Reads the source (ast, nothing is imported) of every module of the layer (layers/fincert/fincert),
the local stack (local/fincert_local) and the functions (functions/*/app.py), and builds the graph
of module-level imports between them:
- imports inside a function and under `if TYPE_CHECKING:` do not count (they run later, or never);
  any other import that runs when the module is imported does (in an if, try, with or class body);
- `from pkg import name` counts as importing pkg.name when that is a module, else pkg;
- a package's __init__ is a module of its own (the package's name); importing a.b.c is an edge
  to a.b.c only, not to the packages a and a.b it passes through.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# (directory on sys.path, its top-level package)
PACKAGE_ROOTS = [(ROOT / "layers" / "fincert", "fincert"), (ROOT / "local", "fincert_local")]

# Cycles known and accepted for now: each entry the set of modules one cycle goes through (a
# strongly connected component of the graph), with a comment saying why it is tolerated. Empty
# today: layers/ had none when this test was added. test_allowed_cycles_still_exist fails when an
# entry is no longer a cycle, so the list only shrinks.
ALLOWED_CYCLES: list[frozenset[str]] = []


def project_modules() -> dict[str, Path]:
    """Module name -> source file, for every module of the project."""
    modules: dict[str, Path] = {}
    for base, package in PACKAGE_ROOTS:
        for path in sorted((base / package).rglob("*.py")):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    for app in sorted((ROOT / "functions").glob("*/app.py")):
        modules[f"functions.{app.parent.name}.app"] = app  # the gateway's name differs; any unique one does
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def module_level_imports(
    tree: ast.Module, *, in_functions: bool = False
) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements that run when the module is imported (and, in_functions, those that
    run when its functions are called too)."""
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not in_functions:
            continue
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            pending.extend(node.orelse)
        elif isinstance(node, ast.stmt):
            # Compound statements' bodies (if, try, with, for, class, match): everything in them
            # that is a statement; expressions hold no imports.
            pending.extend(child for child in ast.iter_child_nodes(node) if not isinstance(child, ast.expr))
        elif isinstance(node, ast.excepthandler | ast.match_case):
            pending.extend(node.body)


def _package_of(name: str, path: Path) -> str:
    """The package a module's relative imports start from."""
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def _resolve(target: str, modules: dict[str, Path]) -> str | None:
    """The project module a dotted name refers to: itself or its longest module prefix."""
    while target:
        if target in modules:
            return target
        target = target.rpartition(".")[0]
    return None


def imports_of(name: str, path: Path, modules: dict[str, Path], *, in_functions: bool = False) -> set[str]:
    """The project modules `name` imports at module level."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in module_level_imports(tree, in_functions=in_functions):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                package = _package_of(name, path)
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = ".".join(part for part in (package, node.module) if part)
            else:
                base = node.module or ""
            # `from pkg import name`: the submodule pkg.name if there is one, else pkg itself.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names
            ]
        found.update(resolved for t in targets if (resolved := _resolve(t, modules)) is not None)
    found.discard(name)  # `from . import x` in a package's __init__ resolving to itself is no cycle
    return found


def import_graph(modules: dict[str, Path], *, in_functions: bool = False) -> dict[str, set[str]]:
    return {
        name: imports_of(name, path, modules, in_functions=in_functions) for name, path in modules.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def describe(component: frozenset[str], graph: dict[str, set[str]]) -> str:
    """One cycle through the component's first module, as `a -> b -> a`."""
    start = min(component)
    path, seen = [start], {start}

    # Depth-first within the component, back to start.
    def walk(node: str) -> list[str] | None:
        for successor in sorted(graph[node] & component):
            if successor == start:
                return [*path, start]
            if successor not in seen:
                seen.add(successor)
                path.append(successor)
                if (found := walk(successor)) is not None:
                    return found
                path.pop()
        return None

    cycle = walk(start) or sorted(component)
    return " -> ".join(cycle) + (
        f"   (component: {', '.join(sorted(component))})" if len(component) > len(cycle) - 1 else ""
    )


def test_no_import_cycles() -> None:
    graph = import_graph(project_modules())
    unexpected = [c for c in cycles(graph) if c not in ALLOWED_CYCLES]
    assert not unexpected, "import cycles:\n" + "\n".join(describe(c, graph) for c in unexpected)


def test_allowed_cycles_still_exist() -> None:
    found = cycles(import_graph(project_modules()))
    stale = [sorted(c) for c in ALLOWED_CYCLES if c not in found]
    assert not stale, f"no longer cycles, remove them from ALLOWED_CYCLES: {stale}"


def test_the_graph_reads_the_project() -> None:
    modules = project_modules()
    graph = import_graph(modules)
    assert {"fincert", "fincert_local", "fincert_local.bench", "functions.pki.app"} <= set(modules)
    # A package's __init__ importing its submodules is an edge to each of them.
    assert "fincert_local.bench.cli" in graph["fincert_local.bench"]
    # A submodule importing a sibling with `from fincert.adapters.dynamodb import keys`: the
    # submodule keys, not the package.
    package = "fincert.adapters.dynamodb"
    assert f"{package}.keys" in graph[f"{package}.accounts"]
    assert package not in graph[f"{package}.accounts"]


def _tree(tmp_path: Path, files: dict[str, str]) -> dict[str, Path]:
    modules = {}
    for name, source in files.items():
        path = tmp_path / (name.replace(".", "/") + ("/__init__.py" if name == "pkg" else ".py"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
        modules[name] = path
    return modules


def test_what_counts_as_an_import(tmp_path: Path) -> None:
    modules = _tree(
        tmp_path,
        {
            "pkg": "from pkg import a\nfrom . import b\n",
            "pkg.a": (
                "from typing import TYPE_CHECKING\nfrom pkg import b\nif TYPE_CHECKING:\n    import pkg.c\n"
                "def f():\n    import pkg.d\n"
            ),
            "pkg.b": "try:\n    from .c import X\nexcept ImportError:\n    pass\nclass K:\n    import pkg.d\n",
            "pkg.c": "from pkg import NAME\n",  # not a module: the package itself
            "pkg.d": "import pkg.a.nothing\n",  # no such module: its longest module prefix
        },
    )
    graph = import_graph(modules)
    assert graph == {
        "pkg": {"pkg.a", "pkg.b"},
        "pkg.a": {"pkg.b"},
        "pkg.b": {"pkg.c", "pkg.d"},
        "pkg.c": {"pkg"},
        "pkg.d": {"pkg.a"},
    }
    assert cycles(graph) == [frozenset({"pkg", "pkg.a", "pkg.b", "pkg.c", "pkg.d"})]
    assert describe(cycles(graph)[0], graph).startswith("pkg -> pkg.a -> pkg.b -> ")


def test_no_cycles_in_the_local_stack_even_through_deferred_imports() -> None:
    # Stricter for local/fincert_local: its cycles went through imports inside functions
    # (__main__ -> bench -> jobs -> __main__, gateway -> openapi -> gateway), which the rule above
    # lets through.
    modules = {name: path for name, path in project_modules().items() if name.startswith("fincert_local")}
    graph = import_graph(modules, in_functions=True)
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(describe(c, graph) for c in found)
