"""The indexing job: discover → parse → validate → chunk → embed → publish.

Incremental: the new generation starts as a copy of the served one; articles
whose file did not change keep their rows (and vectors) as they are, changed
and added ones are re-chunked and embedded (through the content cache, so an
edit embeds only the chunks whose text changed), deleted ones are dropped.
Atomic: everything is written into a build folder and published in one
rename (see kb.index.format); a broken article is reported and skipped,
never taking the rest of the index down. Shared: with KB_DATABASE_URL set to
a database of its own (PostgreSQL for replicas), the generation is then
published into it for the replicas to download, and passages are embedded
through the database's cache, so any machine re-embeds only what changed
(kb.index.replication).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from kb.index import catalog, format as index_format, replication, vectors
from kb import settings
from kb.articles import chunking, limits, lint
from kb.search import answerability, self_search, typos
from kb.search.calibration import Calibration, fingerprint
from kb.search.generation import open_generation
from kb.articles.model import Article, Problem
from kb.embeddings import CachedEmbedder, get_embedder
from kb.errors import KBError
from kb.articles.labels import Labels
from kb.storage.embedding_cache import EmbeddingCache
from kb.index.store import Store, create

Progress = Callable[[str, int, int], None]
RECALIBRATE_SHARE = 0.1  # of the articles changed since the served calibration was measured: measure again


def _silent(stage: str, done: int, total: int):
    pass


@dataclass
class Scan:
    """What the articles folder holds: valid articles, problems, and every file's hash."""

    articles: list[Article]
    problems: list[Problem]
    files: dict[str, tuple[str, int, int]]  # path -> (sha256, mtime_ns, size)
    shas: dict[str, str] = field(default_factory=dict)  # article path -> file sha
    labels: Labels = field(default_factory=Labels)  # products' and topics' names (labels.yml)

    @property
    def errors(self):
        return [p for p in self.problems if p.severity == "error"]


@dataclass
class Summary:
    by_language: dict[str, int]
    internal: int
    skipped: list[Problem]
    warnings: list[Problem]
    chunks_total: int
    chunks_embedded: int
    chunks_reused: int
    articles_changed: int
    articles_deleted: int
    seconds: float
    generation: str
    published_to: str | None = None  # the shared database the replicas download it from
    calibration: Calibration | None = None  # what the knowledge base measured on its own questions
    calibration_kept: bool = False  # few articles changed: the served generation's calibration was kept

    def lines(self) -> list[str]:
        langs = ", ".join(f"{k} {v}" for k, v in sorted(self.by_language.items()))
        out = [f"indexed {sum(self.by_language.values())} articles ({langs}; {self.internal} internal)",
               f"chunks: {self.chunks_total} ({self.chunks_embedded} embedded, {self.chunks_reused} reused from cache);"
               f" {self.articles_changed} articles added or changed, {self.articles_deleted} removed",
               f"skipped {len(self.skipped)} files with errors, {len(self.warnings)} warnings; {self.seconds:.1f} s;"
               f" published {self.generation}"]
        if self.calibration is not None:
            cal = self.calibration.lines()
            kept = f" (kept: {self.calibration.stale} articles changed since)"
            out.extend([cal[0] + kept, *cal[1:]] if self.calibration_kept else cal)
        if self.published_to:
            out.append(f"published {self.generation} to {self.published_to}: replicas switch to it at their next poll")
        return out


def scan(articles_dir: Path) -> Scan:
    """Lint every article candidate under `articles_dir` (kb.articles.lint, as `kb lint` and the editor do)."""
    result = lint.lint_folder(Path(articles_dir), limits.Limits.of(settings.current()))
    files = {r.rel: (r.sha, r.mtime_ns, r.size) for r in result.reads if r.sha is not None}
    shas = {f.rel: files[f.rel][0] for f in result.files if f.ok}
    return Scan(result.articles, result.problems, files, shas, result.labels)


def run(articles_dir: Path, index_dir: Path, model: str | None = None, progress: bool | None = None,
        strict: bool = False, report: Progress | None = None) -> Summary:
    """Index `articles_dir` into `index_dir` and publish the new generation.

    `report(stage, done, total)` hears each stage (scan, embed, publish, and upload when a shared database
    gets the generation) and the embedding's progress, for callers that show it (the editor's "searchable
    in ..." line, through `kb index --progress-json`) and for tests that kill the run at a stage.
    """
    t0 = time.monotonic()
    started = dt.datetime.now(dt.timezone.utc)  # files changed after this may not be in the generation
    index_dir = Path(index_dir)
    report = report or _silent
    report("scan", 0, 0)
    result = scan(articles_dir)
    if strict and result.problems:
        raise KBError(f"--strict: {len(result.errors)} errors and {len(result.problems) - len(result.errors)} warnings; nothing was indexed")
    db = replication.shared_database(index_dir)
    try:
        vectors = EmbeddingCache(db) if db else None
        embedder = CachedEmbedder(get_embedder(model), index_dir / "embeddings.sqlite", vectors=vectors)
        with index_format.build_lock(index_dir):
            build = index_format.new_build_dir(index_dir)
            try:
                number = replication.next_number(db, index_dir) if db else None
                summary = _build(result, index_dir, build, embedder, progress, report, started, number)
            except BaseException:
                shutil.rmtree(build, ignore_errors=True)  # a SIGKILL skips this; the next run cleans up
                raise
            finally:
                embedder.close()
            if db:
                report("upload", 0, 0)
                replication.publish(db, index_dir / summary.generation)
                summary.published_to = db.name
    finally:
        if db:
            db.close()
    summary.seconds = time.monotonic() - t0
    return summary


def _previous(index_dir: Path, embedder_name: str) -> Path | None:
    """The served generation, if we can build on it (same model, intact)."""
    try:
        gen = index_format.current_generation(index_dir)
        manifest = index_format.read_manifest(gen, verify=True)
    except KBError:
        return None
    return gen if manifest.get("embedder") == embedder_name else None


def _build(result: Scan, index_dir: Path, build: Path, embedder: CachedEmbedder, progress, report: Progress,
           started: dt.datetime, number: int | None = None) -> Summary:
    prev = _previous(index_dir, embedder.name)
    db_path = build / "kb.sqlite"
    if prev is not None:
        shutil.copyfile(prev / "kb.sqlite", db_path)
        store = Store.open_write(db_path)
    else:
        create(db_path).close()
        store = Store.open_write(db_path)
    try:
        existing = store.article_by_path()
        wanted = {a.path: a for a in result.articles}
        changed = [a for a in result.articles if existing.get(a.path, (None, None))[1] != result.shas[a.path]]
        deleted = [rowid for path, (rowid, sha) in existing.items()
                   if path not in wanted or sha != result.shas[path]]
        for rowid in deleted:
            store.delete_article(rowid)
        cap = limits.Limits.of(settings.current()).max_chunks  # the lint warned (too-many-chunks)
        chunked = [(a, chunking.chunk(a)[:cap]) for a in changed]
        texts = [c.embed_text for _, cs in chunked for c in cs]
        misses_before = embedder.misses
        with tqdm(total=len(texts), desc="embedding", unit="chunk", disable=None if progress is None else not progress,
                  leave=False) as bar:
            report("embed", 0, len(texts))

            done = [0]

            def step(n):
                bar.update(n)
                done[0] += n
                report("embed", done[0], len(texts))

            vecs = embedder.embed_passages(texts, progress=step)
        embedded = embedder.misses - misses_before
        pos = 0
        for a, cs in chunked:
            store.add_article(a, result.shas[a.path], cs, vecs[pos:pos + len(cs)])
            pos += len(cs)
        store.set_problems(result.problems)
        store.set_files(result.files)
        store.set_catalog(catalog.build(result.articles, result.labels).to_json())
        store.write_vocabulary(typos.lookup_keys)
        store.commit()
        for name, public_only in (("public.faiss", True), ("all.faiss", False)):
            ids, mat, langs = store.vectors(public_only, with_langs=True)
            mat = vectors.center_by_language(mat, langs)
            vectors.save(vectors.build(ids, mat, embedder.dim), build / name)
        total_chunks = store.chunk_count()
        rows = store.articles()
        if deleted:
            store.vacuum()
    finally:
        store.close()
    stats = {"articles": len(rows), "chunks": total_chunks,
             "languages": dict(Counter(r.lang for r in rows))}
    report("calibrate", 0, 0)
    removed = len(set(deleted)) - len([a for a in changed if a.path in existing])
    cal, kept = _calibration(build, embedder, prev, len(changed) + removed, len(rows))
    report("publish", 0, 0)
    index_format.write_manifest(build, embedder.name, embedder.dim, stats, started, cal.to_json())
    gen = index_format.publish(index_dir, build, number)
    return Summary(
        by_language=dict(Counter(r.lang for r in rows)), internal=sum(not r.is_public for r in rows),
        skipped=result.errors, warnings=[p for p in result.problems if p.severity != "error"],
        chunks_total=total_chunks, chunks_embedded=embedded, chunks_reused=total_chunks - embedded,
        articles_changed=len(changed), articles_deleted=removed, seconds=0.0, generation=gen.name, calibration=cal,
        calibration_kept=kept)


def _calibration(build: Path, embedder: CachedEmbedder, prev: Path | None, changed: int, total: int
                 ) -> tuple[Calibration, bool]:
    """(the new generation's calibration (kb/search/calibration.py), whether it is the served one's, kept).

    A writer's save re-indexes one article, and the editor says when it is searchable: measuring the whole
    knowledge base again would add seconds to every save for a cut-off one article barely moves. So the served
    generation's calibration is kept until the articles added, changed or removed since it was measured reach
    RECALIBRATE_SHARE of the knowledge base, or polykb's rules for it changed."""
    kept = None
    if prev is not None:
        kept = Calibration.from_json(index_format.read_manifest(prev, verify=False).get("calibration"))
    if kept is not None and kept.rules == fingerprint() and kept.stale + changed < RECALIBRATE_SHARE * max(total, 1):
        return dataclasses.replace(kept, stale=kept.stale + changed), True
    gen = open_generation(build, {"embedder": embedder.name})
    try:
        return self_search.calibrate(gen, embedder.embed_stored_queries, answerability.model_for(embedder.name)), False
    finally:
        gen.store.close()
