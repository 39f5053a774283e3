"""The insights page in a real browser, over the sample's index with simulated traffic (the real search drove it):
six charts with their tables and CSV, the top unanswered searches with advice, in en, zh and ru, desktop and
phone. The server is this module's own (a copy of the sample index), so the simulated traffic stays out of the
other browser tests' activity log."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest

from kb.reports.insights import METRICS
from kb.search.searcher import Searcher
from demo.traffic import Simulation, load_questions
from kb.storage import open_database, sqlite_url
from kb.storage.accounts import Accounts
from kb.storage.activity import Activity
from kb.storage.contact import ContactStore
from tests.browser_support import serving
from tests.support import PASSWORD, ROOT, copy_index

LEAD = "browser-lead"
TITLES = {"en": ("Insights", "Answered rate", "Top unanswered searches"),
          "zh": ("数据洞察", "已回答率", "未解答的热门搜索"),
          "ru": ("Аналитика", "Доля отвеченных", "Частые запросы без ответа")}


@pytest.fixture(scope="module")
def insights_server(web_index, tmp_path_factory, browser):
    from web import create_app

    index = copy_index(web_index, tmp_path_factory.mktemp("insights-browser") / "index")
    db = open_database(sqlite_url(index / "activity.sqlite"))
    Accounts(db).add_user(LEAD, PASSWORD, "writer")
    data = ROOT / "tests" / "data"
    Simulation(Searcher(index), Activity(db), ContactStore(db),
               load_questions(data / "sample_queries.jsonl", data / "uncovered_queries.jsonl"),
               load_questions(data / "agent-queries.jsonl"), seed=11).run(35, dt.datetime.now(dt.timezone.utc).date())
    app = create_app({"INDEX": str(index), "RATELIMIT_ENABLED": False, "SECRET_KEY": "browser-insights"})
    with serving(app) as base:
        yield base


@pytest.fixture
def lead(browser, insights_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=insights_server,
                                  locale="en-US", accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    pg.goto("/auth/login?next=/insights/")
    pg.fill("#username", LEAD)
    pg.fill("#password", PASSWORD)
    pg.click("form.stack button[type=submit]")
    pg.wait_for_url(re.compile(r"/insights/$"))
    yield pg
    context.close()


def test_charts_tables_and_csv(lead, shoot, tmp_path):
    page = lead
    assert page.locator("h1").inner_text() == "Insights"
    charts = page.locator("svg.chart")
    assert charts.count() == len(METRICS)
    for i in range(len(METRICS)):
        chart = charts.nth(i)
        assert chart.is_visible() and chart.locator("polyline").count() >= 1
        assert chart.bounding_box()["width"] > 300
    tiles = page.locator(".i-tile-value").all_inner_texts()
    assert len(tiles) == len(METRICS) and all(re.fullmatch(r"[\d,]+%?", t) for t in tiles), tiles
    assert page.locator(".i-gaps-table tbody tr").count() >= 3
    actions = page.locator(".i-gaps-table .i-action").all_inner_texts()
    assert any(a.startswith("Write a new article") for a in actions), actions
    shoot(page, "insights-en")
    table = page.locator("#chart-answered details")
    table.locator("summary").click()
    rows = table.locator("tbody tr")
    assert rows.count() >= 5 and sum("%" in t for t in rows.all_inner_texts()) >= 4  # traffic: the last 35 days
    with page.expect_download() as download:
        page.locator("#chart-searches a[download]").click()
    path = Path(download.value.path())
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert {"bucket", "lang", "value"} <= set(rows[0]) and sum(int(r["value"]) for r in rows if r["lang"] == "all") > 500


def test_day_buckets_and_one_language(lead, shoot):
    page = lead
    page.locator(".i-preset", has_text="Last 30 days").click()
    page.wait_for_url(re.compile(r"bucket=day"))
    page.select_option("#i-lang", "zh")
    page.locator(".i-period button[type=submit]").click()
    page.wait_for_url(re.compile(r"lang=zh"))
    legend = page.locator("#chart-searches .i-legend li").all_inner_texts()
    assert legend == ["中文"]
    xlabels = page.locator("#chart-searches svg text.xlab").all_inner_texts()
    assert 4 <= len(xlabels) <= 8
    shoot(page, "insights-30-days-zh-only")


@pytest.mark.parametrize("lang", ["zh", "ru"])
def test_in_the_ui_language(lead, shoot, lang):
    page = lead
    page.goto(f"/language/{lang}?next=/insights/")
    page.wait_for_url(re.compile(r"/insights/$"))
    title, chart, gaps = TITLES[lang]
    assert page.locator("h1").inner_text() == title
    assert page.locator("#title-answered").inner_text() == chart
    assert page.locator("#gaps-title").inner_text() == gaps
    body = page.locator("main").inner_text()
    assert "Write a new article" not in body and "Answered rate" not in body
    shoot(page, f"insights-{lang}")


def test_the_gaps_report_advises_a_new_article_and_shows_each_groups_searches_in_their_languages(lead, shoot):
    """The WebSocket searches (uncovered_queries.jsonl, asked in en, ru and zh) are "answered" by search with an
    SSL or 502 article nobody opens: the report says write a new article, and lists the searches of all three
    languages, each labelled with its own, whatever the writer's UI language."""
    page = lead
    page.goto("/writers/gaps")
    row = page.locator("table.w-gaps tbody tr", has_text="websocket support on cdn")
    assert row.count() == 1
    examples = row.locator(".w-examples li")
    texts = {li.locator("span").first.inner_text(): li.locator(".badge").get_attribute("lang")
             for li in examples.all()}
    assert {"websocket support on cdn": "en", "поддерживает ли cdn websocket": "ru",
            "CDN 支持 WebSocket 吗": "zh"}.items() <= texts.items()
    assert row.locator(".w-nearest-far").is_visible()
    assert row.inner_text().count("Write a new article") == 1 and "Improve the nearest" not in row.inner_text()
    for other in page.locator("table.w-gaps tbody tr").all():  # no other group holds a WebSocket search
        if other.inner_text() != row.inner_text():
            assert "websocket" not in other.inner_text().lower()
    row.scroll_into_view_if_needed()
    shoot(page, "gaps-report")
    page.goto("/insights/")
    gaps = page.locator(".i-gaps-table tbody tr").all()  # the top groups: each example labelled there too
    assert gaps and all(0 < g.locator(".w-examples .badge").count() == g.locator(".w-examples li").count()
                        for g in gaps)
    page.set_viewport_size({"width": 390, "height": 844})  # a card per group: each cell's values stay on its right
    for g in gaps:
        for cell in g.locator("td").all():
            label_right = cell.evaluate("td => td.getBoundingClientRect().left + 100")
            boxes = [x.bounding_box() for x in cell.locator(".badge, a").all()]
            assert all(b["x"] >= label_right for b in boxes if b), cell.inner_text()
