"""The writers' editor in a real browser, on a copy of the sample articles with the real model.

The articles folder is copied to a temporary folder (the repository's articles/ are never touched) and served
with a copy of the sample's index; saves re-index through `kb index` in a child process, as in production.
Screenshots, desktop and phone, go to tests/artifacts/test_browser_editor/.
"""

from __future__ import annotations

import re
import shutil

import pytest

from tests.browser_support import ACCOUNTS, serving
from tests.support import PASSWORD, ROOT, accounts_at, copy_index

PURGE_ZH = "cdn/cdn-purge-cache.zh.md"
SECOND_WRITER = "browser-writer-2"


@pytest.fixture(scope="module")
def edit_server(web_index, tmp_path_factory):
    """(base URL, articles folder) of an app that edits a temporary copy of the sample articles."""
    from web import create_app

    root = tmp_path_factory.mktemp("editor")
    articles = root / "articles"
    shutil.copytree(ROOT / "articles", articles)
    index = copy_index(web_index, root / "index")
    accounts = accounts_at(index / "activity.sqlite")
    for name in (ACCOUNTS["writer"], SECOND_WRITER):
        accounts.add_user(name, PASSWORD, "writer")
    app = create_app({"INDEX": str(index), "ARTICLES": str(articles), "RATELIMIT_ENABLED": False,
                      "SECRET_KEY": "browser-editor"})
    with serving(app) as base:
        yield base, articles


def new_page(browser, base, locale="en-US", width=1280):
    context = browser.new_context(viewport={"width": width, "height": 900}, base_url=base, locale=locale)
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


def sign_in(page, name, next_url="/writers/"):
    page.goto(f"/auth/login?next={next_url}")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(re.escape(next_url) + "$"))


def wait_searchable(page):
    status = page.locator("#index-status")
    status.wait_for(state="visible")
    page.locator('#index-status[data-state="done"]').wait_for(timeout=120_000)
    assert status.inner_text().startswith("Searchable since")


def test_writer_fixes_the_outdated_chinese_purge_translation(browser, edit_server, shoot):
    base, articles = edit_server
    page = new_page(browser, base)
    sign_in(page, ACCOUNTS["writer"])
    row = page.locator('.w-queue tr[data-id="cdn-purge-cache"][data-lang="zh"]')
    assert row.count() == 1 and "Outdated translations" in row.inner_text()
    row.locator("a.w-fix").click()
    page.wait_for_url(re.compile(r"/writers/translate/cdn-purge-cache/zh$"))

    drifted = page.locator(".e-sbs-row.e-drifted", has_text="Purge with the API")
    source_marks = drifted.locator(".e-sbs-cell").nth(0).locator("mark.e-fact").all_inner_texts()
    old_marks = drifted.locator(".e-sbs-cell").nth(1).locator("mark.e-fact").all_inner_texts()
    assert any("/v2/cdn/cache/purge" in m for m in source_marks)
    assert any("/v1/cdn/purge" in m for m in old_marks)
    quota = page.locator(".e-sbs-row.e-drifted", has_text="QuotaExceeded")
    assert "10,000" in quota.locator(".e-sbs-cell").nth(0).locator("mark").all_inner_texts()
    assert "2,000" in quota.locator(".e-sbs-cell").nth(1).locator("mark").all_inner_texts()
    shoot(page, "side-by-side")

    page.locator("a.button", has_text="Edit the translation").click()
    page.wait_for_url(re.compile(r"/writers/edit/cdn-purge-cache/zh$"))
    body = page.locator("#body")
    text = body.input_value()
    text = (text.replace("https://api.nimbus.example/v1/cdn/purge \\", "https://api.nimbus.example/v2/cdn/cache/purge \\")
            .replace('{"urls":', '{"paths":')
            .replace("GET https://api.nimbus.example/v1/cdn/purge/{task_id}",
                     "GET https://api.nimbus.example/v2/cdn/cache/purge/{task_id}")
            .replace("2,000 条 URL", "10,000 条 URL"))
    body.fill(text)
    page.locator("#preview code", has_text="v2/cdn/cache/purge").first.wait_for()  # the live preview
    assert "<script" not in page.locator("#preview").inner_html()
    shoot(page, "editor")
    page.locator("input[name=up_to_date]").check()  # the writer confirms it matches the source now
    page.locator("#editor-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/writers/edit/cdn-purge-cache/zh\?ticket=\d+$"))
    wait_searchable(page)
    shoot(page, "saved")
    saved = (articles / PURGE_ZH).read_text(encoding="utf-8")
    assert "v2/cdn/cache/purge" in saved and "10,000 条 URL" in saved

    page.goto("/writers/translations")
    assert page.locator('tr[data-id="cdn-purge-cache"][data-lang="zh"]').count() == 0
    page.goto("/writers/")
    assert page.locator('.w-queue tr[data-id="cdn-purge-cache"][data-lang="zh"]').count() == 0

    public = new_page(browser, base, "zh-CN")
    public.goto("/zh/article/cdn-purge-cache")
    assert "v2/cdn/cache/purge" in public.locator("article").inner_text()
    assert "10,000 条 URL" in public.locator("article").inner_text()
    public.goto("/zh/search?q=" + "刷新 API v2 cache purge")
    assert public.locator(".result-title", has_text="刷新").count() >= 1
    public.context.close()
    page.context.close()


def test_two_writers_edit_the_same_article_and_nothing_is_lost(browser, edit_server, shoot):
    base, articles = edit_server
    first, second = new_page(browser, base), new_page(browser, base)
    sign_in(first, ACCOUNTS["writer"], "/writers/edit/cdn-prefetch/en")
    sign_in(second, SECOND_WRITER, "/writers/edit/cdn-prefetch/en")
    first.locator("#body").fill(first.locator("#body").input_value() + "\nFIRST WRITER'S NOTE.\n")
    second.locator("#body").fill(second.locator("#body").input_value() + "\nSECOND WRITER'S NOTE.\n")
    first.locator("#editor-form button[type=submit]").click()
    first.wait_for_url(re.compile(r"\?ticket=\d+$"))

    second.locator("#editor-form button[type=submit]").click()
    second.locator("#conflict").wait_for()
    assert "SECOND WRITER'S NOTE." in second.locator("#body").input_value()  # kept
    assert "FIRST WRITER'S NOTE." in second.locator("#their-version").inner_text()  # and theirs shown
    assert "FIRST WRITER'S NOTE." in (articles / "cdn/cdn-prefetch.en.md").read_text(encoding="utf-8")
    assert "SECOND WRITER'S NOTE." not in (articles / "cdn/cdn-prefetch.en.md").read_text(encoding="utf-8")
    shoot(second, "conflict")

    merged = second.locator("#body").input_value().replace("SECOND WRITER'S NOTE.",
                                                           "FIRST WRITER'S NOTE.\n\nSECOND WRITER'S NOTE.")
    second.locator("#body").fill(merged)
    second.locator("#editor-form button[type=submit]").click()
    second.wait_for_url(re.compile(r"\?ticket=\d+$"))
    text = (articles / "cdn/cdn-prefetch.en.md").read_text(encoding="utf-8")
    assert "FIRST WRITER'S NOTE." in text and "SECOND WRITER'S NOTE." in text
    first.goto("/writers/edit/cdn-prefetch/en/history")
    assert first.locator(".e-history li").count() == 2
    assert {ACCOUNTS["writer"], SECOND_WRITER} == set(first.locator(".e-history li strong").all_inner_texts())
    first.context.close()
    second.context.close()


@pytest.mark.parametrize("locale, lang", [("zh-CN", "zh"), ("ru-RU", "ru")])
def test_editor_and_side_by_side_in_chinese_and_russian(browser, edit_server, shoot, locale, lang):
    page = new_page(browser, edit_server[0], locale)
    sign_in(page, ACCOUNTS["writer"])
    page.goto("/writers/translate/cdn-cache-rules/zh" if lang == "zh" else "/writers/translate/cdn-cache-rules/ru")
    shoot(page, f"side-by-side-{lang}")
    page.goto(f"/writers/edit/cdn-cache-rules/{lang}")
    shoot(page, f"editor-{lang}")
    page.context.close()
