"""`python -m fincert_local errors`: the table of every error code (docs/errors.md), generated from
fincert.api.error_codes, and the reading of the source that keeps that table honest.

`raised_codes()` reads the layer and the functions (Python's ast, nothing imported but the error
classes) for every code the service can raise, with the HTTP status the raising class maps to:
  - `code="..."` given to an error class (fincert.errors or its subclasses): that class's status;
  - an error class's own `code = "..."`: its status;
  - SignatureMalformed("code", ...) and decode_base64(code=...): the verify call's 400s;
  - a `refusal=("code", ...)` of the rate-limited writes: 429;
  - fincert.api.errors' `error_response(status, "code", ...)`: the status written there;
  - template.yaml's API Gateway responses: their StatusCode.
tests/integration/test_error_codes.py compares it with fincert.api.error_codes both ways."""

from __future__ import annotations

import argparse
import ast
import importlib
import json
from collections import defaultdict
from pathlib import Path

from fincert import errors
from fincert.api.error_codes import ERROR_CODES

from fincert_local.template import load_template, repo_root

# Raised as a ValueError subclass, turned into InvalidRequest (400) by the verify use case.
_VERIFY_400 = {"SignatureMalformed", "decode_base64"}
_RATE_LIMITED = 429


def _sources(root: Path) -> list[Path]:
    layer = root / "layers" / "fincert" / "fincert"
    return sorted(layer.rglob("*.py")) + sorted((root / "functions").glob("*/app.py"))


def _callee(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _status_of(cls: type[errors.FincertError]) -> int:
    # Imported when used: fincert.api.errors makes a Powertools Logger, which binds its handler to
    # the stdout of the moment, and `python -m fincert_local` imports this module for every
    # subcommand (run-job redirects stdout before the handlers log).
    from fincert.api.errors import status_of

    return status_of(cls)


def _error_class_status(name: str) -> int | None:
    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, errors.FincertError):
        return _status_of(cls)
    return None


def _module_name(path: Path, root: Path) -> str | None:
    layer = root / "layers" / "fincert"
    if layer in path.parents:
        return ".".join(path.relative_to(layer).with_suffix("").parts)
    return None


def _literal(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def raised_codes(root: Path | None = None) -> dict[str, set[int | None]]:
    """code -> the statuses it is raised with (None: a status the reading cannot tell)."""
    root = root or repo_root()
    found: dict[str, set[int | None]] = defaultdict(set)
    for path in _sources(root):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        module = _module_name(path, root)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                for statement in node.body:
                    if (
                        isinstance(statement, ast.Assign)
                        and any(isinstance(t, ast.Name) and t.id == "code" for t in statement.targets)
                        and (code := _literal(statement.value)) is not None
                    ):
                        cls = getattr(importlib.import_module(module), node.name) if module else None
                        found[code].add(_status_of(cls) if isinstance(cls, type) else None)
            elif isinstance(node, ast.Call):
                name = _callee(node)
                for keyword in node.keywords:
                    if keyword.arg == "code" and (code := _literal(keyword.value)) is not None:
                        found[code].add(400 if name in _VERIFY_400 else _error_class_status(name))
                    if (
                        keyword.arg == "refusal"
                        and isinstance(keyword.value, ast.Tuple)
                        and (code := _literal(keyword.value.elts[0])) is not None
                    ):
                        found[code].add(_RATE_LIMITED)
                if name == "SignatureMalformed" and node.args and (code := _literal(node.args[0])):
                    found[code].add(400)
                if name == "error_response" and len(node.args) >= 2:
                    status, code = node.args[0], _literal(node.args[1])
                    if code is not None and isinstance(status, ast.Constant):
                        found[code].add(int(status.value))
            elif isinstance(node, ast.FunctionDef):
                defaults = dict(zip(reversed(node.args.args), reversed(node.args.defaults), strict=False))
                for arg, default in defaults.items():
                    if (
                        arg.arg == "refusal"
                        and isinstance(default, ast.Tuple)
                        and (code := _literal(default.elts[0])) is not None
                    ):
                        found[code].add(_RATE_LIMITED)
    for code, status in gateway_response_codes().items():
        found[code].add(status)
    return dict(found)


def gateway_response_codes() -> dict[str, int]:
    """The codes API Gateway answers itself (template.yaml's GatewayResponses)."""
    api = next(
        r["Properties"] for r in load_template()["Resources"].values() if r["Type"] == "AWS::Serverless::Api"
    )
    codes = {}
    for spec in api.get("GatewayResponses", {}).values():
        for body in spec.get("ResponseTemplates", {}).values():
            codes[json.loads(body)["error"]["code"]] = int(spec["StatusCode"])
    return codes


_AUDIENCES = {
    "api": "Answered to clients",
    "admin": "Reported by `fincert-admin`",
    "internal": "Between the service's own layers (a client never sees them; if one did, it would be a bug)",
}


def render() -> str:
    lines = [
        "# Error codes",
        "",
        "<!-- Generated from layers/fincert/fincert/api/error_codes.py by "
        "`python -m fincert_local errors --write docs/errors.md` (`make openapi`); do not edit. -->",
        "",
        'Every error answer is `{"error": {"code", "message", "details"?}}` (the CSC routes: '
        '`{"error", "error_description"}`, with the same codes). Clients branch on the code, never on '
        "the message. The OpenAPI document lists, per operation, the codes it can answer. A 4xx "
        "changes nothing but what its meaning says (a wrong PIN or SMS code uses an attempt); a 503 "
        "changes nothing and may be retried after `Retry-After`.",
    ]
    for audience, title in _AUDIENCES.items():
        lines += ["", f"## {title}", "", "| Code | HTTP status | Meaning |", "| --- | --- | --- |"]
        for code, entry in sorted(ERROR_CODES.items()):
            if entry.audience == audience:
                statuses = ", ".join(str(s) for s in entry.statuses)
                lines.append(f"| `{code}` | {statuses} | {entry.meaning} |")
    return "\n".join(lines) + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--write", type=Path, help="write here instead of printing (e.g. docs/errors.md)")


def run(args: argparse.Namespace) -> int:
    text = render()
    if args.write:
        args.write.write_text(text, encoding="utf-8")
        print(f"wrote {args.write}")
    else:
        print(text, end="")
    return 0
