"""Debian's Chromium driven by Playwright against the product served by pytest-django's live server
(the real views, the real PostgreSQL test database, the built static files)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
# The flags this machine needs (its closed network refuses Chromium's background connections).
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
AXE = ROOT / "workplace" / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
BUNDLE = ROOT / "workplace" / "static" / "workplace" / "build" / "workplace.js"


# Per test, not per session: Playwright's sync API switches greenlets, which gives Django's connection
# handler another context; started inside each test, it never hides the test database's saved contents
# (serialized rollback) from the next test's setup.
@pytest.fixture
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: scripts/test installs Debian's chromium package", pytrace=False)
    if not BUNDLE.exists():
        pytest.fail(
            "the workplace's scripts are not built: scripts/test runs npm ci and the build", pytrace=False
        )
    # Playwright's sync API keeps an event loop running in this thread, which Django takes for an async
    # context and would refuse the tests' own ORM calls; they are plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True
            )
            yield chromium
            chromium.close()
            connections.close_all()  # the connection the test's ORM calls opened in Playwright's context
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(
        locale="lv-LV", timezone_id="Europe/Riga", viewport={"width": 1280, "height": 900}
    )
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert errors == [], f"scripts failed on the page: {errors}"


def sign_in(page: Page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Lietotājvārds").fill(username)
    page.get_by_label("Parole").fill(password)
    page.get_by_role("button", name="Pieteikties").click()
    page.wait_for_load_state("networkidle")


def screenshot(page: Page, name: str) -> Path:
    """Kept as a test artefact (test-artifacts/screenshots/), one per role's page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def accessibility_violations(browser: Browser, page: Page) -> list[dict[str, object]]:
    """axe-core's serious and critical findings on the page's current URL (checked in a context that may
    inject axe's script; the page itself forbids inline scripts)."""
    state = page.context.storage_state()
    checker = browser.new_context(bypass_csp=True, storage_state=state, locale="lv-LV")
    try:
        audit = checker.new_page()
        audit.goto(page.url)
        audit.wait_for_load_state("networkidle")
        audit.add_script_tag(path=str(AXE))
        result = audit.evaluate("async () => JSON.stringify((await axe.run(document)).violations)")
    finally:
        checker.close()
    violations: list[dict[str, object]] = json.loads(result)
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
