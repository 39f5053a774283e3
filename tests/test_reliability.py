"""Nothing is lost: interrupted indexing, re-indexing under load, concurrent writers, corrupt files."""

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from indexer import job
from kb.errors import KBError
from kb.search.searcher import Searcher
from tests.support import ROOT, SMALL_KB, activity_at, article, run_sql, write_tree
from tests.workers import write_feedback


@pytest.mark.parametrize("delay", [0.0, 0.5, 1.5, 3.0])
def test_indexing_killed_at_any_moment_leaves_the_old_index_served(make_index, delay):
    articles, index, _ = make_index(SMALL_KB, name=f"kill{delay}")
    before = (index / "CURRENT").read_text()
    write_tree(articles, {f"bulk/{i}.en.md": article(f"bulk-{i}", "en", f"Bulk {i}", f"Bulk text {i} {delay} " * 30)
                          for i in range(12)})
    proc = subprocess.Popen([sys.executable, "-m", "cli", "index", "--articles", str(articles), "--index", str(index),
                             "-q"], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    current = (index / "CURRENT").read_text()
    s = Searcher(index)  # whichever generation is served, it is complete and verified
    assert s.search("502 bad gateway").results[0].id == "cdn-502"
    assert current == before or s.versions("bulk-11")  # old index, or the complete new one
    summary = job.run(articles, index, progress=False)
    assert summary.by_language["en"] == 15 and not list(index.glob("build-*"))


def test_searches_keep_succeeding_while_a_new_index_is_published(make_fake_index):
    articles, index, _ = make_fake_index(SMALL_KB, name="load")
    searcher = Searcher(index, recheck_seconds=0.0)
    errors, empty, done = [], [], threading.Event()
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

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for round_ in range(3):
            write_tree(articles, {f"new/{round_}.en.md": article(f"new-{round_}", "en", f"New {round_}", "Fresh text.")})
            job.run(articles, index, progress=False)
    finally:
        done.set()
        for t in threads:
            t.join()
    assert errors == [] and empty == []
    assert len(seen_generations) >= 2  # the searcher switched to new generations without a restart
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
