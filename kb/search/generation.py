"""One published generation of the index, opened for searching.

A generation never changes once published, so what every search needs from it
(article rows, each chunk's article, the translation groups) is read once, at
open: a search then reads from SQLite only the texts of the sections it shows
(bench/speed, `fusion` stage).

Keyword statistics come per audience (`keywords`, `vocab`, `chunk_total`):
public searches see those of public chunks only, so no public score depends
on internal text (kb/index/store.py).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
from cachetools import LRUCache

from kb.index import format as index_format, vectors
from kb.search import section_roles
from kb.search.calibration import Calibration
from kb.index.catalog import Catalog
from kb.search.section_roles import SectionPlan
from kb.index.store import ArticleRow, ChunkRow, Store
from kb.search.typos import Vocabulary


SECTIONS_CACHED = 4096  # article versions


@dataclass(frozen=True, kw_only=True)
class Generation:
    name: str
    store: Store
    public: object  # FAISS index of public chunks only: public searches cannot reach internal text
    all: object
    manifest: dict
    langs_public: set[str]
    langs_all: set[str]
    n_chunks: int
    main_lang: str | None  # the language most public articles are in: the prior when the caller gives none
    articles: dict[int, ArticleRow]
    groups: dict[str, list[ArticleRow]]  # article id → its versions, ordered by language
    chunk_article: dict[int, int]
    vocabulary: Vocabulary  # the keyword index's terms, to correct typos in queries (every chunk)
    public_vocabulary: Vocabulary  # the same over public chunks only
    public_store: Store  # `store` with the keyword tables of public chunks only
    n_public_chunks: int
    catalog: Catalog  # featured articles, product and topic labels, outdated translations (kb.index.catalog)
    # Every shown result scores all sections of its version (kb/search/sections.py): their rows and vectors are read
    # once per generation, not once per search (two SQLite reads per result, ~10% of a search's time), and how
    # its sections group and rank by role (kb/section_roles.plan), which was another ~10%.
    _sections: LRUCache = field(default_factory=lambda: LRUCache(SECTIONS_CACHED))
    # Views derived from the rows that pages read on every request (kb.search.browse: public groups, products), made
    # once per generation; a race computes one twice, with the same result.
    memo: dict = field(default_factory=dict)
    _sections_lock: threading.Lock = field(default_factory=threading.Lock)

    def sections(self, rowid: int) -> tuple[list[ChunkRow], np.ndarray, np.ndarray, SectionPlan]:
        """(chunks, their ids, their vectors as the model made them, how to choose among them) of one version."""
        with self._sections_lock:
            found = self._sections.get(rowid)
        if found is None:
            ids, mat = self.store.vectors_of(rowid)
            chunks = self.store.chunks_of(rowid)
            found = (chunks, ids, mat, section_roles.plan(chunks))
            with self._sections_lock:
                self._sections[rowid] = found
        return found

    def chunk_vector(self, rowid: int, chunk_id: int) -> np.ndarray:
        """One chunk of version `rowid`, its vector as the model made it: from the version's cached sections
        (a search judges the best chunks of its top ten versions, mostly those it shows), not a SQLite read."""
        _, ids, mat, _ = self.sections(rowid)
        at = int(np.searchsorted(ids, chunk_id))  # ids come in rowid order
        if at < len(ids) and ids[at] == chunk_id:
            return mat[at]
        return self.store.chunk_vectors([chunk_id])[chunk_id]

    @cached_property
    def calibration(self) -> Calibration | None:
        """The settings this knowledge base chose on its own questions at index time (kb/search/calibration.py);
        None for a generation indexed before calibration existed."""
        return Calibration.from_json(self.manifest.get("calibration"))

    def languages(self, public: bool) -> set[str]:
        return self.langs_public if public else self.langs_all

    def index(self, public: bool):
        return self.public if public else self.all

    def keywords(self, public: bool) -> Store:
        """The store whose keyword index and statistics cover what this audience may see."""
        return self.public_store if public else self.store

    def vocab(self, public: bool) -> Vocabulary:
        return self.public_vocabulary if public else self.vocabulary

    def chunk_total(self, public: bool) -> int:
        return self.n_public_chunks if public else self.n_chunks

    def visible(self, article_id: str, audience: str) -> list[ArticleRow]:
        """The versions of an article this audience may see (none: it does not exist for them)."""
        return [v for v in self.groups.get(article_id, ()) if audience == "internal" or v.is_public]


def open_generation(path: Path, manifest: dict) -> Generation:
    store = Store.open_readonly(path / "kb.sqlite")
    articles = {a.rowid: a for a in store.articles()}
    groups: dict[str, list[ArticleRow]] = {}
    for a in articles.values():  # ordered by id, lang
        groups.setdefault(a.id, []).append(a)
    public = {a.lang for a in articles.values() if a.is_public}
    counts = Counter(a.lang for a in articles.values() if a.is_public)  # not internal ones: they move no public result
    main = max(sorted(counts), key=counts.get, default=None)
    chunk_article = store.chunk_articles()
    public_store = store.public()
    return Generation(name=path.name, store=store, public=vectors.load(path / "public.faiss"),
                      all=vectors.load(path / "all.faiss"), manifest=manifest, langs_public=public,
                      langs_all={a.lang for a in articles.values()}, n_chunks=len(chunk_article), main_lang=main,
                      articles=articles, groups=groups, chunk_article=chunk_article,
                      vocabulary=Vocabulary.load(store), public_vocabulary=Vocabulary.load(public_store),
                      public_store=public_store, n_public_chunks=public_store.chunk_count(),
                      catalog=Catalog.from_json(store.catalog()))


def current(index_dir: Path) -> tuple[Path, dict]:
    """The served generation's folder and its verified manifest."""
    path = index_format.current_generation(index_dir)
    return path, index_format.read_manifest(path, verify=True)
