"""Nothing is lost: interrupted indexing, re-indexing under load, concurrent writers, corrupt files."""

import multiprocessing
import threading

import pytest

from indexer import job
from kb.errors import KBError
from kb.index import format as index_format
from kb.search.searcher import Searcher
from tests.killed_kb import run_killed
from tests.support import SMALL_KB, activity_at, article, run_sql, wait_until, write_tree
from tests.workers import write_feedback


BULK = {f"bulk/{i}.en.md": article(f"bulk-{i}", "en", f"Bulk {i}", f"Bulk text {i} " * 30) for i in range(20)}
INDEX_FILES = {"kb.sqlite", "all.faiss", "public.faiss", "manifest.json"}
#: Where `kb index` kills itself (tests/killed_kb.py), in the order a run passes them: the index files its build
#: folder holds then (None: no build folder), the generation folders on disk, and how many of the 20 new passages
#: the next run still embeds (the embedding cache keeps what a killed run embedded: one batch is 16).
KILLS = {
    "scan": (None, ["gen-000001"], 20),
    "embed": ({"kb.sqlite"}, ["gen-000001"], 20),
    "embed:16": ({"kb.sqlite"}, ["gen-000001"], 4),
    "publish": ({"kb.sqlite", "all.faiss", "public.faiss"}, ["gen-000001"], 0),
    "switch": (None, ["gen-000001", "gen-000002"], 0),  # renamed into place, never served
}


def served(index) -> tuple[str, list[tuple[str, str]]]:
    """The served generation's name and articles, after checking every file of it against its manifest."""
    gen = index_format.current_generation(index)
    index_format.read_manifest(gen, verify=True)
    return gen.name, [(a.id, a.lang) for a in Searcher(index).store.articles()]


def traces(index) -> tuple[set[str] | None, list[str]]:
    builds = list(index.glob("build-*"))
    assert len(builds) <= 1, builds
    files = {p.name for p in builds[0].iterdir()} & INDEX_FILES if builds else None
    return files, sorted(p.name for p in index.glob("gen-*"))


@pytest.mark.parametrize("point", KILLS)
def test_indexing_killed_at_each_stage_leaves_the_old_generation_served_and_complete(make_fake_index, point):
    articles, index, _ = make_fake_index(SMALL_KB, name="kill")
    before = served(index)
    write_tree(articles, BULK)
    run_killed(point, articles, index)
    build_files, generations, still_to_embed = KILLS[point]
    assert traces(index) == (build_files, generations)  # it died where it was told to
    assert served(index) == before
    s = Searcher(index)
    assert s.search("502 bad gateway").results[0].id == "cdn-502" and s.versions("bulk-0") == []
    summary = job.run(articles, index, progress=False)  # the next run finishes the work and clears the debris
    assert summary.chunks_embedded == still_to_embed
    assert summary.by_language["en"] == 3 + len(BULK) and not list(index.glob("build-*"))
    assert served(index)[1] == sorted(before[1] + [(f"bulk-{i}", "en") for i in range(20)])


def test_searches_keep_succeeding_while_a_new_index_is_published(make_fake_index):
    articles, index, _ = make_fake_index(SMALL_KB, name="load")
    searcher = Searcher(index, recheck_seconds=0.0)
    errors, empty, searches, done = [], [], [], threading.Event()
    seen_generations = set()

    def hammer():
        while not done.is_set():
            try:
                resp = searcher.search("502 bad gateway", k=3)
                seen_generations.add(searcher.generation().name)
                if not resp.results:
                    empty.append(1)
            except Exception as e:  # noqa: BLE001 - any failure is what we look for
                errors.append(repr(e))
            searches.append(1)

    def searched_meanwhile(stage, done_, total):
        """At each stage of the run (its build open, its generation about to be published), let the threads
        search: so searches overlap the run by construction, not by the scheduler's luck."""
        start = len(searches)
        wait_until(lambda: len(searches) >= start + 3, 30, f"three searches during the {stage} stage")

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    published = []
    try:
        for round_ in range(3):
            write_tree(articles, {f"new/{round_}.en.md": article(f"new-{round_}", "en", f"New {round_}", "Fresh text.")})
            published.append(job.run(articles, index, progress=False, report=searched_meanwhile).generation)
            wait_until(lambda: published[-1] in seen_generations, 30, f"the searching threads to serve {published[-1]}")
    finally:
        done.set()
        for t in threads:
            t.join()
    assert errors == [] and empty == []
    assert set(published) <= seen_generations  # each new generation served, without a restart
    assert searcher.versions("new-2")


def test_concurrent_writers_lose_no_row(tmp_path):
    path = tmp_path / "activity.sqlite"
    activity_at(path)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=write_feedback, args=(path, 200, w)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    act = activity_at(path)
    assert run_sql(act, "SELECT count(*) FROM feedback")[0][0] == 800
    assert run_sql(act, "SELECT count(*) FROM searches")[0][0] == 800
    assert run_sql(act, "SELECT count(*) FROM shown")[0][0] == 800


def test_corrupt_activity_database_is_reported_and_never_overwritten(tmp_path):
    path = tmp_path / "activity.sqlite"
    garbage = b"this is not sqlite" * 100
    path.write_bytes(garbage)
    with pytest.raises(KBError, match="unreadable.*left untouched"):
        activity_at(path)
    assert path.read_bytes() == garbage
