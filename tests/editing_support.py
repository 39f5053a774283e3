"""Helpers for the editor's tests: a signed-in client of a role, the editor's form as a dict, waiting for the
background index of a save. The fixtures (`kb_copy`, `edit_app`, `writer`) are in tests/conftest.py."""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

from tests.support import accounts_at, login, new_user


def client_as(app, role):
    client = app.test_client()
    login(client, new_user(accounts_at(Path(app.config["INDEX"]) / "activity.sqlite"), role))
    return client


def form_of(client, path) -> dict:
    """The editor page's form fields, as the browser would send them back unchanged."""
    html = client.get(path).get_data(as_text=True)
    fields = dict(re.findall(r'<input(?![^>]*type="checkbox")[^>]*name="(\w+)"[^>]*value="([^"]*)"', html))
    fields["body"] = re.search(r'<textarea id="body" name="body"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    fields = {k: htmllib.unescape(v) for k, v in fields.items()}
    fields["visibility"] = re.search(r'<option value="(\w+)" selected', html).group(1)
    return fields


def wait_index(app, response) -> dict:
    """Block until the background index of the save that answered `response` (a redirect with ?ticket=) ends."""
    ticket = int(re.search(r"ticket=(\d+)", response.headers["Location"]).group(1))
    state = app.extensions["polykb"]["reindexer"].wait(ticket)
    assert state["state"] == "done", state
    return state
