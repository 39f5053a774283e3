"""Writers' reports on the web: who may see them, every report as a page, sorting, filters, CSV, planted problems.

On the sample indexed with the fake embedder: each page is checked against what `kb.reports` says about the
same index. The reports themselves are checked through the real model in tests/test_reports.py and
tests/test_sample.py, and in a browser in tests/test_browser_writers.py.
"""

from __future__ import annotations

import csv
import html as htmllib
import io
import re

import pytest

from kb import reports
from kb.search.searcher import Searcher
from web import create_app
from tests.support import PASSWORD, accounts_at, activity_at, copy_index, login, new_user, run_sql

FORMULA = "=HYPERLINK(\"http://evil.example\",\"click\")"


@pytest.fixture(scope="module")
def writers_index(fake_web_index, tmp_path_factory):
    """The sample index (fake embedder) with an activity log of its own: unhelpful votes, an agent's mark,
    failed searches."""
    index = copy_index(fake_web_index, tmp_path_factory.mktemp("writers") / "index")
    activity = activity_at(index / "activity.sqlite")
    for reason in ("steps are wrong", "still 502", None):
        activity.add_feedback("cdn-502-bad-gateway", "en", False, reason)
    activity.add_mark("rtc-echo", "zh", "not_relevant", "echo on the call", "someone")
    activity.log_search(FORMULA, "en", "en", "public", "search", [], 0)
    activity.log_search("how to pay by crypto", "en", "en", "public", "search", [], 0)
    return index


@pytest.fixture
def index_dir(writers_index):  # overrides conftest's: these tests read their own activity log
    return writers_index


@pytest.fixture(scope="module")
def app(writers_index, fake_model):  # one app for the module: the searcher warms up once
    return create_app({"TESTING": True, "INDEX": str(writers_index), "MODEL": fake_model, "RATELIMIT_ENABLED": False,
                       "SECRET_KEY": "test-secret"})


@pytest.fixture
def writer_client(client, activity):
    login(client, new_user(activity, "writer"))
    return client


@pytest.fixture(scope="module")
def expected(writers_index, fake_model):
    """What `kb.reports` itself says about the same index and log."""
    searcher = Searcher(writers_index, model=fake_model)
    ctx = reports.Context(store=searcher.store, activity=activity_at(writers_index / "activity.sqlite"),
                          embedder=searcher.embedder, searcher=searcher, window_days=90)
    return {name: reports.run(name, ctx) for name in reports.REPORTS}, ctx


def text(response) -> str:
    return response.get_data(as_text=True)


def table_rows(page: str) -> list[tuple[str, str, str]]:
    """(id, lang, row html) of each table row, in order."""
    return [(m.group(1), m.group(2), m.group(3)) for m in re.finditer(
        r'<tr[^>]*data-id="([^"]*)" data-lang="([^"]*)">(.*?)</tr>', page, re.S)]


def cell_texts(page: str, column_class: str) -> list[str]:
    cells = re.findall(rf'<td class="{column_class}[^"]*"[^>]*><div class="w-cell">(.*?)</div></td>', page, re.S)
    return [htmllib.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells]


def csv_rows(response) -> list[dict]:
    body = response.get_data().decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


# --- who may see the reports ---------------------------------------------------


def test_visitors_are_sent_to_login_and_back(client):
    for path in ("/writers/", "/writers/translations", "/writers/translations.csv?lang=zh"):
        r = client.get(path)
        assert r.status_code == 302 and "/auth/login?next=" in r.headers["Location"]
    r = client.get("/writers/stale?owner=li.wei")
    assert r.headers["Location"].endswith("/auth/login?next=/writers/stale?owner%3Dli.wei")


def test_agents_are_refused_every_writers_page(client, activity):
    login(client, new_user(activity, "agent"))
    for path in ("/writers/", "/writers/priority", "/writers/links.csv", "/writers/article/cdn-purge-cache",
                 "/writers/no-such-report"):
        r = client.get(path)
        assert r.status_code == 403 and "This page is for writers." in text(r), path
    assert ">Reports</a>" not in text(client.get("/agent/"))


@pytest.mark.parametrize("role", ["writer", "admin"])
def test_writers_and_admins_get_the_overview_with_the_queue_first(client, activity, role, expected):
    login(client, new_user(activity, role))
    r = client.get("/writers/")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "private, no-store"
    page = text(r)
    assert f'href="/writers/"' in page and ">Reports</a>" in page  # the header link
    queue, cards = page.index('id="queue-title"'), page.index("All reports")
    assert queue < cards
    for name in reports.REPORTS:
        assert f'href="/writers/{name}"' in page, name
        if name != "priority":
            assert page.index(f"kb report {name}") > cards
    top = [(i, lang) for i, lang, _ in table_rows(page)]
    assert top == [(r["id"], r["lang"]) for r in expected[0]["priority"][:10]]


def test_overview_gives_each_report_its_row_count_or_nothing_to_fix(writer_client, expected):
    page = text(writer_client.get("/writers/"))
    rows = expected[0]
    for name in reports.REPORTS:
        if name == "priority":
            assert f"Open the whole queue ({len(rows[name])})" in page
            continue
        card = re.search(rf'<li class="card w-card[^"]*">\s*<a class="w-card-title" href="/writers/{name}">'
                         r'(.*?)</li>', page, re.S).group(1)
        n = len(rows[name])
        assert (f"{n} rows" if n > 1 else "1 row" if n else "Nothing to fix") in card, (name, n)


# --- every report as a page ----------------------------------------------------


@pytest.mark.parametrize("name", list(reports.REPORTS))
def test_every_report_renders_all_its_rows(writer_client, expected, name):
    r = writer_client.get(f"/writers/{name}")
    assert r.status_code == 200
    rows = expected[0][name]
    assert rows, f"the sample and the planted activity should give {name} rows"
    page = text(r)
    if "id" in rows[0]:
        assert [(i, lang) for i, lang, _ in table_rows(page)] == [(x["id"], x["lang"] or "") for x in rows]
    else:
        assert len(table_rows(page)) == len(rows)
    assert f"{len(rows)} rows" in page or len(rows) == 1


def test_translations_report_shows_the_verdict_and_the_changed_sections(writer_client):
    rows = {(i, lang): cells for i, lang, cells in table_rows(text(writer_client.get("/writers/translations")))}
    purge = rows[("cdn-purge-cache", "zh")]
    assert 'class="badge sev sev-substantive">Substantive<' in purge
    assert '<span class="w-section">§ Purge with the API</span>' in purge
    assert re.search(r'<span class="w-what">the source has <code class="w-fact">[^<]*v2', purge)
    for lang in ("ru", "zh"):
        cname = rows[("cdn-cname-setup", lang)]
        assert 'class="badge sev sev-cosmetic">Cosmetic<' in cname and "w-section" not in cname
        assert "Wording only: numbers, code, links and steps agree." in cname


def test_rows_link_to_the_article_as_writers_read_it_internal_ones_too(writer_client):
    page = text(writer_client.get("/writers/translations"))
    assert 'href="/writers/article/cdn-purge-cache?lang=zh"' in page
    r = writer_client.get("/writers/article/cdn-purge-cache?lang=zh")
    assert r.status_code == 200 and 'lang="zh"' in text(r) and "cdn/cdn-purge-cache.zh.md" in text(r)
    internal = text(writer_client.get("/writers/priority"))
    m = re.search(r'href="/writers/article/(internal-[^"?]+)\?lang=(\w+)"', internal)
    r = writer_client.get(f"/writers/article/{m.group(1)}?lang={m.group(2)}")
    assert r.status_code == 200 and "badge-internal" in text(r)
    assert writer_client.get("/writers/article/no-such-article").status_code == 404


def test_reading_an_article_from_the_reports_is_not_counted_as_a_view(writer_client, activity):
    before = run_sql(activity, "SELECT count(*) FROM views")[0][0]
    writer_client.get("/writers/article/cdn-purge-cache")
    assert run_sql(activity, "SELECT count(*) FROM views")[0][0] == before


def test_duplicates_report_shows_both_articles_side_by_side(writer_client):
    rows = table_rows(text(writer_client.get("/writers/duplicates")))
    pair = next(cells for i, _, cells in rows if i == "rtc-black-screen")
    sides = re.findall(r'<div class="w-side"><a class="w-title" href="([^"]+)"', pair)
    assert sides == ["/writers/article/rtc-black-screen?lang=en",
                     "/writers/article/rtc-video-black-screen-ru?lang=ru"]


def test_planted_votes_marks_and_failed_searches_show_in_feedback_and_gaps(writer_client):
    feedback = text(writer_client.get("/writers/feedback"))
    planted = {("cdn-502-bad-gateway", "en"), ("rtc-echo", "zh")}
    assert planted <= {(i, lang) for i, lang, _ in table_rows(feedback)}
    assert "steps are wrong" in feedback
    gaps = text(writer_client.get("/writers/gaps"))
    assert "how to pay by crypto" in gaps and FORMULA in htmllib.unescape(gaps)


def test_an_empty_report_says_there_is_nothing_to_fix(fake_web_index, fake_model, tmp_path):
    index = copy_index(fake_web_index, tmp_path / "index")  # a log without a single vote or search
    client = create_app({"TESTING": True, "INDEX": str(index), "MODEL": fake_model, "RATELIMIT_ENABLED": False,
                         "SECRET_KEY": "test"}).test_client()
    accounts_at(index / "activity.sqlite").add_user("empty-writer", PASSWORD, "writer")
    login(client, "empty-writer")
    for name in ("feedback", "gaps"):
        page = text(client.get(f"/writers/{name}"))
        assert "Nothing to fix" in page and "<table" not in page and "Download CSV" not in page
    overview = text(client.get("/writers/"))
    assert re.search(r'w-card-clear">\s*<a class="w-card-title" href="/writers/feedback"', overview)


# --- sorting and filters ---------------------------------------------------------


def test_sorting_by_a_number_both_ways_keeps_empty_cells_last(writer_client, expected):
    rows = expected[0]["stale"]
    for direction in ("asc", "desc"):
        page = text(writer_client.get(f"/writers/stale?sort=overdue_days&dir={direction}"))
        days = [int(d) for d in cell_texts(page, "w-col-number") if d.isdigit()]
        assert len(days) == len([r for r in rows if r["overdue_days"] is not None])
        assert days == sorted(days, reverse=direction == "desc")
        arrow = "▼" if direction == "desc" else "▲"
        assert re.search(rf'aria-sort="{direction}ending">\s*<a href="[^"]*sort=overdue_days[^"]*"[^>]*>'
                         rf'Days overdue<span class="sort-ind" aria-hidden="true">{arrow}', page)


def test_sorting_by_text_ignores_case_and_the_header_link_turns_the_order_round(writer_client):
    page = text(writer_client.get("/writers/priority?sort=owner&dir=asc"))
    owners = [o for o in cell_texts(page, "w-col-text") if o in {"tom.b", "li.wei", "olga.n", "i.volkov"}]
    assert owners == sorted(owners)
    assert 'href="/writers/priority?sort=owner&amp;dir=desc"' in page
    assert 'href="/writers/priority?sort=score&amp;dir=desc"' in page  # numbers: biggest first on the first click


def test_an_unknown_sort_column_keeps_the_reports_own_order(writer_client):
    plain = text(writer_client.get("/writers/translations"))
    odd = text(writer_client.get("/writers/translations?sort=nope&dir=sideways"))
    assert [r[:2] for r in table_rows(odd)] == [r[:2] for r in table_rows(plain)]
    assert "aria-sort" not in odd


@pytest.mark.parametrize("query,check", [
    ("owner=li.wei", lambda r: r["owner"] == "li.wei"),
    ("lang=zh", lambda r: r["lang"] == "zh" or r.get("missing_lang") == "zh"),
    ("product=cdn", lambda r: r["product"] == "cdn"),
    ("owner=olga.n&product=billing&lang=ru", lambda r: (r["owner"], r["product"], r["lang"]) == ("olga.n", "billing", "ru")),
])
def test_each_filter_keeps_only_its_rows(writer_client, expected, query, check):
    rows = expected[0]["priority"]
    want = [(r["id"], r["lang"]) for r in rows if check(r)]
    assert 0 < len(want) < len(rows)
    page = text(writer_client.get(f"/writers/priority?{query}"))
    assert [(i, lang) for i, lang, _ in table_rows(page)] == want
    assert f"{len(want)} of {len(rows)} rows" in page and "Clear filters" in page


def test_filter_dropdowns_hold_the_values_of_the_rows(writer_client, expected):
    page = text(writer_client.get("/writers/translations?lang=ru"))
    owners = re.search(r'<select id="f-owner".*?</select>', page, re.S).group(0)
    assert re.findall(r'<option value="([^"]*)"', owners) == ["", "d.petrov", "i.volkov", "li.wei", "tom.b"]
    langs = re.search(r'<select id="f-lang".*?</select>', page, re.S).group(0)
    assert '<option value="ru" selected>Русский</option>' in langs and '<option value="zh">中文</option>' in langs


def test_missing_translations_filter_by_the_missing_language(writer_client, expected):
    rows = expected[0]["missing"]
    page = text(writer_client.get("/writers/missing?lang=es"))
    assert len(table_rows(page)) == len([r for r in rows if "es" in (r["lang"], r["missing_lang"])]) > 0


@pytest.mark.parametrize("name", ["priority", "missing", "translations"])
@pytest.mark.parametrize("filters", [{"owner": "li.wei"}, {"lang": "zh"}, {"product": "cdn"}])
def test_the_web_filters_are_those_of_kb_report(expected, writer_client, name, filters):
    _, ctx = expected
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    page = text(writer_client.get(f"/writers/{name}?{query}"))
    assert len(table_rows(page)) == len(reports.run(name, ctx, **filters))


# --- CSV -------------------------------------------------------------------------


def test_csv_export_has_the_rows_of_the_page_with_its_filters(writer_client, expected):
    r = writer_client.get("/writers/translations.csv?lang=zh&sort=severity&dir=desc")
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="translations-\d{4}-\d\d-\d\d\.csv"', r.headers["Content-Disposition"])
    rows = csv_rows(r)
    assert [(x["id"], x["lang"], x["severity"]) for x in rows] == [("cdn-purge-cache", "zh", "substantive"),
                                                                   ("cdn-cname-setup", "zh", "cosmetic")]
    assert "Purge with the API" in rows[0]["sections"] and rows[0]["title"] == "如何刷新 CDN 缓存？刷新失败怎么办"
    assert list(rows[0]) == list(expected[0]["translations"][0])  # the columns of `kb report --format csv`


def test_csv_link_on_the_page_carries_the_filters_and_the_sort(writer_client):
    page = text(writer_client.get("/writers/stale?owner=olga.n&sort=lang&dir=desc"))
    assert 'href="/writers/stale.csv?owner=olga.n&amp;sort=lang&amp;dir=desc"' in page
    rows = csv_rows(writer_client.get("/writers/stale.csv?owner=olga.n&sort=lang&dir=desc"))
    assert [x["lang"] for x in rows] == ["zh", "ru", "en"] and {x["owner"] for x in rows} == {"olga.n"}


def test_csv_cells_a_spreadsheet_would_run_are_quoted_as_text(writer_client):
    rows = csv_rows(writer_client.get("/writers/gaps.csv"))
    examples = " | ".join(x["examples"] for x in rows)
    assert "'" + FORMULA in examples and not any(x["examples"].startswith("=") for x in rows)


def test_unknown_reports_are_404_in_the_site_style(writer_client):
    for path in ("/writers/nope", "/writers/nope.csv", "/writers/article"):
        r = writer_client.get(path)
        assert r.status_code == 404 and "text/html" in r.content_type
        assert 'class="empty card error-page"' in text(r)
    assert "There is no report called “nope”." in text(writer_client.get("/writers/nope"))


# --- languages ---------------------------------------------------------------------


def test_report_rows_hold_codes_each_edge_words_and_no_sentences(app, expected):
    """Every coded value the sample's reports hold is a code (no spaces) with a word in the terminal's English
    (kb/reports/text.py) and in the interface's languages (web/presentation/report_text.py)."""
    from kb.reports.text import CODED, WORDS
    from web.presentation import report_text

    coded = {r[k] for rows in expected[0].values() for r in rows for k in CODED if r.get(k)}
    assert {"substantive", "cosmetic", "source-changed", "overdue", "broken-link", "broken-anchor", "duplicate",
            "unlinked-translation", "same-facts", "unhelpful", "no-owner"} <= coded
    assert not [c for c in coded if " " in c]
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        ui = report_text.values()
    actions = {"write_new", "translate", "improve", "publish"}
    assert coded - actions <= set(ui) and coded <= set(WORDS)
    assert not [c for c in coded - actions if ui[c].isascii()], "a code without its Chinese label"



@pytest.mark.parametrize("lang,words", [("zh", ["内容报告", "优先处理", "过时的翻译", "实质性", "原文中有", "译文中仍有"]),
                                        ("ru", ["Отчёты о содержании", "Исправить в первую очередь", "Устаревшие переводы",
                                                "в оригинале есть"])])
def test_reports_speak_the_interface_language(writer_client, lang, words):
    headers = {"Accept-Language": lang}
    page = text(writer_client.get("/writers/", headers=headers)) + text(
        writer_client.get("/writers/translations", headers=headers))
    for w in words:
        assert w in page, w
