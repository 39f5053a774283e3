"""The writers' reports in a real browser: sign in, the overview, the translations report, sort, filter, CSV.

The fixtures are tests/browser_support.py's, as for tests/test_browser.py; screenshots, desktop (1280 wide) and
phone (390 wide), go to tests/artifacts/test_browser_writers/ for a person to look at.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from tests.browser_support import ACCOUNTS
from tests.support import PASSWORD



def sign_in(page, next_url="/writers/"):
    page.goto(f"/auth/login?next={next_url}")
    page.fill("#username", ACCOUNTS["writer"])
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(re.escape(next_url) + "$"))


def row_keys(page) -> list[tuple[str, str]]:
    return [(tr.get_attribute("data-id"), tr.get_attribute("data-lang")) for tr in page.locator("tbody tr").all()]


def test_writer_opens_the_queue_then_sorts_filters_and_downloads_translations(page, shoot):
    sign_in(page)
    assert page.locator("h1").inner_text() == "Content reports"
    assert page.locator(".w-queue tbody tr").count() == 10
    assert page.locator(".topnav a.navlink", has_text="Reports").is_visible()
    shoot(page, "overview")

    page.locator(".w-card-title", has_text="Outdated translations").click()
    page.wait_for_url(re.compile(r"/writers/translations$"))
    purge = page.locator('tr[data-id="cdn-purge-cache"][data-lang="zh"]')
    assert purge.locator(".sev-substantive").inner_text() == "Substantive"
    assert "Purge with the API" in purge.locator(".w-changes").inner_text()
    assert page.locator('tr[data-id="cdn-cname-setup"] .sev-cosmetic').count() == 2
    shoot(page, "translations")

    page.locator("thead a[data-sort=owner]").click()
    page.wait_for_url(re.compile(r"sort=owner&dir=asc"))
    owners = page.locator("tbody td[data-label=Owner]").all_inner_texts()
    assert owners == sorted(owners) and len(owners) == 5
    assert page.locator("th[aria-sort=ascending]").text_content().strip().startswith("Owner")

    page.select_option("#f-lang", "zh")  # the page submits the filter by itself
    page.wait_for_url(re.compile(r"lang=zh"))
    assert "sort=owner" in page.url
    assert row_keys(page) == [("cdn-purge-cache", "zh"), ("cdn-cname-setup", "zh")]  # li.wei twice: report order
    assert page.locator(".w-rowcount").inner_text() == "2 of 5 rows"
    shoot(page, "translations-zh")

    with page.expect_download() as info:
        page.locator("#csv").click()
    download = info.value
    assert re.fullmatch(r"translations-\d{4}-\d\d-\d\d\.csv", download.suggested_filename)
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
    assert [(r["id"], r["lang"], r["severity"]) for r in rows] == [("cdn-purge-cache", "zh", "substantive"),
                                                                 ("cdn-cname-setup", "zh", "cosmetic")]


def test_duplicates_side_by_side_and_an_article_opened_from_a_report(page, shoot):
    sign_in(page, "/writers/duplicates")
    pair = page.locator('tr[data-id="rtc-black-screen"] .w-pair .w-side')
    assert pair.count() == 2
    boxes = [pair.nth(i).bounding_box() for i in range(2)]
    assert abs(boxes[0]["y"] - boxes[1]["y"]) < 2 and boxes[0]["x"] < boxes[1]["x"]  # side by side
    shoot(page, "duplicates")
    pair.nth(1).locator("a").click()
    page.wait_for_url(re.compile(r"/writers/article/rtc-video-black-screen-ru\?lang=ru"))
    assert page.locator("article.article h1").is_visible()
