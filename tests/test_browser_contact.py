"""The contact form in a real browser: suggestions appear as the subject is typed (ru, zh, en), opening one is a
click of that form session, sending reaches the thank-you page; without JavaScript the suggestions come before
sending. Screenshots desktop and phone."""

from __future__ import annotations

import re

import pytest

from kb.storage import open_database, sqlite_url
from kb.storage.contact import ContactStore

SUBJECT = {"en": "502 bad gateway from the cdn", "ru": "ошибка 502 bad gateway на cdn", "zh": "CDN 回源 502 错误"}
HEADING = {"en": "These articles may answer your question", "ru": "Эти статьи, возможно, отвечают на ваш вопрос",
           "zh": "这些文章可能已解答您的问题"}


@pytest.mark.parametrize("lang", ["en", "ru", "zh"])
def test_suggestions_appear_while_typing_and_a_click_is_recorded(page, shoot, web_index, lang):
    page.goto(f"/{lang}/contact/")
    form_id = page.locator("input[name=form_id]").get_attribute("value")
    page.locator("#subject").press_sequentially(SUBJECT[lang], delay=15)
    box = page.locator("#suggestions")
    box.locator(".article-item a").first.wait_for()
    assert box.locator("h2").inner_text() == HEADING[lang]
    first = box.locator(".article-item a").first
    assert "502" in first.inner_text()
    shoot(page, f"contact-suggestions-{lang}")
    first.click()
    page.wait_for_url(re.compile(rf"/{lang}/article/cdn-502-bad-gateway"))
    events = ContactStore(open_database(sqlite_url(web_index / "activity.sqlite"))).form_events("2000", "9999")[form_id]
    assert [k for k, _t, _l in events] == ["open", "click"]


def test_sending_a_request_after_seeing_suggestions(page, shoot):
    page.goto("/en/contact/")
    page.locator("#subject").press_sequentially("purge the cdn cache", delay=15)
    page.locator("#suggestions .article-item").first.wait_for()
    page.fill("#message", "Purging does not remove the old file from the edge.")
    page.fill("#email", "ana@example.com")
    page.locator(".contact-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/en/contact/sent/"))  # the suggestions were seen: no extra step
    assert "ana@example.com" in page.locator(".contact-sent").inner_text()
    shoot(page, "contact-sent-en")


def test_without_javascript_suggestions_come_before_sending(browser, server, shoot):
    context = browser.new_context(java_script_enabled=False, base_url=server, locale="ru-RU",
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto("/ru/contact/")
        page.fill("#subject", SUBJECT["ru"])
        page.fill("#message", "Сайт отдаёт 502 через CDN.")
        page.fill("#email", "ivan@example.com")
        page.locator(".contact-form button[type=submit]").click()
        page.wait_for_load_state()
        assert page.locator("#suggestions h2").inner_text() == "Перед отправкой: может быть, ответ есть в этих статьях?"
        assert page.locator("#suggestions .article-item").count() >= 1
        shoot(page, "contact-confirm-ru-nojs")
        page.locator(".contact-form button[type=submit]").click()
        page.wait_for_url(re.compile(r"/ru/contact/sent/"))
        assert "ivan@example.com" in page.locator(".contact-sent").inner_text()
    finally:
        context.close()
