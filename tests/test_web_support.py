"""Fixtures and helpers shared by the web tests (flaskr's app/client/runner, plus logins and CSRF).

The sample knowledge base is indexed once per session (`sample_index` in
conftest); each test gets a fresh app over it, with rate limits off unless a
test turns them on. The activity database is shared by the session, so tests
look for their own rows rather than counting all rows.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

import pytest

from kb.activity import Activity
from web import create_app

PASSWORD = "correct-horse-battery"
__all__ = ["PASSWORD", "web_index", "index_dir", "make_app", "app", "client", "runner", "activity", "agent", "agent_client",
           "new_user", "csrf_token", "login", "internal_ids", "error_of"]


@pytest.fixture(scope="session")
def web_index(request, tmp_path_factory) -> Path:
    """A copy of the sample index for the web tests, so their activity rows stay out of other tests' way.

    KB_TEST_SAMPLE_INDEX=<dir> copies an index of articles/ built by `kb index` instead (faster local runs).
    """
    prebuilt = os.environ.get("KB_TEST_SAMPLE_INDEX")
    source = Path(prebuilt) if prebuilt else request.getfixturevalue("sample_index")[1]
    dest = tmp_path_factory.mktemp("web") / "index"
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("activity.sqlite*", "secret_key", "build-*"))
    return dest


@pytest.fixture
def index_dir(web_index):
    return web_index


@pytest.fixture
def make_app(index_dir):
    def make(**config):
        return create_app({"TESTING": True, "INDEX": str(index_dir), "RATELIMIT_ENABLED": False,
                           "SECRET_KEY": "test-secret", **config})

    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def activity(index_dir) -> Activity:
    return Activity(index_dir / "activity.sqlite")


def new_user(activity: Activity, role: str) -> str:
    name = f"{role}-{uuid.uuid4().hex[:8]}"
    activity.add_user(name, PASSWORD, role)
    return name


@pytest.fixture
def agent(activity):
    return new_user(activity, "agent")


@pytest.fixture
def agent_client(client, agent):
    login(client, agent)
    return client


def csrf_token(client, path="/auth/login") -> str:
    html = client.get(path).get_data(as_text=True)
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, f"no CSRF token on {path}"
    return m.group(1)


def login(client, name, password=PASSWORD):
    token = csrf_token(client)
    return client.post("/auth/login", data={"username": name, "password": password, "csrf_token": token})


def internal_ids(index_dir) -> list[str]:
    from kb.search import Searcher

    store = Searcher(index_dir).store
    public = {a.id for a in store.articles("visibility = 'public'")}
    return sorted({a.id for a in store.articles("visibility = 'internal'")} - public)


def error_of(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "message"}, body
    assert body["error"]["status"] == response.status_code
    return body["error"]
