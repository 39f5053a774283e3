"""SQLite storage of one index generation: articles, chunks with vectors, and (kb.index.keyword_index) keywords.

A generation's database is written once by the indexer and then only read:
readers open it immutable, so searches never take a lock and never see a
half-written index. Activity (searches, clicks, feedback) lives elsewhere
(`kb.storage`), because it must survive re-indexing. The schema of the whole
file is here; the queries on its keyword tables are `KeywordIndex`'s, which
`Store` inherits, so callers keep one object per generation.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb.articles.model import Article, Problem
from kb.articles.chunking import Chunk
from kb.index.keyword_index import KeywordIndex

# `catalog`: what the help center shows beside the articles (featured, labels, outdated translations), as JSON,
# rewritten by every index run. Added after format 2 without a new format: an index built before it has no
# such table and reads as empty (`Store.catalog`), and the indexer adds it to a copied generation.
CATALOG_TABLE = "CREATE TABLE IF NOT EXISTS catalog (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
PROBLEMS_TABLE = "CREATE TABLE problems (path TEXT, line INTEGER, severity TEXT, message TEXT, code TEXT, facts TEXT)"
SCHEMA = """
CREATE TABLE articles (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL, lang TEXT NOT NULL, title TEXT NOT NULL, path TEXT NOT NULL,
    visibility TEXT NOT NULL, product TEXT, tags TEXT NOT NULL, owner TEXT,
    updated TEXT, reviewed TEXT, review_every INTEGER,
    translated_from TEXT, source_hash TEXT, content_hash TEXT NOT NULL,
    file_sha TEXT NOT NULL, body TEXT NOT NULL, body_line INTEGER NOT NULL,
    UNIQUE (id, lang)
);
CREATE TABLE chunks (
    rowid INTEGER PRIMARY KEY,
    article INTEGER NOT NULL REFERENCES articles(rowid) ON DELETE CASCADE,
    ord INTEGER NOT NULL, heading TEXT NOT NULL, anchor TEXT NOT NULL, heading_path TEXT NOT NULL,
    text TEXT NOT NULL, embed_text TEXT NOT NULL, vector BLOB NOT NULL
);
CREATE INDEX chunks_article ON chunks(article);
CREATE VIRTUAL TABLE chunks_fts USING fts5(tokens, tokenize="unicode61 remove_diacritics 0 tokenchars '_'");
CREATE VIRTUAL TABLE chunks_vocab USING fts5vocab(chunks_fts, row);
CREATE TABLE vocab (term TEXT PRIMARY KEY, doc INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE vocab_keys (key TEXT NOT NULL, term TEXT NOT NULL, PRIMARY KEY (key, term)) WITHOUT ROWID;
CREATE VIRTUAL TABLE public_chunks_fts USING fts5(tokens, tokenize="unicode61 remove_diacritics 0 tokenchars '_'");
CREATE VIRTUAL TABLE public_chunks_vocab USING fts5vocab(public_chunks_fts, row);
CREATE TABLE public_vocab (term TEXT PRIMARY KEY, doc INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE public_vocab_keys (key TEXT NOT NULL, term TEXT NOT NULL, PRIMARY KEY (key, term)) WITHOUT ROWID;
CREATE TABLE files (path TEXT PRIMARY KEY, sha TEXT NOT NULL, mtime_ns INTEGER, size INTEGER);
""" + CATALOG_TABLE + ";\n" + PROBLEMS_TABLE + ";\n"

ARTICLE_COLS = ("rowid", "id", "lang", "title", "path", "visibility", "product", "tags", "owner",
                "updated", "reviewed", "review_every", "translated_from", "source_hash", "content_hash")


@dataclass(frozen=True)
class ArticleRow:
    """An indexed article version, without its body (fetch that with `Store.body`)."""

    rowid: int
    id: str
    lang: str
    title: str
    path: str
    visibility: str
    product: str | None
    tags: tuple[str, ...]
    owner: str | None
    updated: dt.date | None
    reviewed: dt.date | None
    review_every: int | None
    translated_from: str | None
    source_hash: str | None
    content_hash: str

    @classmethod
    def from_row(cls, row):
        d = dict(zip(ARTICLE_COLS, row))
        d["tags"] = tuple(json.loads(d["tags"]))
        for k in ("updated", "reviewed"):
            d[k] = dt.date.fromisoformat(d[k]) if d[k] else None
        return cls(**d)

    @property
    def is_public(self):
        return self.visibility == "public"


@dataclass(frozen=True)
class ChunkRow:
    rowid: int
    article: int
    ord: int
    heading: str
    anchor: str
    heading_path: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class ArticleFilter:
    """Which article versions a search may see; callers say what, the SQL stays in this module."""

    public_only: bool = False
    lang: str | None = None
    product: str | None = None
    tags: tuple[str, ...] = ()

    def sql(self) -> tuple[str, list]:
        """SQL condition on articles (table alias `a`) and its parameters."""
        clauses, params = [], []
        if self.public_only:
            clauses.append("a.visibility = 'public'")
        if self.lang:
            clauses.append("a.lang = ?")
            params.append(self.lang)
        if self.product:
            clauses.append("a.product = ?")
            params.append(self.product.lower())
        for tag in self.tags or ():
            clauses.append("EXISTS (SELECT 1 FROM json_each(a.tags) WHERE value = ?)")
            params.append(tag.lower())
        return " AND ".join(clauses), params


EVERYTHING = ArticleFilter()
PUBLIC = ArticleFilter(public_only=True)


def create(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path))
    conn.execute("PRAGMA journal_mode=OFF")  # a build writes once; the publish step is the transaction
    conn.execute("PRAGMA synchronous=OFF")
    conn.executescript(SCHEMA)
    return conn


class Store(KeywordIndex):
    """Read and write access to one generation's database.

    A read-only store gives each thread its own connection: SQLite serialises
    the statements of one connection, so server threads sharing one would
    wait for each other's keyword searches (33 ms each at 100k chunks).
    """

    def __init__(self, conn: sqlite3.Connection | None = None, uri: str | None = None, prefix: str = ""):
        self._conn = conn
        self._uri = uri
        self._local = threading.local()
        self._prefix = prefix  # "public_": the keyword tables of public chunks only

    def public(self) -> Store:
        """This store with its keyword index, vocabulary and their statistics over public chunks only."""
        view = Store(self._conn, self._uri, "public_")
        view._local = self._local  # the same per-thread connections
        return view

    @property
    def conn(self) -> sqlite3.Connection:
        if self._uri is None:
            return self._conn
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = sqlite3.connect(self._uri, uri=True, check_same_thread=False)
        return conn

    @classmethod
    def open_readonly(cls, path: Path) -> Store:
        store = cls(uri=f"{Path(path).resolve().as_uri()}?mode=ro&immutable=1")
        store.conn  # noqa: B018 - open now: a missing or unreadable file fails here, not in a search
        return store

    @classmethod
    def open_write(cls, path: Path) -> Store:
        conn = sqlite3.connect(str(path))
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(CATALOG_TABLE)
        return cls(conn)

    def close(self):
        self.conn.close()

    def commit(self):
        self.conn.commit()

    def vacuum(self):
        """Give back the pages of deleted articles (a build that deleted some)."""
        self.conn.execute("VACUUM")

    # --- writing (indexer) -------------------------------------------------

    def add_article(self, a: Article, file_sha: str, chunks: Sequence[Chunk], vectors: np.ndarray) -> int:
        cur = self.conn.execute(
            "INSERT INTO articles (id, lang, title, path, visibility, product, tags, owner, updated, reviewed,"
            " review_every, translated_from, source_hash, content_hash, file_sha, body, body_line)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (a.id, a.lang, a.title, a.path, a.visibility, a.product, json.dumps(a.tags, ensure_ascii=False), a.owner,
             a.updated.isoformat() if a.updated else None, a.reviewed.isoformat() if a.reviewed else None,
             a.review_every, a.translated_from, a.source_hash, a.content_hash, file_sha, a.body, a.body_line))
        art = cur.lastrowid
        for c, v in zip(chunks, vectors):
            cur = self.conn.execute(
                "INSERT INTO chunks (article, ord, heading, anchor, heading_path, text, embed_text, vector)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (art, c.ord, c.heading, c.anchor, json.dumps(c.heading_path, ensure_ascii=False), c.text,
                 c.embed_text, np.asarray(v, dtype=np.float32).tobytes()))
            self._index_keywords(cur.lastrowid, c.embed_text, a.lang, a.visibility == "public")
        return art

    def delete_article(self, rowid: int):
        self._unindex_keywords(rowid)
        self.conn.execute("DELETE FROM chunks WHERE article=?", (rowid,))
        self.conn.execute("DELETE FROM articles WHERE rowid=?", (rowid,))

    def set_problems(self, problems: Iterable[Problem]):
        """Replace the lint's problems, with their facts as JSON.

        A generation built before the `facts` column gets the new table here, the one change an incremental
        build makes to the copied schema: no format version to bump, no re-embedding. Older code reads
        the five columns it knows.
        """
        if not self._has_facts():
            self.conn.execute("DROP TABLE problems")
            self.conn.execute(PROBLEMS_TABLE)
        else:
            self.conn.execute("DELETE FROM problems")
        self.conn.executemany("INSERT INTO problems VALUES (?,?,?,?,?,?)", [
            (p.path, p.line, p.severity, p.message, p.code, json.dumps(p.facts, ensure_ascii=False, sort_keys=True))
            for p in problems])

    def _has_facts(self) -> bool:
        return any(col[1] == "facts" for col in self.conn.execute("PRAGMA table_info(problems)"))

    def set_catalog(self, values: dict[str, object]):
        """Replace the catalog: each key's value stored as JSON."""
        self.conn.execute("DELETE FROM catalog")
        self.conn.executemany("INSERT INTO catalog VALUES (?, ?)",
                              [(k, json.dumps(v, ensure_ascii=False, sort_keys=True)) for k, v in values.items()])

    def set_files(self, files: dict[str, tuple[str, int, int]]):
        self.conn.execute("DELETE FROM files")
        self.conn.executemany("INSERT INTO files VALUES (?,?,?,?)", [(p, *v) for p, v in files.items()])

    # --- reading -----------------------------------------------------------

    def catalog(self) -> dict[str, object]:
        """The catalog's values by key; empty for an index built before the catalog existed."""
        try:
            return {k: json.loads(v) for k, v in self.conn.execute("SELECT key, value FROM catalog")}
        except sqlite3.OperationalError:  # no such table
            return {}

    def files(self) -> dict[str, tuple[str, int, int]]:
        return {p: (sha, m, s) for p, sha, m, s in self.conn.execute("SELECT path, sha, mtime_ns, size FROM files")}

    def article_by_path(self) -> dict[str, tuple[int, str]]:
        return {p: (r, sha) for r, p, sha in self.conn.execute("SELECT rowid, path, file_sha FROM articles")}

    def articles(self, public_only: bool = False) -> list[ArticleRow]:
        """Every article version (or the public ones), by id and language."""
        return self._articles("visibility = 'public'" if public_only else "")

    def _articles(self, where: str = "", params: Sequence = ()) -> list[ArticleRow]:
        q = f"SELECT {', '.join(ARTICLE_COLS)} FROM articles {('WHERE ' + where) if where else ''} ORDER BY id, lang"
        return [ArticleRow.from_row(r) for r in self.conn.execute(q, params)]

    def articles_by_rowid(self, rowids: Iterable[int]) -> dict[int, ArticleRow]:
        ids = list(set(rowids))
        out = {}
        for j in range(0, len(ids), 500):
            part = ids[j:j + 500]
            for a in self._articles(f"rowid IN ({','.join('?' * len(part))})", part):
                out[a.rowid] = a
        return out

    def versions(self, article_id: str) -> list[ArticleRow]:
        return self._articles("id = ?", (article_id,))

    def body(self, rowid: int) -> str:
        return self.conn.execute("SELECT body FROM articles WHERE rowid=?", (rowid,)).fetchone()[0]

    def chunks_of(self, article_rowid: int) -> list[ChunkRow]:
        rows = self.conn.execute("SELECT rowid, article, ord, heading, anchor, heading_path, text FROM chunks"
                                 " WHERE article=? ORDER BY ord", (article_rowid,))
        return [ChunkRow(r[0], r[1], r[2], r[3], r[4], tuple(json.loads(r[5])), r[6]) for r in rows]

    def chunks_by_rowid(self, rowids: Iterable[int]) -> dict[int, ChunkRow]:
        ids = list(set(rowids))
        out = {}
        for j in range(0, len(ids), 500):
            part = ids[j:j + 500]
            rows = self.conn.execute("SELECT rowid, article, ord, heading, anchor, heading_path, text FROM chunks"
                                     f" WHERE rowid IN ({','.join('?' * len(part))})", part)
            for r in rows:
                out[r[0]] = ChunkRow(r[0], r[1], r[2], r[3], r[4], tuple(json.loads(r[5])), r[6])
        return out

    def vectors(self, public_only: bool = False, with_langs: bool = False):
        """(chunk ids, vectors[, languages]) of every chunk, or of public articles' chunks."""
        return self._vectors("a.visibility = 'public'" if public_only else "", (), with_langs)

    def _vectors(self, where: str = "", params: Sequence = (), with_langs: bool = False):
        q = ("SELECT c.rowid, c.vector, a.lang FROM chunks c JOIN articles a ON a.rowid=c.article"
             f" {('WHERE ' + where) if where else ''} ORDER BY c.rowid")
        rows = self.conn.execute(q, params).fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        vecs = (np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows]) if rows
                else np.zeros((0, 0), dtype=np.float32))
        return (ids, vecs, [r[2] for r in rows]) if with_langs else (ids, vecs)

    def vectors_of(self, article_rowid: int) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, vectors) of one article version."""
        return self._vectors("a.rowid = ?", (article_rowid,))

    def chunk_vectors(self, chunk_ids: Sequence[int]) -> dict[int, np.ndarray]:
        """chunk rowid → its vector as the model made it (the FAISS copies are centred per language)."""
        ids = list(chunk_ids)
        rows = self.conn.execute(f"SELECT rowid, vector FROM chunks WHERE rowid IN ({','.join('?' * len(ids))})", ids)
        return {r[0]: np.frombuffer(r[1], dtype=np.float32) for r in rows}

    def chunk_articles(self) -> dict[int, int]:
        """Chunk rowid → article rowid, for every chunk."""
        return dict(self.conn.execute("SELECT rowid, article FROM chunks"))

    def problems(self) -> list[Problem]:
        facts = "facts" if self._has_facts() else "NULL"  # a generation from before the column: no facts
        rows = self.conn.execute(f"SELECT path, line, severity, message, code, {facts} FROM problems "
                                 "ORDER BY path, line")
        return [Problem(*r[:5], json.loads(r[5]) if r[5] else {}) for r in rows]
