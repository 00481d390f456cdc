"""Headless Chromium against the local stack and its demo bank site: one browser for the session,
the session's one local stack (tests/conftest.py `stack`), a fresh browser profile per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.browser import (
    CHROMIUM_ARGS,
    KEEP_POPUP_BLOCKER,
    DemoSite,
    Shots,
    chromium_or_explain,
)
from tests.support.stack import RunningStack


@pytest.fixture(scope="package")
def browser() -> Iterator:
    """One browser for all of tests/browser. Package scope, not session: Playwright's sync API
    keeps an asyncio loop running in this thread while it is started, and later tests that call
    asyncio.run() themselves (pyHanko, schemathesis) would fail with it still there."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_or_explain(),
            args=CHROMIUM_ARGS,
            ignore_default_args=KEEP_POPUP_BLOCKER,
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def site(stack: RunningStack) -> DemoSite:
    return DemoSite.of(stack)


class PageProblems:
    """What every page of a test said on the console or threw: a CSP violation or an uncaught
    error fails the test, whatever it checks."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def watch(self, context) -> None:
        context.on("console", lambda message: self.lines.append(f"console.{message.type}: {message.text}"))
        context.on("weberror", lambda error: self.lines.append(f"uncaught: {error.error}"))

    def csp_violations(self) -> list[str]:
        return [line for line in self.lines if "Content Security Policy" in line]

    def uncaught(self) -> list[str]:
        return [line for line in self.lines if line.startswith("uncaught")]

    def logged(self) -> list[str]:
        """What the pages wrote with console.log/info/debug (HTTP errors are the browser's own)."""
        return [
            line
            for line in self.lines
            if line.split(":", 1)[0] in ("console.log", "console.info", "console.debug")
        ]


@pytest.fixture
def problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def context(browser, problems: PageProblems) -> Iterator:
    """A fresh profile (its own IndexedDB, cookies): one person's browser."""
    ctx = browser.new_context(locale="ko-KR", viewport={"width": 1100, "height": 900})
    ctx.set_default_timeout(30_000)
    problems.watch(ctx)
    yield ctx
    ctx.close()
    assert problems.csp_violations() == []
    assert problems.uncaught() == []


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(request.node.name)
