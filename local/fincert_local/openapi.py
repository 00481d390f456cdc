"""`python -m fincert_local openapi`: the bank API's OpenAPI document, generated from the code.

openapi_document merges the API functions' own documents into one; this loads the handlers (a
Gateway over template.yaml) and writes or prints it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from fincert_local.gateway import Gateway
from fincert_local.openapi_document import TITLE, VERSION, build_document, openapi_path
from fincert_local.template import load_template, repo_root

__all__ = [
    "TITLE",
    "VERSION",
    "add_arguments",
    "build_openapi",
    "openapi_path",
    "render",
    "run",
]


def build_openapi(gateway: Gateway | None = None) -> dict[str, Any]:
    template = load_template()
    return build_document(gateway or Gateway(template, repo_root()), template)


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--write", type=Path, help="write here instead of printing (e.g. docs/openapi.json)")


def run(args: argparse.Namespace) -> int:
    text = render(build_openapi())
    if args.write:
        args.write.write_text(text, encoding="utf-8")
        print(f"wrote {args.write}")
    else:
        print(text, end="")
    return 0
