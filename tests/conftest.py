"""Shared fixtures: article trees built inline, indexes built with the real model.

Embeddings are cached by content in one file for the whole session, so each
fixture text is embedded once however many tests index it.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from indexer import job

ROOT = Path(__file__).resolve().parent.parent


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


@pytest.fixture(scope="session")
def embed_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("embed-cache") / "embeddings.sqlite"


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


@pytest.fixture
def make_index(tmp_path, embed_cache):
    """Index an article tree with the real model; returns (articles dir, index dir, summary)."""

    def make(files: dict, name="kb", model=None, **kw):
        articles = write_tree(tmp_path / f"{name}-articles", files)
        index = tmp_path / f"{name}-index"
        return articles, index, index_tree(articles, index, embed_cache, model=model, **kw)

    return make


@pytest.fixture
def small_index(make_index):
    return make_index(SMALL_KB)


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory, embed_cache):
    """The sample knowledge base in articles/, indexed once per session with the real model."""
    index = tmp_path_factory.mktemp("sample-index")
    return ROOT / "articles", index, index_tree(ROOT / "articles", index, embed_cache)
