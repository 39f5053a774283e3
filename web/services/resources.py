"""Resources shared by every request: the searcher, the shared database's repositories, contact requests
(flaskr's db.py idiom).

They are opened once per app in `init_app`, so a missing or corrupt index or
database stops `kb serve` at start with a clear message instead of failing the
first visitor. The Searcher picks up a newly published index by itself. With KB_REQUEST_WEBHOOK set,
each app runs one background sender for the contact requests' outbox (kb.contact.outbox).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import secrets
import threading
import time
from pathlib import Path

from cachetools import LRUCache
from flask import Flask, current_app, g, request
from flask_babel import get_locale, gettext

from kb.text import chinese, fallback, languages
from kb.articles import render
from kb.index import replication
from kb.errors import ConfigError
from kb.contact.outbox import Sender
from kb.storage import Database, database_url, open_database
from kb.storage.accounts import Accounts
from kb.storage.activity import Activity
from kb.storage.audit import Audit
from kb.storage.contact import ContactStore
from kb.storage.insights import Insights
from kb.storage.lockout import LoginLocks
from kb.storage.edits import Edits
from kb.storage.workitems import WorkItems
from kb.search.searcher import Searcher
from kb.index.store import ArticleRow

from web.services import learning, retention
from web.services.reindex import Reindexer

SECRET_FILE = "secret_key"
RENDERED_ARTICLES = 512  # article pages kept rendered (HTML and table of contents)


def init_app(app: Flask):
    index_dir = Path(app.config["INDEX"])
    url = database_url(index_dir, app.config.get("DATABASE_URL"))
    shared = replication.shared_database(index_dir, url)  # replicas: the index comes from the database
    follower = replication.start_replica(shared, index_dir) if shared else None
    searcher = Searcher(index_dir, model=app.config["MODEL"],
                        min_answer_score=app.config["MIN_ANSWER_SCORE"], budget=app.config["SEARCH_BUDGET"])
    languages.warm_up(searcher.languages("internal"))
    db = shared or open_database(url)
    contacts = ContactStore(db)
    webhook = app.config.get("REQUEST_WEBHOOK")
    articles = app.config.get("ARTICLES")
    app.extensions["polykb"] = {"searcher": searcher, "db": db, "activity": Activity(db), "accounts": Accounts(db),
                                "contacts": contacts, "insights": Insights(db), "follower": follower,
                                "sender": Sender(contacts, webhook).start() if webhook else None,
                                "audit": Audit(db), "login_locks": LoginLocks(db),
                                "edits": Edits(db), "workitems": WorkItems(db),
                                "reindexer": Reindexer(Path(articles) if articles else None, index_dir,
                                                       app.config["MODEL"],
                                                       published=searcher.notice_new_generation),
                                "rendered": LRUCache(RENDERED_ARTICLES), "rendered_lock": threading.Lock()}
    if not app.config.get("SECRET_KEY"):
        if shared:
            raise ConfigError(
                f"KB_SECRET_KEY is not set, and this replica shares {db.name} with others: each would sign sessions "
                "and CSRF tokens with a key of its own, so logins and forms would work on one replica only. Set the "
                "same KB_SECRET_KEY on every replica: python3 -c 'import secrets; print(secrets.token_hex(32))'")
        app.config["SECRET_KEY"] = stored_secret(index_dir)
    if app.config.get("REPLICA_NAME"):
        name = app.config["REPLICA_NAME"]

        @app.after_request
        def served_by(response):
            response.headers["X-KB-Replica"] = name
            return response

    retention.init_app(app)
    learning.init_app(app)

    @app.before_request
    def recover_indexing():  # at the first request, once the app is set up (kb.web.services.reindex)
        current_app.extensions["polykb"]["reindexer"].recover()


def get_searcher() -> Searcher:
    return current_app.extensions["polykb"]["searcher"]


def get_db() -> Database:
    return current_app.extensions["polykb"]["db"]


def get_activity() -> Activity:
    return current_app.extensions["polykb"]["activity"]


def get_accounts() -> Accounts:
    return current_app.extensions["polykb"]["accounts"]


def get_contacts() -> ContactStore:
    return current_app.extensions["polykb"]["contacts"]


def get_insights() -> Insights:
    return current_app.extensions["polykb"]["insights"]


def wake_sender():
    """Send a request just queued now rather than at the sender's next look (no-op without a webhook)."""
    sender = current_app.extensions["polykb"]["sender"]
    if sender is not None:
        sender.wake()


def get_audit() -> Audit:
    return current_app.extensions["polykb"]["audit"]


def get_login_locks() -> LoginLocks:
    return current_app.extensions["polykb"]["login_locks"]


def count_view(article_id: str, lang: str, ui_lang: str | None, audience: str) -> bool:
    """Log a view of an article unless this reader was already counted for it in this window
    (VIEW_WINDOW_MINUTES), so reloading cannot inflate popularity.

    The reader is the signed-in user, else the client address with the browser's User-Agent. Only an
    HMAC of reader, article and window under the app's secret key is stored, and only while the window
    lasts: no address is kept, and a key cannot be linked to a reader without the secret."""
    window = current_app.config["VIEW_WINDOW_MINUTES"] * 60
    reader = f"user:{g.user}" if g.get("user") else f"{request.remote_addr}|{request.user_agent.string}"
    message = f"{int(time.time() // window)}|{article_id}|{reader}".encode()
    key = hmac.new(str(current_app.secret_key).encode(), message, hashlib.sha256).hexdigest()
    return get_activity().log_view(article_id, lang, ui_lang, audience, seen_key=key, keep_seconds=2 * window)


def get_edits() -> Edits:
    return current_app.extensions["polykb"]["edits"]


def get_workitems() -> WorkItems:
    return current_app.extensions["polykb"]["workitems"]


def get_reindexer() -> Reindexer:
    return current_app.extensions["polykb"]["reindexer"]


def rendered_article(row: ArticleRow, body: str, resolve: render.Resolver, audience: str,
                     reader: str | None, media: render.Media | None = None) -> render.Rendered:
    """An article version rendered once per generation, reader language and audience, not once per view.

    Rendering is Markdown parsing and sanitising: milliseconds for a normal
    article, seconds for a pathological one (thousands of unmatched `[`), and
    a page that is read again and again. The key holds the content hash, so a
    changed article is never served from the cache; and the generation, taken
    after the row was read, so links are resolved against that generation or
    a newer one (a link to an article made internal since disappears with it).
    """
    ext = current_app.extensions["polykb"]
    # the page and the API resolve links differently; the UI language names the code blocks. Not the Host: a
    # new Host header per request made every view a miss (6 hosts, 111 s of CPU for one article, issue #24);
    # the API's absolute links are cached with a placeholder host and given this request's on the way out.
    key = (ext["searcher"].generation().name, row.id, row.lang, row.content_hash, audience, reader,
           request.endpoint, str(get_locale()))
    with ext["rendered_lock"]:
        found = ext["rendered"].get(key)
    if found is None:
        found = render.render(body, _host_free(resolve), code_label=gettext("Code"), labels=admonition_labels(),
                              media=media)
        if fallback.converted(row.lang, reader):  # the sibling script: converted for this reader (zh ↔ zh-Hant)
            found = render.Rendered(chinese.convert_html(found.html, reader),
                                    [dataclasses.replace(t, name=chinese.convert(t.name, reader)) for t in found.toc])
        with ext["rendered_lock"]:
            ext["rendered"][key] = found
    if ANY_HOST in found.html:
        found = dataclasses.replace(found, html=found.html.replace(ANY_HOST, request.host_url))
    return found


ANY_HOST = "https://any-host.polykb.invalid/"  # stands for this request's scheme and host in cached HTML


def _host_free(resolve: render.Resolver) -> render.Resolver:
    """`resolve` with this request's scheme and host, if a URL starts with them, replaced by ANY_HOST."""
    def resolved(target, anchor):
        url = resolve(target, anchor)
        if url and url.startswith(request.host_url):
            return ANY_HOST + url[len(request.host_url):]
        return url
    return resolved


def admonition_labels() -> dict[str, str]:
    """The admonition kinds an article may use (`!!! note`), named in the UI language."""
    return {"note": gettext("Note"), "info": gettext("Info"), "tip": gettext("Tip"), "warning": gettext("Warning"),
            "caution": gettext("Caution"), "danger": gettext("Danger"), "important": gettext("Important"),
            "example": gettext("Example"), "question": gettext("Question")}


def outdated_source(row: ArticleRow, versions: list[ArticleRow]):
    """The source this version lags behind in substance (kb.index.catalog, decided at index time), when the reader
    may open that source (it is among `versions`, the reader's visible ones); else None."""
    found = get_searcher().generation().catalog.outdated_version(row.id, row.lang)
    if found is None or found.source_lang not in {v.lang for v in versions}:
        return None
    return found


def stored_secret(index_dir: Path) -> str:
    """The secret key kept in the index folder, created on first use (mode 600) so sessions survive restarts."""
    path = Path(index_dir) / SECRET_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    try:
        os.link(tmp, path)  # fails if another worker won the race: then use theirs
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text().strip()
