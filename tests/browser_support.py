"""The browser tests' fixtures (a pytest plugin, registered by tests/conftest.py): Debian's chromium,
the app on a real server thread over the sample's index, a page, and screenshots.

A test that uses `browser` (directly or through `page` or `server`) is marked `browser`, and skipped when
chromium is missing (failed under KB_REQUIRE_SERVERS=1, as in CI). Screenshots, desktop (1280 wide) and phone
(390 wide), go to tests/artifacts/<test module>/ (not committed) for a person to look at; each module clears
only its own folder.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support import PASSWORD, accounts_at, missing

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
#: The staff accounts the server has, by role; their password is tests.support.PASSWORD.
ACCOUNTS = {"agent": "browser-agent", "writer": "browser-writer"}


def pytest_collection_modifyitems(items):
    for item in items:
        if "browser" in item.fixturenames:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before any fixture starts (the real model's sample index is minutes): skip, or under KB_REQUIRE_SERVERS=1
    fail, a browser test on a machine without chromium."""
    if item.get_closest_marker("browser"):
        require_chromium()


def require_chromium():
    if not Path(CHROMIUM).exists():
        missing(CHROMIUM, "run `make browser` (apt installs chromium and fonts-noto-cjk)")


@contextmanager
def serving(app) -> Iterator[str]:
    """`app` served by werkzeug in a thread on a free port of 127.0.0.1: its base URL, stopped afterwards."""
    from werkzeug.serving import make_server

    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        thread.join(timeout=10)

@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM,
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


@pytest.fixture(scope="session")
def server(web_index):
    """The base URL of the app on 127.0.0.1 over the sample's index (real model), with the ACCOUNTS."""
    from web import create_app

    accounts = accounts_at(web_index / "activity.sqlite")
    for role, name in ACCOUNTS.items():
        accounts.add_user(name, PASSWORD, role)
    app = create_app({"INDEX": str(web_index), "RATELIMIT_ENABLED": False, "SECRET_KEY": "browser-tests"})
    with serving(app) as base:
        yield base


@pytest.fixture
def page(browser, server):
    """A fresh desktop page (1280 x 900, en-US) on the server: may use the clipboard and download files."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server, locale="en-US",
                                  accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


@pytest.fixture(scope="module")
def artifacts(request) -> Path:
    """This module's screenshot folder, emptied once at its start (other modules' folders are left alone)."""
    folder = ARTIFACTS / request.module.__name__.rpartition(".")[2]
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def shoot(artifacts):
    """shoot(page, name): desktop and phone screenshots of the page as it is now; the phone one must not
    scroll sideways."""

    def shoot(page, name):
        page.screenshot(path=str(artifacts / f"{name}-desktop.png"), full_page=True)
        size = page.viewport_size
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(artifacts / f"{name}-phone.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        page.set_viewport_size(size)
        assert overflow <= 1, f"{name}: the phone page is {overflow}px wider than the screen"

    return shoot


def log_in_as_agent(page):
    """Sign in through the login form as the agent account and land on the agent page."""
    page.goto("/agent/")
    page.wait_for_url(re.compile(r"/auth/login"))
    page.fill("#username", ACCOUNTS["agent"])
    page.fill("#password", PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(re.compile(r"/agent/$"))
