"""The background index after a save: tickets any server process can answer, progress, failures, queued runs."""

from __future__ import annotations

import threading

from tests.support import SMALL_KB, index_runner, wait_until
from web.services.reindex import Reindexer


def test_a_ticket_is_done_for_every_process_once_a_later_generation_is_served(make_fake_index, fake_default_model):
    articles, index, _ = make_fake_index(SMALL_KB)
    seen = []
    worker_a = Reindexer(articles, index, runner=index_runner(fake_default_model), published=lambda: seen.append(1))
    worker_b = Reindexer(articles, index)  # another server process: never runs anything here
    (articles / "cdn/502.en.md").write_text((articles / "cdn/502.en.md").read_text() + "\nMore.\n")
    ticket = worker_a.request()
    assert worker_b.status(ticket)["state"] in ("queued", "indexing", "done")
    done = worker_a.wait(ticket)
    assert done["state"] == "done" and done["searchable_since"]
    wait_until(lambda: seen, 10, "the publish to be told")  # just after it, so the searcher looks at once
    assert set(seen) == {1}
    assert worker_b.status(ticket) == done
    assert worker_b.status(ticket + 10**9)["state"] == "queued"  # a save after the served generation started


def test_progress_is_reported_and_a_failure_is_shown_until_a_later_run_succeeds(make_fake_index, fake_default_model):
    articles, index, _ = make_fake_index(SMALL_KB)
    gate, reported = threading.Event(), threading.Event()
    real = index_runner(fake_default_model)

    def slow_then_ok(a, i, m, report):
        report("embed", 1, 4)
        reported.set()
        gate.wait(30)
        return real(a, i, m, report)

    def broken(a, i, m, report):
        raise RuntimeError("disk full")

    reindexer = Reindexer(articles, index, runner=broken)
    ticket = reindexer.request()
    failed = reindexer.wait(ticket)
    assert failed["state"] == "failed" and failed["error"] == "disk full"
    reindexer.runner = slow_then_ok
    ticket = reindexer.request()
    assert reported.wait(30), "the run never reported its progress"
    assert reindexer.status(ticket) == {"state": "indexing", "stage": "embed", "done": 1, "total": 4}
    second = reindexer.request()  # saved during the run: covered by one more run after it
    gate.set()
    assert reindexer.wait(second)["state"] == "done" and reindexer.status(ticket)["state"] == "done"
