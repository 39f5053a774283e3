"""A save acknowledged, then the server killed before its index ran: the next start indexes it, and the dead
run's progress reads as failed, not "indexing" forever (issue #24: after kill -9 the old text was served
indefinitely and the ticket showed the dead run's progress)."""

from __future__ import annotations

import json
import os
import subprocess
import time

from kb.search.searcher import Searcher
from tests.editing_support import client_as
from tests.support import SMALL_KB, index_runner
from web import create_app
from web.services.reindex import PROGRESS_FILE, Reindexer, now_us


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def killed_mid_run(index, ticket: int) -> None:
    """The progress file as a server killed while embedding left it."""
    (index / PROGRESS_FILE).write_text(json.dumps({"for": ticket, "stage": "embed", "done": 3, "total": 9,
                                                   "at": "2026-12-05T08:00:00+00:00", "pid": dead_pid()}))


def test_a_save_never_indexed_is_indexed_at_the_next_start(make_fake_index, fake_default_model):
    articles, index, _ = make_fake_index(SMALL_KB)
    path = articles / "cdn/502.en.md"
    ticket = now_us()
    path.write_text(path.read_text() + "\nThe zebra-crossing workaround fixes it.\n")  # saved, then kill -9
    killed_mid_run(index, ticket)
    restarted = Reindexer(articles, index, runner=index_runner(fake_default_model))
    assert restarted.status(ticket)["state"] == "indexing"  # what the page showed forever
    again = restarted.recover()
    assert again is not None and restarted.status(ticket)["state"] in ("failed", "queued", "indexing", "done")
    assert restarted.wait(again)["state"] == "done"
    assert restarted.status(ticket)["state"] == "done"
    assert "zebra-crossing" in Searcher(index).article("cdn-502", "en", "internal")[1]
    assert restarted.recover() is None  # once per process


def test_a_dead_runs_progress_reads_failed_and_nothing_runs_when_all_is_indexed(make_fake_index):
    articles, index, _ = make_fake_index(SMALL_KB)
    ticket = now_us()
    killed_mid_run(index, ticket)
    calls = []
    restarted = Reindexer(articles, index, runner=lambda *a: calls.append(a) or "x")
    assert restarted.recover() is None and calls == []  # every article is older than the served generation
    status = restarted.status(ticket)
    assert status["state"] == "failed" and "stopped" in status["error"]


def test_a_live_runs_progress_is_left_alone(make_fake_index):
    articles, index, _ = make_fake_index(SMALL_KB)
    ticket = now_us()
    (index / PROGRESS_FILE).write_text(json.dumps({"for": ticket, "stage": "embed", "done": 1, "total": 2,
                                                   "pid": os.getpid()}))  # another worker of this server, running
    Reindexer(articles, index, runner=lambda *a: "x").recover()
    assert Reindexer(articles, index).status(ticket)["state"] == "indexing"


def test_the_web_app_recovers_at_its_first_request(edit_app, kb_copy, fake_default_model):
    articles, index = kb_copy
    path = articles / "cdn" / "cdn-purge-cache.en.md"
    time.sleep(0.01)
    path.write_text(path.read_text() + "\nThe okapi-shaped cache note.\n")
    app = create_app({"TESTING": True, "INDEX": str(index), "ARTICLES": str(articles), "RATELIMIT_ENABLED": False,
                      "SECRET_KEY": "x"})
    reindexer = app.extensions["polykb"]["reindexer"]
    reindexer.runner = index_runner(fake_default_model)
    assert client_as(app, "writer").get("/en/").status_code == 200
    assert reindexer.wait(reindexer._asked)["state"] == "done"
    assert "okapi-shaped" in Searcher(index).article("cdn-purge-cache", "en", "internal")[1]
