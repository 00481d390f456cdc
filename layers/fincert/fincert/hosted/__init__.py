"""The customer's side as static files: the hosted window (`/hosted/v1/`) and the SDK (`/sdk/v1/`).

The files ship inside the layer and are read with importlib.resources (docs/hosted-window.md says
why not S3). Only the names in ASSETS are served; anything else is a 404. This module imports
nothing beyond the standard library, so the function serving it starts as fast as a Lambda can.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

# What the window's pages may do: their own script and style files, calls to their own origin,
# nothing inline, no framing (the window is a popup), no forms posted anywhere, no <base>.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
# No Cross-Origin-Opener-Policy: `same-origin` would cut the popup off from the bank's page that
# opened it, and the result travels to that page by postMessage over the opener link.
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
# The window holds a PIN and a window credential in memory: nothing of it may be kept by a cache.
NO_STORE = "no-store"
# A published version never changes (its SRI hash is in banks' pages); a change is a new version.
IMMUTABLE = "public, max-age=31536000, immutable"

HTML = "text/html; charset=utf-8"
JAVASCRIPT = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"
TYPESCRIPT = "text/plain; charset=utf-8"  # no registered type for .d.ts; shown as text


@dataclass(frozen=True)
class Asset:
    package_dir: str  # the directory of this package the file is in
    content_type: str
    cache_control: str
    # The SDK is loaded by banks' pages with <script integrity crossorigin>: SRI on another origin's
    # script needs CORS. It is public and carries no credential, so any origin may read it.
    cross_origin: bool = False


# (route prefix, file name) -> the file. The route prefixes are the resources in template.yaml.
ASSETS: dict[tuple[str, str], Asset] = {
    ("/hosted/v1", "window.html"): Asset("window", HTML, NO_STORE),
    ("/hosted/v1", "window.js"): Asset("window", JAVASCRIPT, NO_STORE),
    ("/hosted/v1", "window.css"): Asset("window", CSS, NO_STORE),
    ("/sdk/v1", "fincert.js"): Asset("sdk", JAVASCRIPT, IMMUTABLE, cross_origin=True),
    ("/sdk/v1", "fincert.d.ts"): Asset("sdk", TYPESCRIPT, IMMUTABLE, cross_origin=True),
}
SDK_PATH = "/sdk/v1/fincert.js"

_cache: dict[tuple[str, str], bytes] = {}


def asset_bytes(prefix: str, name: str) -> bytes:
    """The file's bytes, read once per container. KeyError for a name not in ASSETS."""
    key = (prefix, name)
    data = _cache.get(key)
    if data is None:
        asset = ASSETS[key]
        data = resources.files(__name__).joinpath(asset.package_dir, name).read_bytes()
        _cache[key] = data
    return data


def sri(data: bytes) -> str:
    """A Subresource Integrity value (sha384, as the W3C spec's examples and most CDNs use)."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


def sdk_integrity() -> str:
    prefix, _, name = SDK_PATH.rpartition("/")
    return sri(asset_bytes(prefix, name))


def script_tag(service_url: str) -> str:
    """The <script> element a bank's page loads the SDK with."""
    return (
        f'<script src="{service_url.rstrip("/")}{SDK_PATH}" integrity="{sdk_integrity()}" '
        f'crossorigin="anonymous"></script>'
    )


def _not_found() -> dict[str, Any]:
    body = {"error": {"code": "not_found", "message": "no such file"}}
    return {
        "statusCode": 404,
        "headers": {"Content-Type": "application/json", "Cache-Control": NO_STORE, **SECURITY_HEADERS},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def serve(event: dict[str, Any]) -> dict[str, Any]:
    """A Lambda proxy response for GET {prefix}/{file}, `event` an API Gateway REST proxy event."""
    resource = event.get("resource") or ""
    prefix = resource.removesuffix("/{file}")
    name = (event.get("pathParameters") or {}).get("file") or ""
    asset = ASSETS.get((prefix, name))
    if asset is None or event.get("httpMethod") != "GET":
        return _not_found()
    headers = {"Content-Type": asset.content_type, "Cache-Control": asset.cache_control, **SECURITY_HEADERS}
    if asset.cross_origin:
        headers["Access-Control-Allow-Origin"] = "*"
        headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return {
        "statusCode": 200,
        "headers": headers,
        "body": asset_bytes(prefix, name).decode("utf-8"),
        "isBase64Encoded": False,
    }
