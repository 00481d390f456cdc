"""`python -m fincert_local sri`: the SDK's published Subresource Integrity hash, as the <script>
tag a bank's page pastes (README, "For bank developers"). The hash is of the file the service
serves (fincert.hosted reads the same bytes), so a changed fincert.js changes it."""

from __future__ import annotations

import argparse

from fincert.hosted import SDK_PATH, script_tag, sdk_integrity

DEFAULT_SERVICE = "https://fincert.example"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--service", default=DEFAULT_SERVICE, help=f"the service's base URL (default {DEFAULT_SERVICE})"
    )
    parser.add_argument("--hash-only", action="store_true", help=f"print only the sha384 of {SDK_PATH}")


def run(args: argparse.Namespace) -> int:
    print(sdk_integrity() if args.hash_only else script_tag(args.service))
    return 0
