"""The hosted window's pages and the SDK, served by HostedFunction through the local gateway (the
routes as template.yaml declares them): which files, with which headers, and nothing else."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from fincert.hosted import ASSETS, CONTENT_SECURITY_POLICY, sri
from fincert_local.gateway import Gateway
from fincert_local.template import load_template, repo_root

WINDOW_FILES = ["window.html", "window.js", "window.css"]
SDK_FILES = ["fincert.js", "fincert.d.ts"]
STRICT_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


@pytest.fixture(scope="module")
def static_gateway() -> Gateway:
    # The static routes make no AWS call: no moto needed.
    return Gateway(load_template(), repo_root(), region="ap-northeast-2")


def get(gateway: Gateway, path: str):
    return gateway.handle("GET", path, [("Host", "127.0.0.1:3000")])


@pytest.mark.parametrize(
    ("path", "content_type", "cache"),
    [
        ("/hosted/v1/window.html", "text/html; charset=utf-8", "no-store"),
        ("/hosted/v1/window.js", "text/javascript; charset=utf-8", "no-store"),
        ("/hosted/v1/window.css", "text/css; charset=utf-8", "no-store"),
        ("/sdk/v1/fincert.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"),
        ("/sdk/v1/fincert.d.ts", "text/plain; charset=utf-8", "public, max-age=31536000, immutable"),
    ],
)
def test_each_file_is_served_with_its_type_cache_rule_and_the_security_headers(
    static_gateway, path, content_type, cache
):
    response = get(static_gateway, path)
    assert response.status == 200
    assert response.header("Content-Type") == content_type
    assert response.header("Cache-Control") == cache
    assert response.header("Content-Security-Policy") == STRICT_CSP == CONTENT_SECURITY_POLICY
    assert response.header("X-Frame-Options") == "DENY"
    assert response.header("Referrer-Policy") == "no-referrer"
    assert response.header("X-Content-Type-Options") == "nosniff"
    # The popup must keep its opener: the result goes back over that link.
    assert response.header("Cross-Origin-Opener-Policy") is None
    name = path.rsplit("/", 1)[1]
    on_disk = (repo_root() / "layers/fincert/fincert/hosted").glob(f"*/{name}")
    assert response.body == next(on_disk).read_bytes()


def test_only_the_sdk_may_be_read_by_other_origins(static_gateway):
    # A bank's page loads fincert.js with integrity + crossorigin: SRI on another origin's script
    # needs CORS. The window's own files are for the window only.
    for name in SDK_FILES:
        response = get(static_gateway, f"/sdk/v1/{name}")
        assert response.header("Access-Control-Allow-Origin") == "*"
    for name in WINDOW_FILES:
        assert get(static_gateway, f"/hosted/v1/{name}").header("Access-Control-Allow-Origin") is None


@pytest.mark.parametrize(
    "path",
    [
        "/hosted/v1/fincert.js",  # a file of the other route
        "/sdk/v1/window.html",
        "/hosted/v1/WINDOW.HTML",
        "/hosted/v1/window.html.bak",
        "/hosted/v1/__init__.py",
        "/hosted/v1/..%2F__init__.py",
        "/sdk/v1/..%2F..%2Fsettings.py",
        "/sdk/v1/%2e%2e",
        "/hosted/v1/index.html",
    ],
)
def test_any_other_name_is_a_404_with_the_same_headers(static_gateway, path):
    response = get(static_gateway, path)
    assert response.status == 404
    assert response.json() == {"error": {"code": "not_found", "message": "no such file"}}
    assert response.header("Content-Security-Policy") == STRICT_CSP
    assert response.header("X-Content-Type-Options") == "nosniff"
    assert response.header("Cache-Control") == "no-store"


def test_the_allow_list_is_exactly_the_files_shipped():
    shipped = {
        (prefix, path.name)
        for prefix, directory in (("/hosted/v1", "window"), ("/sdk/v1", "sdk"))
        for path in (repo_root() / "layers/fincert/fincert/hosted" / directory).iterdir()
    }
    assert shipped == set(ASSETS)


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script" and not names.get("src"):
            self.problems.append("script without src")
        self._in_script = tag == "script"
        for name, _ in attrs:
            if name == "style" or name.startswith("on"):
                self.problems.append(f"{name}= attribute on <{tag}>")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append("inline script")


def test_the_window_page_has_no_inline_script_or_style(static_gateway):
    markup = _Markup()
    markup.feed(get(static_gateway, "/hosted/v1/window.html").body.decode())
    assert markup.problems == []


def _code_only(source: str) -> str:
    """The script without its comments (which name what the code must not do)."""
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.DOTALL)
    return re.sub(r"(^|\s)//\s.*$", "", source, flags=re.MULTILINE)


def test_the_window_script_keeps_secrets_out_of_storage_logs_and_markup(static_gateway):
    """The runtime checks are in tests/browser; these are the ways the source could break them."""
    source = _code_only(get(static_gateway, "/hosted/v1/window.js").body.decode())
    for forbidden in (
        "localStorage",
        "sessionStorage",
        "document.cookie",
        "console.",
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        'setAttribute("style"',
    ):
        assert forbidden not in source, forbidden
    # Results go to one exact origin: never postMessage(..., "*") except the secret-free `ready`.
    targets = re.findall(r"postMessage\([^;]*?,\s*([^)]+)\)", source)
    assert sorted(targets) == sorted(['"*"', "target"]), targets


def _documented_integrity(text: str) -> set[str]:
    return set(re.findall(r'integrity="(sha384-[A-Za-z0-9+/=]+)"', text))


def test_the_readme_publishes_the_served_sdk_sri_hash(static_gateway):
    served = get(static_gateway, "/sdk/v1/fincert.js").body
    readme = (repo_root() / "README.md").read_text(encoding="utf-8")
    assert _documented_integrity(readme) == {sri(served)}, (
        "run `python -m fincert_local sri` and update README"
    )


def test_the_sri_command_prints_the_script_tag_with_the_served_files_hash(static_gateway):
    served = get(static_gateway, "/sdk/v1/fincert.js").body
    printed = subprocess.run(
        [sys.executable, "-m", "fincert_local", "sri", "--service", "https://fincert.example"],
        capture_output=True,
        text=True,
        check=True,
        cwd=repo_root(),
    ).stdout.strip()
    assert printed == (
        f'<script src="https://fincert.example/sdk/v1/fincert.js" integrity="{sri(served)}" '
        'crossorigin="anonymous"></script>'
    )
