"""The keyword index of one generation (SQLite FTS5): bm25 search, term statistics, the typo vocabulary.

It exists twice in the generation's file (kb.index.store has the schema): over
every chunk, and over public chunks only (`public_` tables, read through
`Store.public()`). FTS5's bm25 and the document counts behind IDF weights and
typo correction are statistics of the whole table, so one shared table made
public scores move with internal vocabulary; public searches read only the
public copy.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from kb.text import languages

if TYPE_CHECKING:
    from kb.index.store import ArticleFilter


class KeywordIndex:
    """The keyword queries of `kb.index.store.Store`, which inherits them: they read its `conn`, on the tables of its
    audience (`_prefix`: "" for every chunk, "public_" for public chunks only)."""

    conn: sqlite3.Connection
    _prefix: str

    def _t(self, table: str) -> str:
        return self._prefix + table

    # --- writing (indexer) -------------------------------------------------

    def _index_keywords(self, chunk_id: int, text: str, lang: str, public: bool):
        """Add one chunk's tokens to the keyword index, and to the public one for a public article's chunk."""
        tokens = " ".join(languages.tokenize(text, lang))
        self.conn.execute("INSERT INTO chunks_fts (rowid, tokens) VALUES (?, ?)", (chunk_id, tokens))
        if public:
            self.conn.execute("INSERT INTO public_chunks_fts (rowid, tokens) VALUES (?, ?)", (chunk_id, tokens))

    def _unindex_keywords(self, article_rowid: int):
        """Remove an article's chunks from both keyword indexes (before its chunk rows go)."""
        for fts in ("chunks_fts", "public_chunks_fts"):
            self.conn.execute(f"DELETE FROM {fts} WHERE rowid IN (SELECT rowid FROM chunks WHERE article=?)",
                              (article_rowid,))

    def write_vocabulary(self, keys: Callable[[str], Iterable[str]]):
        """Copy the keyword index's terms and document counts into `vocab`, with each term's lookup `keys`.

        Read back once per generation to correct query typos (kb.search.typos). Scanning
        `chunks_vocab` reads the whole FTS5 index (0.5 s at 100k chunks), a plain
        table a few milliseconds; the keys find a Han word by one wildcard character.
        """
        for p in ("", "public_"):
            self.conn.execute(f"DELETE FROM {p}vocab")
            self.conn.execute(f"DELETE FROM {p}vocab_keys")
            self.conn.execute(f"INSERT INTO {p}vocab SELECT term, doc FROM {p}chunks_vocab")
            terms = [t for (t,) in self.conn.execute(f"SELECT term FROM {p}vocab")]
            self.conn.executemany(f"INSERT INTO {p}vocab_keys VALUES (?, ?)", ((k, t) for t in terms for k in keys(t)))

    # --- reading -----------------------------------------------------------

    def chunk_tokens(self, chunk_id: int) -> list[str]:
        """The keyword tokens of one chunk, as indexed."""
        row = self.conn.execute(f"SELECT tokens FROM {self._t('chunks_fts')} WHERE rowid=?", (chunk_id,)).fetchone()
        return row[0].split() if row else []

    def doc_frequencies(self, tokens: Iterable[str]) -> dict[str, int]:
        toks = list(set(tokens))
        if not toks:
            return {}
        q = f"SELECT term, doc FROM {self._t('chunks_vocab')} WHERE term IN ({','.join('?' * len(toks))})"
        return dict(self.conn.execute(q, toks).fetchall())

    def vocabulary(self) -> list[tuple[str, int]]:
        """(term, document count) of every term of the keyword index."""
        return self.conn.execute(f"SELECT term, doc FROM {self._t('vocab')}").fetchall()

    def term_counts(self, terms: Iterable[str]) -> dict[str, int]:
        """Document counts of terms, as `doc_frequencies`, from the `vocab` copy (no FTS5 index scan)."""
        terms = list(set(terms))
        out = {}
        for j in range(0, len(terms), 500):
            part = terms[j:j + 500]
            out.update(self.conn.execute(f"SELECT term, doc FROM {self._t('vocab')}"
                                         f" WHERE term IN ({','.join('?' * len(part))})", part).fetchall())
        return out

    def shares_chunk(self, term: str, others: Sequence[str]) -> bool:
        """Whether some chunk has `term` and at least one of `others`."""
        if not others:
            return False
        quote = lambda t: '"' + t.replace('"', '""') + '"'  # noqa: E731
        match = f"{quote(term)} AND ({' OR '.join(map(quote, others))})"
        fts = self._t("chunks_fts")
        return self.conn.execute(f"SELECT 1 FROM {fts} WHERE {fts} MATCH ? LIMIT 1", (match,)).fetchone() is not None

    def chunk_with(self, term: str) -> int | None:
        """One chunk that has `term` (the lowest rowid, so the same one every time), or None."""
        fts = self._t("chunks_fts")
        row = self.conn.execute(f"SELECT rowid FROM {fts} WHERE {fts} MATCH ? ORDER BY rowid LIMIT 1",
                                ('"' + term.replace('"', '""') + '"',)).fetchone()
        return row[0] if row else None

    def terms_by_key(self, keys: Iterable[str]) -> list[tuple[str, str, int]]:
        """(key, term, document count) of the terms found by each lookup key (see `write_vocabulary`)."""
        keys = list(set(keys))
        out = []
        for j in range(0, len(keys), 500):
            part = keys[j:j + 500]
            out += self.conn.execute(f"SELECT k.key, k.term, v.doc FROM {self._t('vocab_keys')} k"
                                     f" JOIN {self._t('vocab')} v ON v.term = k.term"
                                     f" WHERE k.key IN ({','.join('?' * len(part))})", part).fetchall()
        return out

    def chunk_count(self) -> int:
        """Chunks of this store's audience: every chunk, or the public ones (`public()`)."""
        if self._prefix:
            return self.conn.execute(f"SELECT count(*) FROM {self._t('chunks_fts')}").fetchone()[0]
        return self.conn.execute("SELECT count(*) FROM chunks").fetchone()[0]

    def keyword_search(self, tokens: Sequence[str], allowed: ArticleFilter, limit: int,
                       common: Sequence[str] = ()) -> list[tuple[int, float]]:
        """(chunk id, bm25 score, higher is better) for chunks of `allowed` articles matching any token.

        `common` tokens (words in a large share of the chunks) count in the
        score of a chunk that matches another token, but do not make a chunk
        match on their own: reading every chunk that has "the" or "как" was
        most of a search at 100k chunks, for candidates that rank last anyway.

        Ranked inside FTS5 first and only the best 4 x limit joined to their
        articles and filtered: joining every match before sorting was most of
        a search's time at 100k chunks (bench/speed, `keyword` stage: 57 →
        33 ms). When the filter keeps fewer than `limit` of those, the full
        query runs, so results are the same.
        """
        quote = lambda ts: " OR ".join('"' + t.replace('"', '""') + '"' for t in ts)  # noqa: E731
        if not tokens:
            return []
        where, params = allowed.sql()
        only_score = set(common)
        rare = [t for t in tokens if t not in only_score] or list(tokens)  # all common: every one matches
        common = [t for t in tokens if t not in rare]
        match = quote(rare) + (f" OR (({quote(common)}) AND ({quote(rare)}))" if common else "")
        where_sql = f"WHERE {where}" if where else ""
        fts = self._t("chunks_fts")
        best = (f"SELECT f.rowid, -f.s FROM (SELECT rowid, bm25({fts}) AS s FROM {fts} WHERE {fts} MATCH ?"
                " ORDER BY s LIMIT ?) f JOIN chunks c ON c.rowid=f.rowid JOIN articles a ON a.rowid=c.article"
                f" {where_sql} ORDER BY f.s LIMIT ?")
        rows = self.conn.execute(best, [match, 4 * limit, *params, limit]).fetchall()
        if len(rows) < limit and where:
            full = (f"SELECT f.rowid, -bm25({fts}) AS s FROM {fts} f"
                    " JOIN chunks c ON c.rowid=f.rowid JOIN articles a ON a.rowid=c.article"
                    f" WHERE {fts} MATCH ? AND {where} ORDER BY bm25({fts}) LIMIT ?")
            rows = self.conn.execute(full, [match, *params, limit]).fetchall()
        return [(r[0], r[1]) for r in rows]
