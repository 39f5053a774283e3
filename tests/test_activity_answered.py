"""Answered or not in the activity log: what the `gaps` and `unused` reports and `kb search` make of it, on an
activity file the previous release started (before `searches.answered`; its upgrade is tested in test_storage.py).
"""

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from kb import reports
from cli.main import cli
from kb.search.searcher import Searcher
from tests.legacy_activity import sqlite3_era_file
from tests.refusals import refuse_searches
from tests.support import SMALL_KB, activity_at

TODAY = dt.date.today()


# --- the reports ------------------------------------------------------------------

@pytest.fixture
def ctx(make_fake_index):
    """Reports over SMALL_KB (fake embedder) with an activity log the previous release started."""
    index = make_fake_index(SMALL_KB)[1]
    assert not (index / "activity.sqlite").exists()
    sqlite3_era_file(index / "activity.sqlite")
    s = Searcher(index)
    return reports.Context(store=s.store, activity=activity_at(index / "activity.sqlite"), today=TODAY,
                           embedder=s.embedder, searcher=s)


def gaps(ctx) -> dict[str, dict]:
    return {q: row for row in reports.run("gaps", ctx) for q in row["examples"]}


def test_searches_from_before_answered_was_recorded_fail_as_they_did(ctx):
    failed = gaps(ctx)
    assert "ошибка 502" not in failed  # clicked
    assert "reset password" not in failed  # an API search with results: nobody's clicks to count
    assert failed["obs 推流 密钥"]["unanswered"] == 0  # shown, not clicked
    assert failed["crypto payments"]["unanswered"] == 1  # no result at all


def test_searches_that_did_not_answer_are_gaps_whatever_the_route_and_counted_as_not_answered(ctx):
    act = ctx.activity
    for route in ("api", "help_center"):
        sid = act.log_search("kubernetes helm chart", "en", "en", "public", route,
                             [("cdn-502", "en", 0.3)], 6, answered=False)
    act.log_click(sid, "cdn-502", "en", 1)  # a closest article opened: still no answer
    act.log_search("password reset link", "en", "en", "public", "api", [("account-reset-password", "en", 0.9)], 4)
    failed = gaps(ctx)
    assert failed["kubernetes helm chart"]["volume"] >= 2 and failed["kubernetes helm chart"]["unanswered"] >= 2
    assert "password reset link" not in failed


def test_an_article_shown_only_as_a_closest_article_is_still_unused(ctx):
    act = ctx.activity
    assert "billing-invoices" in {r["id"] for r in reports.run("unused", ctx)}
    act.log_search("qwerty", "ru", "ru", "public", "help_center", [("billing-invoices", "ru", 0.2)], 7, answered=False)
    assert "billing-invoices" in {r["id"] for r in reports.run("unused", ctx)}
    act.log_search("счёт за месяц", "ru", "ru", "public", "help_center", [("billing-invoices", "ru", 0.9)], 3)
    assert "billing-invoices" not in {r["id"] for r in reports.run("unused", ctx)}


def test_shown_by_a_search_from_before_answered_was_recorded_counts_as_shown(ctx):
    unused = {r["id"] for r in reports.run("unused", ctx)}
    assert "account-reset-password" not in unused and "live-obs" not in unused  # shown by the old searches


# --- kb search ----------------------------------------------------------------------

@pytest.fixture
def refuse(monkeypatch) -> set[str]:
    return refuse_searches(monkeypatch)


def test_search_json_says_whether_it_answered(make_fake_index, refuse):
    index = str(make_fake_index(SMALL_KB)[1])
    refuse.add("zzqx wvvq")
    runner = CliRunner()
    answered = json.loads(runner.invoke(cli, ["search", "502 bad gateway", "--index", index, "--json"]).output)
    refused = json.loads(runner.invoke(cli, ["search", "zzqx wvvq", "--index", index, "--json"]).output)
    assert answered["answered"] is True and refused["answered"] is False
    plain = runner.invoke(cli, ["search", "zzqx wvvq", "--index", index]).output.splitlines()
    assert plain[1].startswith("no answer: ") and len(plain) > 2  # the closest articles follow


def test_batch_search_puts_answered_beside_id_and_results_on_every_line(make_fake_index, refuse, tmp_path):
    index = str(make_fake_index(SMALL_KB)[1])
    refuse.add("zzqx wvvq")
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": "a", "text": "502 bad gateway"}\n{"id": "b", "text": "zzqx wvvq"}\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["search", "--queries", str(queries), "--index", index])
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [list(line) for line in lines] == [["id", "answered", "results"]] * 2
    assert [(line["id"], line["answered"]) for line in lines] == [("a", True), ("b", False)]
