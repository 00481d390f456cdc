"""The API functions' routes as fincert.api.routing holds them, loaded from functions/*/app.py."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType

from fincert.api import routing, schema, schema_types

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


@cache
def function_modules() -> dict[str, ModuleType]:
    """Every function whose module has a router (`app`), by its directory's name."""
    modules = {}
    for path in sorted(FUNCTIONS.glob("*/app.py")):
        spec = importlib.util.spec_from_file_location(f"_routes_{path.parent.name}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if isinstance(getattr(module, "app", None), routing.Resolver):
            modules[path.parent.name] = module
    return modules


def body_models() -> set[type[schema.BaseModel]]:
    """The model of every route's request body."""
    return {
        argument.node.cls
        for module in function_modules().values()
        for route in module.app.routes
        for argument in route.arguments()
        if argument.kind == "body" and isinstance(argument.node, schema_types.ModelOf)
    }
