"""Every shared fixture: indexes (real model or fake embedder), the web app (flaskr's app/client/runner),
the tiers, and Hypothesis' profiles. Plain helpers are in tests/support.py; the browser's fixtures are in
tests/browser_support.py, registered below.

Two tiers (`make test` runs both, `make test-fast` only the first):
- logic tests: the fake embedder below (words hashed into 384 dimensions, instant), no browser, Hypothesis
  at a tenth of the examples (`--hypothesis-profile=fast`);
- `slow` tests: real text indexed with the real model. A test is marked `slow` by itself when it uses an
  index built with the real model (the fixtures in REAL_MODEL below); a web test that checks what search
  *finds* in the sample is marked `slow` by hand, and then its `index_dir` is the real model's index.
  Tests that start real servers (PostgreSQL, Redis, nginx: tests/server_support.py) are `slow` too: starting
  them is seconds of the fast tier's 90, and what they check is the engines, not the logic.
  `browser` tests are marked in tests/browser_support.py.

Real-model embeddings are cached by content in one file for the whole session, so each fixture text is
embedded once however many tests index it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import jinja2
import pytest
from flask import Flask
from hypothesis import settings

import kb.embeddings
from indexer import job
from kb.storage.accounts import Accounts
from kb.storage.activity import Activity
from tests.fake_embedder import FAKE_MODEL, HashEmbedder
from tests.editing_support import client_as
from tests.support import ROOT, SMALL_KB, activity_at, copy_index, index_runner, index_tree, login, new_user, write_tree
from web import create_app

pytest_plugins = ["tests.browser_support", "tests.server_support"]

# `make test-fast`: a tenth of each property test's examples (tests/support.py `examples`); the full run keeps
# Hypothesis' default profile.
settings.register_profile("fast", max_examples=10)

#: Fixtures that index real text with the real model: a test that uses one (even indirectly) is `slow`.
REAL_MODEL = {"embed_cache", "sample_index", "web_index", "make_index", "small_index"}
#: Fixtures that start a real server: a test that uses one is `slow` as well.
REAL_SERVERS = {"postgres", "postgres_url", "redis_server"}


def pytest_collection_modifyitems(items):
    for item in items:
        if (REAL_MODEL | REAL_SERVERS) & set(item.fixturenames) and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)


class SessionBytecode(jinja2.BytecodeCache):
    """Compiled templates kept in memory for the session, by template and source checksum (jinja checks it)."""

    def __init__(self):
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket):
        self.code[bucket.key] = bucket.bytecode_to_string()


@pytest.fixture(scope="session", autouse=True)
def templates_compiled_once():
    """The session's apps share their templates' compiled code. Tests make a new app each (they must not share
    sessions, limits or caches), and each new app compiled again every template it rendered: 35 ms of an app's
    first pages, ~5 s of the fast tier. What a template renders does not change: the code is the same."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Flask, "jinja_options", {**Flask.jinja_options, "bytecode_cache": SessionBytecode()})
        yield


@pytest.fixture(autouse=True)
def quick_password_hashing(request, monkeypatch):
    """Logic tests store passwords with a cheap pbkdf2 instead of werkzeug's default scrypt (0.15 s a hash or a
    check, a third of the fast tier's time: every login); `slow` tests keep the default."""
    if request.node.get_closest_marker("slow"):
        return
    import werkzeug.security

    default = werkzeug.security.generate_password_hash
    monkeypatch.setattr(werkzeug.security, "generate_password_hash",
                        lambda password, method="pbkdf2:sha256:1000", salt_length=16: default(password, method,
                                                                                             salt_length))


# --- the fake embedder ------------------------------------------------------------

def register_fake_model(mp: pytest.MonkeyPatch) -> str:
    """Make `--model fake` the hashing embedder until `mp` is undone."""
    mp.setitem(kb.embeddings.BACKENDS, FAKE_MODEL, lambda arg: HashEmbedder())
    mp.setitem(kb.embeddings._loaded, FAKE_MODEL, HashEmbedder())
    return FAKE_MODEL


@pytest.fixture(scope="module")
def fake_model():
    """`--model fake`, registered for the module (Hypothesis' @given refuses function-scoped fixtures)."""
    with pytest.MonkeyPatch.context() as mp:
        yield register_fake_model(mp)


@pytest.fixture
def fake_default_model(fake_model, monkeypatch):
    """The fake embedder as the default model for this test: whatever names no model (the app, `kb serve`,
    a Searcher) uses it."""
    monkeypatch.setattr(kb.embeddings, "DEFAULT_MODEL", fake_model)
    return fake_model


# --- indexes ----------------------------------------------------------------------

@pytest.fixture(scope="session")
def embed_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("embed-cache") / "embeddings.sqlite"


@pytest.fixture
def make_index(tmp_path, embed_cache):
    """Index an article tree with the real model; returns (articles dir, index dir, summary)."""

    def make(files: dict, name="kb", model=None, **kw):
        articles = write_tree(tmp_path / f"{name}-articles", files)
        index = tmp_path / f"{name}-index"
        return articles, index, index_tree(articles, index, embed_cache, model=model, **kw)

    return make


@pytest.fixture
def make_fake_index(tmp_path, fake_default_model):
    """Index an article tree with the fake embedder, the test's default model; returns (articles dir, index dir,
    summary)."""

    def make(files: dict, name="kb", **kw):
        articles = write_tree(tmp_path / f"{name}-articles", files)
        index = tmp_path / f"{name}-index"
        return articles, index, job.run(articles, index, progress=False, **kw)

    return make


@pytest.fixture
def make_tier_index(request):
    """make_index for a `slow` test, else make_fake_index: for a module whose tests of logic need not wait for
    the real model while its tests of what search finds use it."""
    return request.getfixturevalue("make_index" if request.node.get_closest_marker("slow") else "make_fake_index")


@pytest.fixture
def small_index(make_index):
    return make_index(SMALL_KB)


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory, embed_cache):
    """The sample knowledge base in articles/, indexed once per session with the real model."""
    index = tmp_path_factory.mktemp("sample-index")
    return ROOT / "articles", index, index_tree(ROOT / "articles", index, embed_cache)


# --- the web app --------------------------------------------------------------------
# Each test gets a fresh app over a session-wide copy of the sample's index, with rate limits off unless the
# test turns them on. The activity database is shared by the session, so tests look for their own rows
# rather than counting all rows.

@pytest.fixture(scope="session")
def web_index(request, tmp_path_factory) -> Path:
    """A copy of the sample index (real model) for the web tests, so their activity rows stay out of other
    tests' way.

    KB_TEST_SAMPLE_INDEX=<dir> copies an index of articles/ built by `kb index` instead (faster local runs),
    then brings the copy up to date with this tree's articles/ (incremental: only changed files are embedded).
    """
    prebuilt = os.environ.get("KB_TEST_SAMPLE_INDEX")
    if prebuilt:  # brought up to date, or re-indexed if another index format (its embeddings reused either way)
        index = copy_index(Path(prebuilt), tmp_path_factory.mktemp("web") / "index")
        job.run(ROOT / "articles", index, progress=False)
        return index
    return copy_index(request.getfixturevalue("sample_index")[1], tmp_path_factory.mktemp("web") / "index")


@pytest.fixture(scope="session")
def fake_web_index(tmp_path_factory) -> Path:
    """The sample knowledge base indexed with the fake embedder, once per session."""
    index = tmp_path_factory.mktemp("fake-web") / "index"
    with pytest.MonkeyPatch.context() as mp:
        job.run(ROOT / "articles", index, model=register_fake_model(mp), progress=False)
    return index


@pytest.fixture
def index_dir(request) -> Path:
    """The index the web fixtures serve: the sample's, built with the fake embedder (then the default model for
    the test), or with the real model for a `slow` test. A module overrides this to serve an index of its own."""
    if request.node.get_closest_marker("slow"):
        return request.getfixturevalue("web_index")
    request.getfixturevalue("fake_default_model")
    return request.getfixturevalue("fake_web_index")


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


@pytest.fixture(scope="module")
def shared_app(fake_web_index, fake_model):
    """One app per module over the sample's fake-embedder index, for logic tests that only send it requests
    (bad input, refusals), many of them parametrized: building an app takes ~50 ms."""
    return create_app({"TESTING": True, "INDEX": str(fake_web_index), "MODEL": fake_model, "RATELIMIT_ENABLED": False,
                       "SECRET_KEY": "test-secret"})


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def activity(index_dir) -> Activity:
    return activity_at(index_dir / "activity.sqlite")


@pytest.fixture
def accounts(activity) -> Accounts:
    return Accounts(activity.db)


@pytest.fixture
def agent(activity):
    return new_user(activity, "agent")


@pytest.fixture
def agent_client(client, agent):
    login(client, agent)
    return client



# --- the writers' editor ---------------------------------------------------------------

def _copy_kb(folder: Path, fake_web_index: Path) -> tuple[Path, Path]:
    articles = folder / "articles"
    shutil.copytree(ROOT / "articles", articles)
    return articles, copy_index(fake_web_index, folder / "index")


def _editing_app(articles: Path, index: Path, model: str):
    app = create_app({"TESTING": True, "INDEX": str(index), "ARTICLES": str(articles), "RATELIMIT_ENABLED": False,
                      "SECRET_KEY": "test-secret"})
    app.extensions["polykb"]["reindexer"].runner = index_runner(model)
    return app


@pytest.fixture
def kb_copy(tmp_path, fake_web_index):
    """(articles, index): copies of the sample's articles and of its index (fake embedder), for one test to change."""
    return _copy_kb(tmp_path, fake_web_index)


@pytest.fixture
def edit_app(kb_copy, fake_default_model):
    """An app editing `kb_copy`; the background index after a save runs in this process with the fake embedder."""
    return _editing_app(*kb_copy, fake_default_model)


@pytest.fixture
def writer(edit_app):
    return client_as(edit_app, "writer")


@pytest.fixture(scope="module")
def read_only_kb_copy(tmp_path_factory, fake_web_index):
    """`kb_copy` shared by a module's tests that save nothing: those only read, or check that a save is refused
    and the file left as it was (a test that fails that check has changed the copy: it fails first)."""
    return _copy_kb(tmp_path_factory.mktemp("read-only-kb"), fake_web_index)


@pytest.fixture(scope="module")
def read_only_edit_app(read_only_kb_copy, fake_model):
    """`edit_app` over `read_only_kb_copy`, once per module: an app over a fresh copy took a fifth of a second."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(kb.embeddings, "DEFAULT_MODEL", fake_model)
        yield _editing_app(*read_only_kb_copy, fake_model)


@pytest.fixture
def read_only_writer(read_only_edit_app):
    """A writer (a new one per test) signed in to `read_only_edit_app`."""
    return client_as(read_only_edit_app, "writer")
