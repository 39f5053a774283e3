"""What the browser tests share: Debian's chromium, the app on a real server thread, the skip rule."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
PASSWORD = "correct-horse-battery"
MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} not found: run `make browser` (apt installs chromium and fonts-noto-cjk)"),
]


def serve_app(index_dir: Path, user: str, role: str, secret: str):
    """Yield the base URL of the app on 127.0.0.1, with one staff account; stops the server after."""
    from werkzeug.serving import make_server

    from kb.activity import Activity
    from web import create_app

    Activity(index_dir / "activity.sqlite").add_user(user, PASSWORD, role)
    app = create_app({"INDEX": str(index_dir), "RATELIMIT_ENABLED": False, "SECRET_KEY": secret})
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM,
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()
