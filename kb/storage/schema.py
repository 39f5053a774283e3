"""Every table of the shared database, in one MetaData: the schema the newest migration gives.

One place for the whole schema, so `kb db copy` copies every table and the
migration test can compare what the Alembic chain builds against this file.
A module that needs a table appends it here AND adds an Alembic revision that
creates it (see `kb/storage/__init__.py`); the test fails when they differ.

Times are ISO-8601 UTC strings (`storage.now()`): they sort as text on both
engines, and files from the sqlite3 era hold them that way. Ids are BIGINT on
PostgreSQL and plain INTEGER on SQLite, where that makes them the rowid.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, LargeBinary, MetaData, Table, Text
from sqlalchemy.dialects.sqlite import REAL

metadata = MetaData()

#: ids and references to them: INTEGER on SQLite (a primary key of it is the rowid), BIGINT on PostgreSQL
RowId = BigInteger().with_variant(Integer(), "sqlite")
#: a float: REAL as the sqlite3-era files declared it, double precision on PostgreSQL
Real = Float().with_variant(REAL(), "sqlite")

# --- activity (kb.storage.activity): what readers and agents did -------------------

searches = Table(
    "searches", metadata,
    Column("id", RowId, primary_key=True),
    Column("ts", Text, nullable=False),
    Column("query", Text, nullable=False),
    Column("lang", Text),
    Column("ui_lang", Text),
    Column("audience", Text, nullable=False),
    Column("route", Text, nullable=False),
    Column("results", Integer, nullable=False),
    Column("top_score", Real),
    Column("top_id", Text),
    # 1 answered, 0 showed only its closest articles; NULL: logged before this was recorded
    Column("answered", Integer),
)
Index("searches_ts", searches.c.ts)

# the results a search showed, in rank order (no key: rows are only ever read by search or article)
shown = Table(
    "shown", metadata,
    Column("search_id", RowId, nullable=False),
    Column("article_id", Text, nullable=False),
    Column("lang", Text),
    Column("rank", Integer, nullable=False),
)
Index("shown_article", shown.c.article_id)

clicks = Table(
    "clicks", metadata,
    Column("id", RowId, primary_key=True),
    Column("ts", Text, nullable=False),
    Column("search_id", RowId),
    Column("article_id", Text, nullable=False),
    Column("lang", Text),
    Column("rank", Integer),
    Column("origin", Text),  # the reader, as a keyed hash (kb.storage.learning); NULL before 0006
)

views = Table(
    "views", metadata,
    Column("id", RowId, primary_key=True),
    Column("ts", Text, nullable=False),
    Column("article_id", Text, nullable=False),
    Column("lang", Text, nullable=False),
    Column("ui_lang", Text),
    Column("audience", Text, nullable=False),
)
Index("views_article", views.c.article_id)

feedback = Table(
    "feedback", metadata,
    Column("id", RowId, primary_key=True),
    Column("ts", Text, nullable=False),
    Column("article_id", Text, nullable=False),
    Column("lang", Text, nullable=False),
    Column("helpful", Integer, nullable=False),
    Column("reason", Text),
    Column("source", Text, nullable=False),
    Column("origin", Text),  # the reader, as a keyed hash (kb.storage.learning)
    Column("search_id", RowId),  # the search the vote came from, when known
)

agent_marks = Table(
    "agent_marks", metadata,
    Column("id", RowId, primary_key=True),
    Column("ts", Text, nullable=False),
    Column("article_id", Text, nullable=False),
    Column("lang", Text),
    Column("mark", Text, nullable=False),
    Column("query", Text),
    Column("user", Text),
)

# --- learning (kb.storage.learning): the content each article's learned evidence belongs to ---------------

learned_articles = Table(
    "learned_articles", metadata,
    Column("article_id", Text, primary_key=True),
    Column("content_hash", Text, nullable=False),
    Column("since", Text, nullable=False),  # when that content was first seen: evidence before it is ignored
)

# --- accounts (kb.storage.accounts) -----------------------------------------------

users = Table(
    "users", metadata,
    Column("name", Text, primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("created", Text, nullable=False),
    # the session generation: a session cookie carries the one it was signed in with; moving it on (signing out,
    # a new password, `kb user logout`) ends every session of that user at once
    Column("sessions", Integer, nullable=False, server_default="0"),
    Column("last_login", Text),
)

tokens = Table(
    "tokens", metadata,
    Column("id", RowId, primary_key=True),
    Column("name", Text, nullable=False),
    Column("token_hash", Text, nullable=False, unique=True),
    Column("created", Text, nullable=False),
    Column("revoked", Text),
    Column("role", Text, nullable=False, server_default="agent"),  # agent | writer
    Column("expires", Text),  # NULL: never
    Column("last_used", Text),  # moved on at most once a minute
)

# --- published index generations (kb.storage.generations) and passage embeddings (kb.storage.embedding_cache) ---
# Replicas share no disk: `kb index` publishes each generation's files here, split into parts; replicas download
# the newest and check it against its manifest's checksums (kb/index/replication.py).

generations = Table(
    "generations", metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False, unique=True),
    Column("published", Text, nullable=False),
    Column("embedder", Text, nullable=False),
    Column("manifest", Text, nullable=False),  # manifest.json: every file's size and sha256
)

generation_files = Table(
    "generation_files", metadata,
    Column("generation", Text, primary_key=True),
    Column("file", Text, primary_key=True),
    Column("part", Integer, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
)

# (model name, sha256 of the passage text) -> float32 vector bytes: re-indexing anywhere embeds only what changed
embeddings = Table(
    "embeddings", metadata,
    Column("model", Text, primary_key=True),
    Column("key", LargeBinary, primary_key=True),
    Column("vector", LargeBinary, nullable=False),
)

# --- login locks (kb.storage.lockout) -------------------------------------------------------------------------------

# failed logins in a row per account name (names that do not exist too: the answer must not tell)
login_failures = Table(
    "login_failures", metadata,
    Column("name", Text, primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure", Text, nullable=False),
    Column("locked_until", Text),
)

# --- audit (kb.storage.audit): sign-ins, token use, internal articles read ----------------------------------------

audit_log = Table(
    "audit_log", metadata,
    Column("id", RowId, primary_key=True),
    Column("ts", Text, nullable=False),
    Column("event", Text, nullable=False),
    Column("actor", Text),
    Column("detail", Text),
)
Index("audit_log_ts", audit_log.c.ts)

# --- activity, continued (kb.storage.activity): readers already counted for an article in the current window ----
# `key` is a keyed hash of the reader and the article and window (never an address); rows live two windows
view_seen = Table(
    "view_seen", metadata,
    Column("key", Text, primary_key=True),
    Column("ts", Text, nullable=False),
)
Index("view_seen_ts", view_seen.c.ts)

# --- edits (kb.storage.edits): every save from the editor or the API ---------------------

edits = Table(
    "edits", metadata,
    Column("id", RowId, primary_key=True),
    Column("ts", Text, nullable=False),
    Column("article_id", Text, nullable=False),
    Column("lang", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("user", Text, nullable=False),
    Column("action", Text, nullable=False),  # edit, create, delete, reviewed, up-to-date
    Column("etag", Text),  # of the file after the save; NULL after a delete
    Column("diff", Text, nullable=False),  # unified diff of the file
    Column("commit", Text),  # the git commit, when the articles folder is a repository
)
Index("edits_article", edits.c.article_id, edits.c.lang)

# --- work items (kb.storage.workitems): report rows assigned, resolved, snoozed -------------

work_items = Table(
    "work_items", metadata,
    Column("item", Text, primary_key=True),  # kb.reports.workitems.item_key: which problem
    Column("report", Text, nullable=False),
    Column("article_id", Text),
    Column("lang", Text),
    Column("status", Text, nullable=False),  # open, resolved, snoozed
    Column("assignee", Text),
    Column("snoozed_until", Text),  # YYYY-MM-DD
    Column("resolved_fact", Text),  # kb.reports.workitems.fact_key when resolved: a new fact reopens the row
    Column("updated_by", Text),
    Column("updated_at", Text, nullable=False),
)
Index("work_items_assignee", work_items.c.assignee)

# --- contact requests (kb.storage.contact): the contact form, its sessions, the webhook outbox ---------

contact_requests = Table(
    "contact_requests", metadata,
    Column("id", RowId, primary_key=True),
    Column("uid", Text, nullable=False, unique=True),  # the request's public id, stable across webhook retries
    Column("ts", Text, nullable=False),
    Column("lang", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("name", Text),
    Column("article_id", Text),  # the article the customer came from ("No" on "Was this helpful?")
    Column("form_id", Text),
)
Index("contact_requests_ts", contact_requests.c.ts)

# a contact-form session's events: open, click (a suggested article), submit (kb.contact.requests: deflection)
contact_events = Table(
    "contact_events", metadata,
    Column("id", RowId, primary_key=True),
    Column("ts", Text, nullable=False),
    Column("form_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("lang", Text),
    Column("article_id", Text),
)
Index("contact_events_form", contact_events.c.form_id)
Index("contact_events_ts", contact_events.c.ts)

# requests waiting for (or delivered to) KB_REQUEST_WEBHOOK; written with the request (kb.contact.outbox)
outbox = Table(
    "outbox", metadata,
    Column("id", RowId, primary_key=True),
    Column("request_id", RowId, nullable=False),
    Column("payload", Text, nullable=False),
    Column("created", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_at", Text, nullable=False),
    Column("lease_until", Text),
    Column("delivered", Text),
    Column("last_error", Text),
)
Index("outbox_due", outbox.c.delivered, outbox.c.next_at)
