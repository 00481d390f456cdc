"""Seed a freshly started local stack (CA certificates, a demo institution ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fincert_local.stack import LocalStack


def bootstrap(stack: LocalStack) -> dict:
    """Called by `up` once the resources exist; the dict returned is printed and saved in the state file."""
    return {}
