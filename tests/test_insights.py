"""Insights: the metrics over buckets and languages, the SVG charts, the page (roles, tables, CSV, languages),
the traffic simulation that seeds a demo, and no raw values on the writers' pages."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

from kb.contact import requests as contact
from kb.reports import insights
from demo.traffic import Simulation, clock, load_questions
from kb.storage import open_database, sqlite_url
from kb.storage.activity import Activity
from kb.storage.contact import ContactStore
from kb.storage.insights import Insights
from tests.support import ROOT, copy_index, login, new_user, run_sql
from web.presentation import charts

D0 = dt.datetime(2026, 10, 5, 12, 0, tzinfo=dt.timezone.utc)  # a Monday


def at(days: float) -> dt.datetime:
    return D0 + dt.timedelta(days=days)


@pytest.fixture
def logs(tmp_path):
    """An activity log with known rows: two weeks, en and zh."""
    return fill(open_database(sqlite_url(tmp_path / "a.sqlite")))


def fill(db):
    act, con = Activity(db), ContactStore(db)
    with clock(at(0)):
        s1 = act.log_search("purge cache", "en", "en", "public", "help_center", [("cdn-purge", "en", 0.9)], 1)
        act.log_search("purge", "en", "en", "public", "help_center", [("cdn-purge", "en", 0.9)], 1)
        act.log_search("清除缓存", "zh", "zh", "public", "api", [("cdn-purge", "zh", 0.9)], 1)
        act.log_search("bitcoin", "en", "en", "public", "help_center", [], 0, answered=False)
        act.log_search("agent ticket", "en", "en", "internal", "agent", [], 0)  # not a public search
        act.log_click(s1, "cdn-purge", "en", 1)
        act.add_feedback("cdn-purge", "en", True, None)
        act.add_feedback("cdn-purge", "en", False, None)
        act.add_mark("cdn-purge", "zh", "solved", "q", "a")
    with clock(at(8)):
        act.log_search("怎么退款", "zh", "zh", "public", "help_center", [("refunds", "zh", 0.9)], 1)
        act.add_mark("cdn-purge", "zh", "not_relevant", "q", "a")
        act.add_mark("cdn-purge", "zh", "solved", "q", "a")
    for i, ending in enumerate(("deflected", "submitted", "open")):
        fid = contact.new_form_id()
        con.add_event(fid, "open", "ru", at=at(1))
        if ending != "open":
            con.add_event(fid, "click", "ru", "cdn-purge", at=at(1) + dt.timedelta(minutes=1))
        if ending == "submitted":
            with clock(at(1) + dt.timedelta(minutes=5)):
                con.add_request(contact.checked("s", "m", "a@b.co", "ru", form_id=fid), deliver=False)
    return Insights(db), con, act


def test_postgresql_counts_the_same_as_sqlite(logs, postgres_url):
    """The database groups and counts (kb/storage/insights.py); both engines must cut days and count alike."""
    from kb.storage import Database, migrate

    fresh = Database(postgres_url)
    migrate.upgrade(fresh)  # what `kb db upgrade` does; PostgreSQL is never upgraded behind an operator's back
    fresh.close()
    db = open_database(postgres_url)
    try:
        on_pg = fill(db)
        for bucket in ("day", "week"):
            period = insights.Period(at(0).date(), at(13).date(), bucket)
            lite, pg = (insights.compute(*logs[:2], period, now=at(20)),
                        insights.compute(*on_pg[:2], period, now=at(20)))
            assert {m: s.rows() for m, s in pg.items()} == {m: s.rows() for m, s in lite.items()}
        span = (at(0).date().isoformat(), at(14).date().isoformat())
        assert sorted(on_pg[0].public_searches(*span)) == sorted(logs[0].public_searches(*span))
    finally:
        db.close()


def test_metrics_by_week_and_language(logs):
    period = insights.Period(at(0).date(), at(13).date(), "week")
    s = insights.compute(*logs[:2], period, now=at(20))
    w1, w2 = period.buckets()
    assert (w1, w2) == (dt.date(2026, 10, 5), dt.date(2026, 10, 12))
    assert s["searches"].values() == [4, 1] and s["searches"].values("zh") == [1, 1]
    assert s["answered"].values("en") == [2 / 3, None]  # the unanswered bitcoin search; no en searches in week 2
    assert s["ctr"].values("en") == [0.5, None]  # help-center answered searches with a click; the API search is not
    assert s["helpful"].values() == [0.5, None]
    assert s["solved"].values("zh") == [1.0, 0.5]
    assert s["deflection"].values("ru") == [0.5, None]  # one deflected, one sent; the open one left out
    assert s["solved"].total("zh").num == 2 and s["solved"].total("zh").den == 3


def test_day_buckets_and_the_csv_rows(logs):
    period = insights.Period(at(0).date(), at(2).date(), "day")
    rows = insights.compute(*logs[:2], period, now=at(20))["searches"].rows()
    assert rows[0] == {"bucket": "2026-10-05", "lang": "all", "value": 4, "numerator": 4, "denominator": None}
    assert {r["lang"] for r in rows} == {"all", "en", "zh"}


@pytest.mark.parametrize("start, end, bucket, message", [
    ("2026-10-05", "2026-10-01", "week", "ends (2026-10-01) before it starts"),
    ("2026-10-05", "2026-10-06", "month", "bucket must be one of"),
    ("2020-01-01", "2026-10-06", "day", "over 400 days"),
])
def test_bad_periods_say_what_is_wrong(start, end, bucket, message):
    with pytest.raises(Exception, match=re.escape(message)):
        insights.Period(dt.date.fromisoformat(start), dt.date.fromisoformat(end), bucket).checked()


def test_chart_is_an_svg_with_broken_lines_for_missing_values_and_escaped_labels():
    svg = str(charts.line_chart(["a", "b", "c", "<d>"], [charts.Line("All", [0.5, None, 0.2, 0.3]),
                                                         charts.Line("中文", [1.0, 0.9, 0.8, 0.7])],
                                lambda v: f"{v:.0%}", "Rate & more", y_max=1.0))
    assert svg.startswith("<svg") and 'role="img"' in svg and 'aria-label="Rate &amp; more"' in svg
    assert svg.count("<polyline") == 3  # the first line broken at its gap, the second whole
    assert "&lt;d&gt;" in svg and "<d>" not in svg and "中文 · b: 90%" in svg


def test_weeks_cut_by_the_period_are_partial():
    period = insights.Period(dt.date(2026, 10, 7), dt.date(2026, 10, 20), "week")  # Wednesday to a Tuesday
    assert period.buckets() == [dt.date(2026, 10, 5), dt.date(2026, 10, 12), dt.date(2026, 10, 19)]
    assert [period.days_in(b) for b in period.buckets()] == [5, 7, 2]
    assert [period.partial(b) for b in period.buckets()] == [True, False, True]
    days = insights.Period(dt.date(2026, 10, 7), dt.date(2026, 10, 9), "day")
    assert not any(days.partial(b) for b in days.buckets())


def test_chart_draws_partial_buckets_hollow_and_dotted():
    svg = str(charts.line_chart(["a", "b", "c"], [charts.Line("All", [25, 236, 30])], str, "Searches",
                                partial=frozenset({0, 2})))
    assert svg.count("<polyline") == 1 and svg.count('<line class="partial"') == 2
    assert svg.count('fill="#fff"') == 2 and svg.count('<circle') == 3


# --- the page ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def seeded_index(fake_web_index, fake_model, tmp_path_factory):
    """The sample index (fake embedder) with two weeks of simulated traffic."""
    from kb.search.searcher import Searcher

    index = copy_index(fake_web_index, tmp_path_factory.mktemp("insights") / "index")
    questions = load_questions(ROOT / "tests/data/sample_queries.jsonl", ROOT / "tests/data/uncovered_queries.jsonl")
    db = open_database(sqlite_url(index / "activity.sqlite"))
    sim = Simulation(Searcher(index, model=fake_model), Activity(db), ContactStore(db), questions,
                     load_questions(ROOT / "tests/data/agent-queries.jsonl"), seed=7)
    counts = sim.run(14, dt.datetime.now(dt.timezone.utc).date())
    return index, counts


@pytest.fixture
def index_dir(seeded_index, fake_default_model):  # overrides conftest's: the app serves the seeded index
    return seeded_index[0]


def test_simulation_drives_the_real_search_and_logs_what_followed(seeded_index):
    index, counts = seeded_index
    act = Activity(open_database(sqlite_url(index / "activity.sqlite")))
    assert counts["searches"] > 200 and counts["clicks"] > 0 and counts["votes"] > 0 and counts["forms"] > 0
    public = run_sql(act, "SELECT count(*), count(DISTINCT query) FROM searches WHERE audience='public'")[0]
    assert public[0] == counts["searches"] and public[1] > 30
    days = run_sql(act, "SELECT count(DISTINCT substr(ts, 1, 10)) FROM searches")[0][0]
    assert days == 14
    clicks = run_sql(act, "SELECT count(*) FROM clicks c JOIN shown s ON s.search_id = c.search_id AND "
                         "s.article_id = c.article_id AND s.rank = c.rank")[0][0]
    assert clicks == counts["clicks"]  # every click is on a result that search showed at that rank


def test_only_writers_and_admins_see_insights(client, activity):
    assert "/auth/login" in client.get("/insights/").headers["Location"]
    login(client, new_user(activity, "agent"))
    assert client.get("/insights/").status_code == 403


def test_page_has_a_chart_a_table_and_a_csv_for_each_metric(client, activity):
    login(client, new_user(activity, "writer"))
    html = client.get("/insights/?bucket=day").get_data(as_text=True)
    assert html.count('<svg class="chart"') == 6 and html.count('<table class="w-table w-static">') == 6
    for metric in insights.METRICS:
        assert f'href="/insights/{metric}.csv?' in html
    assert "Top unanswered searches" in html
    assert "None" not in re.sub(r"<[^>]+>", "", html)


def test_the_page_marks_the_partial_weeks(client, activity):
    login(client, new_user(activity, "writer"))
    html = client.get("/insights/?start=2026-10-07&end=2026-10-20&bucket=week").get_data(as_text=True)
    assert html.count("(partial: 5 of 7 days)") == 6 and html.count("(partial: 2 of 7 days)") == 6  # each table
    assert html.count('class="i-partial-note"') == 6 and "Hollow point: a week only partly inside" in html
    whole = client.get("/insights/?start=2026-10-05&end=2026-10-18&bucket=week").get_data(as_text=True)
    assert "partial:" not in whole and "i-partial-note" not in whole


def test_csv_export_is_the_numbers_of_the_chart(client, activity, index_dir):
    login(client, new_user(activity, "admin"))
    today = dt.datetime.now(dt.timezone.utc).date()
    args = f"start={(today - dt.timedelta(days=20)).isoformat()}&end={today.isoformat()}&bucket=week"
    r = client.get(f"/insights/searches.csv?{args}")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    total = sum(int(row["value"]) for row in rows if row["lang"] == "all")
    assert total == run_sql(Activity(open_database(sqlite_url(index_dir / "activity.sqlite"))),
                            "SELECT count(*) FROM searches WHERE audience='public'")[0][0]
    assert client.get("/insights/nothing.csv").status_code == 404


def test_bad_period_is_a_400_naming_the_value(client, activity):
    login(client, new_user(activity, "writer"))
    r = client.get("/insights/?start=yesterday")
    assert r.status_code == 400 and "yesterday" in r.get_data(as_text=True)
    assert client.get("/insights/?bucket=month").status_code == 400


@pytest.mark.parametrize("lang, title", [("zh", "已回答率"), ("ru", "Доля отвеченных")])
def test_page_in_the_ui_language(client, activity, lang, title):
    login(client, new_user(activity, "writer"))
    client.get(f"/language/{lang}")
    html = client.get("/insights/").get_data(as_text=True)
    assert title in html and "Answered rate" not in html


def test_writers_pages_show_no_raw_values(client, activity):
    """The priority queue once said "helpful None" and "helpful 0.0"; the feedback report printed 0.0."""
    for _ in range(3):
        activity.add_feedback("cdn-purge-cache", "en", False, None)
    activity.add_mark("rtc-echo", "zh", "not_relevant", "q", "someone")
    login(client, new_user(activity, "writer"))
    for path in ("/writers/priority", "/writers/feedback", "/writers/"):
        text = re.sub(r"<[^>]+>", " ", client.get(path).get_data(as_text=True))
        assert not re.search(r"\bNone\b|\b0\.0\b|helpful 0|\bnan\b", text), path
    text = client.get("/writers/priority").get_data(as_text=True)
    assert "0% found it helpful (3 votes)" in text or "found it helpful" in text
