"""The writers' tools reached from the UI, in a real browser: the article manager (filters, search, bulk assign,
Edit / Translate / New article), Edit on a help-center article, the new-article form's errors, "Mark reviewed"
leaving the stale report at once, and the report tables fitting 1280 px.

One server for the module edits a temporary copy of the sample articles (the repository's articles/ are never
touched); saves re-index through `kb index` in a child process, as in production, so "at once" below means before
that index ends. Screenshots, desktop and phone, go to tests/artifacts/test_browser_manager/.
"""

from __future__ import annotations

import re
import shutil

import pytest

from tests.browser_support import ACCOUNTS, serving
from tests.support import PASSWORD, ROOT, accounts_at, copy_index


@pytest.fixture(scope="module")
def manager_server(web_index, tmp_path_factory):
    from web import create_app

    root = tmp_path_factory.mktemp("manager")
    shutil.copytree(ROOT / "articles", root / "articles")
    index = copy_index(web_index, root / "index")
    accounts_at(index / "activity.sqlite").add_user(ACCOUNTS["writer"], PASSWORD, "writer")
    app = create_app({"INDEX": str(index), "ARTICLES": str(root / "articles"), "RATELIMIT_ENABLED": False,
                      "SECRET_KEY": "browser-manager"})
    with serving(app) as base:
        yield base


def signed_in(browser, base, locale="en-US", next_url="/writers/"):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base, locale=locale)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"/auth/login?next={next_url}")
    page.fill("#username", ACCOUNTS["writer"])
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(re.escape(next_url) + "$"))
    return page


def ids(page) -> list[str]:
    return [tr.get_attribute("data-id") for tr in page.locator(".m-table tbody tr").all()]


def test_writer_finds_filters_assigns_and_edits_articles_from_the_manager(browser, manager_server, shoot):
    page = signed_in(browser, manager_server)
    for locale_table in page.locator(".w-queue .w-table-wrap").all():  # "Fix first" is not cut at 1280 px
        assert locale_table.evaluate("e => e.scrollWidth - e.clientWidth") <= 1
    page.locator("#all-articles").click()
    page.wait_for_url(re.compile(r"/writers/articles$"))
    total = len(ids(page))
    assert total > 40 and page.locator("#new-article").is_visible()
    shoot(page, "manager")

    page.select_option("#f-lang", "zh")  # the filters submit by themselves
    page.wait_for_url(re.compile(r"lang=zh"))
    page.select_option("#f-status", "outdated")
    page.wait_for_url(re.compile(r"status=outdated"))
    assert set(ids(page)) == {"cdn-purge-cache", "cdn-cname-setup"}
    assert page.locator("#m-count").inner_text() == f"2 of {total} articles"
    purge = page.locator('tr[data-id="cdn-purge-cache"]')
    assert purge.locator(".m-outdated").inner_text() == "Outdated"
    shoot(page, "manager-zh-outdated")

    page.locator(".m-table tbody input[type=checkbox]").first.check()
    page.locator(".m-table tbody input[type=checkbox]").last.check()
    page.locator("button[value=assign_me]").click()
    page.wait_for_url(re.compile(r"/writers/articles\?.*status=outdated"))
    assert "Assigned 2 report rows" in page.locator("body").inner_text()
    assert f"Assigned to {ACCOUNTS['writer']}" in purge.inner_text()
    page.goto("/writers/")
    assert page.locator("#my-queue a", has_text="Outdated translations").is_visible()  # the reports agree

    page.goto("/writers/articles?q=Failed+purges")  # a title search, any case
    assert "cdn-purge-cache" in ids(page)
    page.locator('tr[data-id="cdn-purge-cache"] td[data-lang="en"] a', has_text="Edit").click()
    page.wait_for_url(re.compile(r"/writers/edit/cdn-purge-cache/en$"))
    assert page.locator("#body").is_visible()
    page.goto("/writers/articles?q=account-2fa")
    page.locator('tr[data-id="account-2fa-lost-device"] td[data-lang="en"] a', has_text="Translate").click()
    page.wait_for_url(re.compile(r"/writers/translate/account-2fa-lost-device/en/new\?from=ru$"))
    assert page.locator("h1").inner_text() == "New translation"
    page.context.close()


def test_help_center_shows_edit_to_a_writer_and_the_new_article_form_says_what_is_missing(browser, manager_server,
                                                                                           shoot):
    page = signed_in(browser, manager_server)
    page.goto("/en/article/cdn-purge-cache")
    page.locator("#edit-article").click()
    page.wait_for_url(re.compile(r"/writers/edit/cdn-purge-cache/en$"))
    visitor = browser.new_context(base_url=manager_server).new_page()
    visitor.goto("/en/article/cdn-purge-cache")
    assert visitor.locator("#edit-article, .staff-tools").count() == 0
    visitor.context.close()

    page.goto("/writers/articles")
    page.locator("#new-article").click()
    page.wait_for_url(re.compile(r"/writers/edit/new$"))
    assert page.locator("#body").input_value() == "" and page.locator("textarea").count() == 1  # no front matter
    page.fill("#f-id", "cdn-form-test")
    page.fill("#f-title", "Made from the form")
    page.fill("#body", "One paragraph.")
    page.locator(".e-save button").click()
    error = page.locator("#err-lang")
    assert error.inner_text() == "Choose the article's language."
    assert page.locator("#f-lang").get_attribute("aria-invalid") == "true"
    assert page.locator("#f-id").input_value() == "cdn-form-test" and page.locator("#body").input_value() == "One paragraph."
    shoot(page, "new-article-error")
    page.fill("#f-lang", "en")
    page.locator(".e-save button").click()
    page.wait_for_url(re.compile(r"/writers/edit/cdn-form-test/en\?ticket=\d+$"))
    assert page.locator("input[name=title]").input_value() == "Made from the form"
    page.context.close()


def test_mark_reviewed_leaves_the_stale_report_at_once(browser, manager_server):
    page = signed_in(browser, manager_server, next_url="/writers/stale")
    row = page.locator("tbody tr").first
    aid, lang = row.get_attribute("data-id"), row.get_attribute("data-lang")
    page.goto(f"/writers/edit/{aid}/{lang}")
    page.locator("form[action$='/reviewed'] button").click()
    page.wait_for_url(re.compile(rf"/writers/edit/{aid}/{lang}\?ticket=\d+$"))
    state = page.locator("#index-status").get_attribute("data-state")
    page.goto("/writers/stale")  # straight away, while `kb index` still runs in the background
    assert page.locator(f'tr[data-id="{aid}"][data-lang="{lang}"]').count() == 0, state
    page.context.close()


def test_report_tables_fit_1280_px_in_russian(browser, manager_server, shoot):
    page = signed_in(browser, manager_server, locale="ru-RU")
    for path in ("/writers/", "/writers/translations", "/writers/articles"):
        page.goto(path)
        for wrap in page.locator(".w-table-wrap").all():
            assert wrap.evaluate("e => e.scrollWidth - e.clientWidth") <= 1, path
    shoot(page, "manager-ru")
    page.context.close()


def test_writer_sorts_the_manager_by_a_column_and_downloads_the_view_as_csv(browser, manager_server, shoot):
    import csv
    import io
    from pathlib import Path

    page = signed_in(browser, manager_server, next_url="/writers/articles")
    page.select_option("#f-audience", "internal")  # a filter, kept by the sort links and the CSV
    page.wait_for_url(re.compile(r"audience=internal"))
    page.locator('th a[data-sort="updated"]').click()  # the newest first
    page.wait_for_url(re.compile(r"sort=updated&dir=desc"))
    dates = page.locator(".m-table tbody td.m-updated time").evaluate_all("els => els.map(e => e.dateTime)")
    assert len(dates) >= 3 and dates == sorted(dates, reverse=True)
    assert page.locator("th[aria-sort=descending] a").get_attribute("data-sort") == "updated"
    page.locator('th a[data-sort="id"]').click()
    page.wait_for_url(re.compile(r"sort=id&dir=asc"))
    shown = ids(page)
    assert shown == sorted(shown) and all(i.startswith("internal-") for i in shown)
    shoot(page, "manager-sorted")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone sorts too: the headers become chips
    assert page.locator('th a[data-sort="owner"]').is_visible()
    assert page.locator("th a.m-active").get_attribute("data-sort") == "id"
    context = page.context
    context.close()
    page = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=manager_server,
                               accept_downloads=True).new_page()
    page.goto("/auth/login?next=/writers/articles?audience=internal%26sort=id%26dir=desc")
    page.fill("#username", ACCOUNTS["writer"])
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r"/writers/articles\?"))
    with page.expect_download() as download:
        page.locator("#m-csv").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert [r["id"] for r in rows] == ids(page) == sorted(ids(page), reverse=True)
    assert {r["visibility"] for r in rows} == {"internal"}
    page.context.close()
