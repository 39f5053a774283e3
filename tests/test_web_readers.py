"""Readers' pages in their language: language names inside sentences in the interface's language, dates that end
a sentence without a doubled full stop, the search box's short placeholder. (The layout and the contact form's
draft are checked in a real browser: tests/test_browser_readers.py.)"""

from __future__ import annotations

import re

import pytest


def notice(html: str, cls: str) -> str:
    found = re.search(rf'<p class="notice {cls}"[^>]*>(.*?)</p>', html, re.S)
    assert found, f"no {cls} notice"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip()


def test_language_names_inside_sentences_are_in_the_interface_language(shared_app):
    client = shared_app.test_client()
    fallback = notice(client.get("/zh/article/account-2fa-lost-device").get_data(as_text=True), "notice-lang")
    assert fallback == "这篇文章暂无中文版本，以下显示的是俄语版本。"
    outdated = notice(client.get("/zh/article/cdn-purge-cache").get_data(as_text=True), "notice-outdated")
    assert "英语 原文" in outdated and "English" not in outdated
    ru = notice(client.get("/ru/article/rtc-firewall-ports").get_data(as_text=True), "notice-outdated")
    assert "(английский)" in ru and "English" not in ru
    page = client.get("/zh/article/account-2fa-lost-device").get_data(as_text=True)
    assert "Русский" in page  # the language menu keeps native names: a reader picks their own


@pytest.mark.parametrize("path", ["/ru/article/rtc-firewall-ports", "/ru/article/api-signature-errors"])
def test_a_russian_date_at_the_end_of_a_sentence_has_one_full_stop(shared_app, path):
    text = notice(shared_app.test_client().get(path).get_data(as_text=True), "notice-outdated")
    assert re.search(r"\d{4} г\. обновлён оригинал", text) and "г.." not in text


@pytest.mark.parametrize("lang, short", [("ru", "Опишите проблему"), ("zh", "描述您的问题"),
                                         ("en", "Describe your problem")])
def test_the_search_box_carries_a_short_placeholder_for_narrow_screens(shared_app, lang, short):
    html = shared_app.test_client().get(f"/{lang}/").get_data(as_text=True)
    assert f'data-short-placeholder="{short}"' in html


def test_the_russian_insights_period_ends_with_one_full_stop(shared_app):
    from tests.editing_support import client_as

    html = client_as(shared_app, "writer").get("/insights/?start=2026-11-05&end=2026-12-04",
                                               headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Что база знаний сделала" in html and "г.." not in html
