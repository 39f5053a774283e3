"""Hybrid search: dense + keyword, fused, one result per article (translation group).

The visitor gets each article once, in their language when a version exists,
otherwise in the best other language, flagged as a fallback: a Russian query
finds a Chinese-only guide and says so. Public callers search an index that
contains no internal chunk at all, and every SQL query filters on visibility
as well: internal text cannot leak through search, snippets or counts.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from cachetools import LRUCache

from . import fusion as fusion_mod
from . import index_format, languages, snippets, vectors
from .chunking import approx_tokens
from .embeddings import CachedEmbedder, get_embedder
from .errors import ModelMismatchError, QueryError
from .query_text import keyword_text, prose
from .store import ArticleRow, Store

MAX_QUERY_CHARS = 20_000  # a pasted ticket with its logs; more is not a query
MAX_K = 100
MODES = ("hybrid", "dense", "keyword")
AUDIENCES = ("public", "internal")
CANDIDATES = 100  # chunks fetched from each side before fusion
# Large knowledge bases only: a word in more than COMMON_SHARE of the chunks scores keyword matches but
# does not make one. At 100k chunks the keyword stage drops from 32 to 17 ms (p50) and the keyword top
# result stays the same for 89.5% of queries; forced on the small benchmark sets it costs keyword-only
# nDCG@10 0.5-2 points and hybrid 0.005 on stackfaq (±0.001 elsewhere), so below COMMON_FROM_CHUNKS,
# where the keyword stage takes a few milliseconds anyway, every word matches.
COMMON_SHARE = 0.1
COMMON_FROM_CHUNKS = 50_000
MAX_KEYWORD_TOKENS = 48  # most informative tokens of a long query kept for FTS
LONG_QUERY_TOKENS = 200  # above this, a query is embedded piecewise as well (tickets)
RESPONSE_CACHE = 2048  # whole responses of recent searches (help-center queries repeat: Zipf)
KEYWORD_THREADS = 4  # keyword searches running beside query embeddings (waitress's default threads)
CACHEABLE_CHARS = 500  # pasted tickets rarely repeat; keep them out of the cache


@dataclass
class Result:
    id: str
    lang: str
    title: str
    section: str
    anchor: str
    score: float
    snippet: str
    visibility: str
    product: str | None
    tags: tuple[str, ...]
    fallback: bool  # not in the language the caller wanted
    languages: tuple[str, ...]  # the versions this caller may open
    updated: str | None = None
    reviewed: str | None = None

    def to_json(self) -> dict:
        return {"id": self.id, "lang": self.lang, "title": self.title, "section": self.section,
                "anchor": self.anchor, "score": round(self.score, 4), "snippet": self.snippet,
                "visibility": self.visibility, "product": self.product, "tags": list(self.tags),
                "fallback": self.fallback, "languages": list(self.languages)}


@dataclass
class Response:
    query: str
    detected: languages.Detection
    lang: str | None  # the language results are shown in when they exist
    results: list[Result]
    total: int  # results before paging
    mode: str
    timings: dict[str, float] = field(default_factory=dict)
    # False when nothing found is likely to answer the query: the help center shows its no-answer page
    # and logs a failed search; agents still see the closest sections, marked as weak matches.
    answered: bool = True


@dataclass
class _KeywordSide:
    chunks: dict[int, float]  # chunk rowid → bm25
    coverage: float
    tokens: list[str]
    seconds: float


@dataclass
class _Generation:
    name: str
    store: Store
    public: object
    all: object
    manifest: dict
    langs_public: set[str]
    langs_all: set[str]
    n_chunks: int
    main_lang: str | None  # the language most public articles are in: the prior when the caller gives none
    # A generation never changes, so its article rows and each chunk's article are read once, at open:
    # a search then reads from SQLite only the texts of the sections it shows (bench/speed.py, `fusion`).
    articles: dict[int, ArticleRow]
    groups: dict[str, list[ArticleRow]]
    chunk_article: dict[int, int]


class Searcher:
    """Searches the served generation of an index folder; picks up new generations by itself."""

    def __init__(self, index_dir: Path, model: str | None = None, fusion=None, recheck_seconds: float = 1.0):
        self.index_dir = Path(index_dir)
        self._model_spec = model
        self._embedder: CachedEmbedder | None = None
        self.fusion = fusion or fusion_mod.AdaptiveFusion()
        self._gen: _Generation | None = None
        self._lock = threading.Lock()
        self._checked = 0.0
        self._recheck = recheck_seconds
        self._responses: LRUCache = LRUCache(RESPONSE_CACHE)
        self._responses_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(KEYWORD_THREADS, thread_name_prefix="kb-keyword")
        self.generation()  # fail at start, not on the first visitor, if the index is missing or corrupt

    # --- generations -------------------------------------------------------

    def generation(self) -> _Generation:
        now = time.monotonic()
        gen = self._gen
        if gen is not None and now - self._checked < self._recheck:
            return gen
        self._checked = now
        token = index_format.current_token(self.index_dir)
        if gen is not None and token == gen.name:
            return gen
        with self._lock:
            if self._gen is None or self._gen.name != token:
                self._gen = self._open()
            return self._gen

    def _open(self) -> _Generation:
        path = index_format.current_generation(self.index_dir)
        manifest = index_format.read_manifest(path, verify=True)
        self._check_model(manifest)
        store = Store.open_readonly(path / "kb.sqlite")
        articles = {a.rowid: a for a in store.articles()}
        groups: dict[str, list[ArticleRow]] = {}
        for a in articles.values():  # ordered by id, lang
            groups.setdefault(a.id, []).append(a)
        public = {a.lang for a in articles.values() if a.is_public}
        counts = manifest.get("stats", {}).get("languages", {})
        main = max((lang for lang in counts if lang in public), key=counts.get, default=None)
        chunk_article = store.chunk_articles()
        return _Generation(path.name, store, vectors.load(path / "public.faiss"), vectors.load(path / "all.faiss"),
                           manifest, public, {a.lang for a in articles.values()}, len(chunk_article), main,
                           articles, groups, chunk_article)

    def _check_model(self, manifest: dict):
        built = manifest["embedder"]
        if self._model_spec is None:
            wanted = built if built == get_embedder().name else None
        else:
            wanted = get_embedder(self._model_spec).name
        if wanted != built:
            asked = wanted or "the default model"
            raise ModelMismatchError(
                f"the index in {self.index_dir} was built with {built!r} but the search uses {asked!r}; "
                f"search with the model that built it, or re-index with `kb index --model ...`")
        if self._embedder is None:
            self._embedder = CachedEmbedder(get_embedder(self._model_spec))

    @property
    def embedder(self) -> CachedEmbedder:
        return self._embedder

    @property
    def store(self) -> Store:
        return self.generation().store

    def languages(self, audience: str = "public") -> set[str]:
        gen = self.generation()
        return set(gen.langs_public if audience == "public" else gen.langs_all)

    # --- articles ----------------------------------------------------------

    def versions(self, article_id: str, audience: str = "public") -> list[ArticleRow]:
        """The versions of an article this audience may see (none: it does not exist for them)."""
        return _visible(self.generation(), article_id, audience)

    def article(self, article_id: str, lang: str | None, audience: str = "public") -> tuple[ArticleRow, str] | None:
        """(row, Markdown body) of the version in `lang`, or of the best other version; None if not visible."""
        gen = self.generation()  # one generation for the row and its body: rowids differ between generations
        versions = _visible(gen, article_id, audience)
        if not versions:
            return None
        by_lang = {v.lang: v for v in versions}
        row = by_lang.get(lang) or by_lang.get("en") or versions[0]
        return row, gen.store.body(row.rowid)

    def related(self, article_id: str, lang: str | None, audience: str = "public", k: int = 5) -> list[Result]:
        """Semantic neighbours of an article: other groups nearest to its mean chunk vector."""
        gen = self.generation()
        versions = _visible(gen, article_id, audience)
        if not versions:
            return []
        rowids = [v.rowid for v in versions]
        ids, mat = gen.store.vectors(f"a.rowid IN ({','.join('?' * len(rowids))})", rowids)
        if not len(ids):
            return []
        centre = mat.mean(axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-9)
        index = gen.public if audience == "public" else gen.all
        hits = vectors.search(index, centre, CANDIDATES)
        arts = {cid: gen.articles[gen.chunk_article[cid]] for cid, _ in hits}
        best: dict[str, tuple[float, int]] = {}
        for cid, s in hits:
            a = arts[cid]
            if a.id == article_id or not self._allowed(a, audience, None, None, None):
                continue
            if s > best.get(a.id, (-9, 0))[0]:
                best[a.id] = (s, a.rowid)
        out = []
        for art_id, (score, rowid) in sorted(best.items(), key=lambda kv: kv[1][0], reverse=True)[:k]:
            vs = {v.lang: v for v in _visible(gen, art_id, audience)}
            shown = vs.get(lang) or gen.articles[rowid]
            out.append(Result(id=art_id, lang=shown.lang, title=shown.title, section="", anchor="", score=score,
                              snippet="", visibility=shown.visibility, product=shown.product, tags=shown.tags,
                              fallback=bool(lang) and shown.lang != lang, languages=tuple(sorted(vs))))
        return out

    # --- search ------------------------------------------------------------

    def search(self, query: str, *, ui_lang: str | None = None, lang: str | None = None, k: int = 10,
               offset: int = 0, audience: str = "public", product: str | None = None,
               tags: list[str] | None = None, mode: str = "hybrid") -> Response:
        return self.search_many([query], ui_lang=ui_lang, lang=lang, k=k, offset=offset, audience=audience,
                                product=product, tags=tags, mode=mode)[0]

    def search_many(self, queries: list[str], *, ui_lang=None, lang=None, k=10, offset=0, audience="public",
                    product=None, tags=None, mode="hybrid") -> list[Response]:
        """Search several queries; their embeddings are computed in one batch.

        Repeats of a recent search are answered from an LRU of whole responses,
        keyed by the generation and every argument, so a new index is never
        answered from the old one. bench/speed.py: a repeat with only its
        embedding cached still cost 10-15 ms of CPU (detection, keyword side,
        fusion, snippets); from this cache it is well under a millisecond.
        """
        queries = [_validate_query(q) for q in queries]
        if not 1 <= int(k) <= MAX_K:
            raise QueryError(f"k must be between 1 and {MAX_K}, got {k}")
        if offset < 0:
            raise QueryError(f"offset must be 0 or more, got {offset}")
        if mode not in MODES:
            raise QueryError(f"mode must be one of {list(MODES)}, got {mode!r}")
        if audience not in AUDIENCES:
            raise QueryError(f"audience must be one of {list(AUDIENCES)}, got {audience!r}")
        ui_lang, lang = languages.normalize(ui_lang), languages.normalize(lang)
        gen = self.generation()
        args = (gen.name, self.fusion, ui_lang, lang, int(k), int(offset), audience, product, tuple(tags or ()), mode)
        keys = [(q, *args) if len(q) <= CACHEABLE_CHARS else None for q in queries]
        out: list[Response | None] = [self._cached(key) for key in keys]
        todo = [i for i, r in enumerate(out) if r is None]
        if not todo:
            return out
        available = gen.langs_public if audience == "public" else gen.langs_all
        detected, detect_seconds = {}, {}
        keyword: dict[int, Future] = {}
        for i in todo:
            t = time.perf_counter()
            detected[i] = languages.detect(prose(queries[i]), available, ui_lang or gen.main_lang)
            detect_seconds[i] = time.perf_counter() - t
            if mode != "dense":
                keyword[i] = self._pool.submit(self._keyword_side, gen, queries[i], detected[i].lang, audience, lang,
                                               product, tags)
        t0 = time.perf_counter()
        qvecs = self._embed_queries([queries[i] for i in todo]) if mode != "keyword" else [None] * len(todo)
        t_embed = (time.perf_counter() - t0) / len(todo)
        for i, qv in zip(todo, qvecs):
            kw = keyword[i].result() if i in keyword else _KeywordSide({}, 0.0, [], 0.0)
            resp = self._search_one(gen, queries[i], qv, detected[i], kw, ui_lang, lang, k, offset, audience, product,
                                    tags, mode)
            resp.timings.update(detect=detect_seconds[i], embed=t_embed)
            out[i] = resp
            if keys[i] is not None:
                with self._responses_lock:
                    self._responses[keys[i]] = resp
        return [_copy(r) for r in out]

    def _cached(self, key) -> Response | None:
        if key is None:
            return None
        t = time.perf_counter()
        with self._responses_lock:
            resp = self._responses.get(key)
        if resp is None:
            return None
        return dataclasses.replace(resp, results=list(resp.results), timings={"cache": time.perf_counter() - t})

    def _embed_queries(self, queries: list[str]) -> list[np.ndarray]:
        """One vector per query; long texts (tickets) get the whole text plus each paragraph-sized piece."""
        pieces: list[list[str]] = []
        for q in queries:
            q = prose(q)
            if approx_tokens(q) <= LONG_QUERY_TOKENS:
                pieces.append([q])
            else:
                pieces.append([q] + _pieces(q, LONG_QUERY_TOKENS))
        flat = [p for ps in pieces for p in ps]
        vecs = self._embedder.embed_queries(flat)
        out, pos = [], 0
        for ps in pieces:
            out.append(vecs[pos:pos + len(ps)])
            pos += len(ps)
        return out

    def _where(self, audience, lang, product, tags) -> tuple[str, list]:
        clauses, params = [], []
        if audience == "public":
            clauses.append("a.visibility = 'public'")
        if lang:
            clauses.append("a.lang = ?")
            params.append(lang)
        if product:
            clauses.append("a.product = ?")
            params.append(product.lower())
        for tag in tags or []:
            clauses.append("EXISTS (SELECT 1 FROM json_each(a.tags) WHERE value = ?)")
            params.append(tag.lower())
        return " AND ".join(clauses), params

    def _allowed(self, a: ArticleRow, audience, lang, product, tags) -> bool:
        return ((audience == "internal" or a.is_public) and (not lang or a.lang == lang)
                and (not product or a.product == product.lower())
                and all(t.lower() in a.tags for t in (tags or [])))

    def _keyword_side(self, gen, query, detected_lang, audience, lang, product, tags) -> _KeywordSide:
        """Keyword candidates, run on the pool while the calling thread embeds the query.

        The two do not depend on each other; side by side, a search waits for
        the slower of them instead of both (100k chunks: the FTS5 query is
        longer than the embedding) and a second core does the keyword work.
        """
        t = time.perf_counter()
        where, params = self._where(audience, lang, product, tags)
        qtokens, weights, common = self._keyword_tokens(gen, keyword_text(query), detected_lang)
        chunk_kw = dict(gen.store.keyword_search(qtokens, where, params, _depth(lang, product, tags), common))
        coverage = 0.0
        if chunk_kw:
            best = max(chunk_kw, key=chunk_kw.get)
            coverage = _coverage(gen.store, best, qtokens, weights)
        return _KeywordSide(chunk_kw, coverage, qtokens, time.perf_counter() - t)

    def _search_one(self, gen, query, qvecs, detected, kw, ui_lang, lang, k, offset, audience, product, tags,
                    mode) -> Response:
        available = gen.langs_public if audience == "public" else gen.langs_all
        want = lang or _display_language(query, detected, ui_lang, available)
        timings: dict[str, float] = {}
        depth = _depth(lang, product, tags)

        t = time.perf_counter()
        chunk_dense: dict[int, float] = {}
        if mode != "keyword":
            index = gen.public if audience == "public" else gen.all
            for qv in qvecs:
                for cid, s in vectors.search(index, qv, depth):
                    if s > chunk_dense.get(cid, -1.0):
                        chunk_dense[cid] = s
        timings["dense"] = time.perf_counter() - t
        chunk_kw, coverage, qtokens = kw.chunks, kw.coverage, kw.tokens
        timings["keyword"] = kw.seconds

        t = time.perf_counter()
        chunk_art = {cid: gen.chunk_article[cid] for cid in set(chunk_dense) | set(chunk_kw)}
        arts = gen.articles
        allowed = {r for r in set(chunk_art.values()) if self._allowed(arts[r], audience, lang, product, tags)}
        best_chunk: dict[int, tuple[float, int]] = {}
        dense_art: dict[int, float] = {}
        kw_art: dict[int, float] = {}
        for cid, s in chunk_dense.items():
            a = chunk_art[cid]
            if a in allowed and s > dense_art.get(a, -9):
                dense_art[a] = s
        for cid, s in chunk_kw.items():
            a = chunk_art[cid]
            if a in allowed and s > kw_art.get(a, -9):
                kw_art[a] = s
        evidence = fusion_mod.KeywordEvidence(kw_art, coverage, len(qtokens))
        if mode == "dense":
            fused = dense_art
        elif mode == "keyword":
            fused = kw_art
        else:
            fused = self.fusion.combine(dense_art, evidence)
        # the section to show: best chunk by the same mix of signals, per article version
        kw_max = max(chunk_kw.values(), default=1.0)
        for cid, a in chunk_art.items():
            if a not in allowed:
                continue
            s = chunk_dense.get(cid, 0.0) + (0.1 * chunk_kw[cid] / kw_max if cid in chunk_kw else 0.0)
            if s > best_chunk.get(a, (-9, 0))[0]:
                best_chunk[a] = (s, cid)

        # one result per translation group
        groups: dict[str, list[int]] = {}
        for r in sorted(fused, key=fused.get, reverse=True):
            groups.setdefault(arts[r].id, []).append(r)
        ranked = sorted(groups.items(), key=lambda g: fused[g[1][0]], reverse=True)
        timings["fusion"] = time.perf_counter() - t

        t = time.perf_counter()
        page = ranked[offset:offset + k]
        shown_ids = [best_chunk[v.rowid][1] for art_id, _ in page for v in gen.groups[art_id] if v.rowid in best_chunk]
        chunks = gen.store.chunks_by_rowid(shown_ids)  # the rows of the sections that may be shown, only
        results = []
        for art_id, rows in page:
            results.append(self._result(gen, art_id, rows, fused, best_chunk, chunks, query, qvecs, want,
                                        audience, lang, product, tags))
        timings["render"] = time.perf_counter() - t
        return Response(query, detected, want, results, len(ranked), mode, timings)

    def _keyword_tokens(self, gen, query: str, lang: str | None) -> tuple[list[str], dict[str, float], list[str]]:
        """(tokens, their IDF weights, the common ones, which only score; see COMMON_SHARE)."""
        tokens = list(dict.fromkeys(languages.tokenize(query, lang)))
        df = gen.store.doc_frequencies(tokens)
        weights = {t: fusion_mod.idf(df.get(t, 0), gen.n_chunks) for t in tokens}
        if len(tokens) > MAX_KEYWORD_TOKENS:
            present = [t for t in tokens if df.get(t)]
            tokens = sorted(present, key=weights.get, reverse=True)[:MAX_KEYWORD_TOKENS]
            weights = {t: weights[t] for t in tokens}
        common = ([t for t in tokens if df.get(t, 0) > COMMON_SHARE * gen.n_chunks]
                  if gen.n_chunks >= COMMON_FROM_CHUNKS else [])
        return tokens, weights, common

    def _result(self, gen, art_id, rows, fused, best_chunk, chunks, query, qvecs, want, audience, lang, product, tags):
        store = gen.store
        versions = [v for v in gen.groups[art_id] if self._allowed(v, audience, None, product, tags)]
        by_lang = {v.lang: v for v in versions}
        shown = by_lang.get(want) if (want and not lang) else None
        if shown is None:
            shown = gen.articles[rows[0]]
        if shown.rowid in best_chunk:
            chunk = chunks[best_chunk[shown.rowid][1]]
        else:  # the version in the visitor's language matched nothing itself: find its best section
            chunk = self._best_section(store, shown.rowid, qvecs)
        return Result(
            id=art_id, lang=shown.lang, title=shown.title, section=chunk.heading if chunk else "",
            anchor=chunk.anchor if chunk else "", score=float(fused[rows[0]]),
            snippet=snippets.make(chunk.text if chunk else store.body(shown.rowid)[:600], query, shown.lang),
            visibility=shown.visibility, product=shown.product, tags=shown.tags,
            fallback=bool(want) and shown.lang != want, languages=tuple(sorted(by_lang)),
            updated=shown.updated.isoformat() if shown.updated else None,
            reviewed=shown.reviewed.isoformat() if shown.reviewed else None)

    def _best_section(self, store: Store, rowid: int, qvecs):
        chunks = store.chunks_of(rowid)
        if not chunks:
            return None
        if qvecs is None:
            return chunks[0]
        ids, mat = store.vectors("a.rowid = ?", (rowid,))
        scores = (mat @ np.asarray(qvecs).T).max(axis=1)
        best = int(ids[int(np.argmax(scores))])
        return next(c for c in chunks if c.rowid == best)


def _depth(lang, product, tags) -> int:
    """Candidates fetched from each side: more when a filter will drop some of them."""
    return CANDIDATES * (4 if lang or product or tags else 1)


def _visible(gen: _Generation, article_id: str, audience: str) -> list[ArticleRow]:
    return [v for v in gen.groups.get(article_id, ()) if audience == "internal" or v.is_public]


def _validate_query(q) -> str:
    if not isinstance(q, str):
        raise QueryError("query must be text")
    q = "".join(ch for ch in q if ch in "\n\t" or ch.isprintable()).strip()
    if not q:
        raise QueryError("query is empty; type a few words, an error code or paste the customer's message")
    if len(q) > MAX_QUERY_CHARS:
        raise QueryError(f"query is {len(q)} characters, over the limit of {MAX_QUERY_CHARS}")
    return q


def _pieces(text: str, budget: int) -> list[str]:
    """Paragraph-sized pieces of a long text, so a question inside a log is not drowned by it."""
    paras = [p.strip() for p in text.replace("\r", "").split("\n") if p.strip()]
    out, cur = [], ""
    for p in paras:
        if cur and approx_tokens(cur + "\n" + p) > budget:
            out.append(cur)
            cur = ""
        cur = (cur + "\n" + p) if cur else p[: budget * 6]
    if cur:
        out.append(cur)
    return out[:32]


def _coverage(store: Store, chunk_id: int, tokens: list[str], weights: dict[str, float]) -> float:
    """Share of the query's IDF mass that appears in one chunk."""
    row = store.conn.execute("SELECT tokens FROM chunks_fts WHERE rowid=?", (chunk_id,)).fetchone()
    have = set(row[0].split()) if row else set()
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in have) / total if total else 0.0


def _display_language(query: str, detected: languages.Detection, ui_lang: str | None, available) -> str | None:
    """The language to show results in.

    The UI language wins when the query says little about its own language
    (all-Latin technical words like "cdn 502" typed on the Chinese site);
    a query plainly in another script or language wins over the UI.
    """
    if ui_lang and ui_lang in available:
        if detected.confidence < 0.9 or detected.lang == ui_lang:
            return ui_lang
        if languages.SCRIPT_OF.get(detected.lang, "latin") == "latin":
            # Latin words typed on a Chinese or Russian site are usually technical terms;
            # between two Latin-script languages only a longer query outweighs the UI.
            if languages.SCRIPT_OF.get(ui_lang, "latin") != "latin" or len(query.split()) <= 3:
                return ui_lang
    return detected.lang


def _copy(resp: Response) -> Response:
    """A response the caller may change without changing the cached one."""
    return dataclasses.replace(resp, results=list(resp.results), timings=dict(resp.timings))
