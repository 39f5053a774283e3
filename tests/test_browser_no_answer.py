"""The no-answer page and agents' weak matches in a real browser (fixtures: tests/browser_support.py).

Searches for the keyboard mash below are made not answered (tests/refusals.py), whatever the decision's
model says, so the page is tested apart from the decision. Screenshots go to
tests/artifacts/test_browser_no_answer/.
"""

from __future__ import annotations

import re

import pytest

from tests.refusals import refuse_searches
from tests.browser_support import log_in_as_agent

MASH = {"en": "asdf jkl qwer uiop", "zh": "嗯嗯嗯 啊啊 哦哦哦 呃", "ru": "фыва олдж йцук енгш"}
TITLE = {"en": "We could not find an answer", "zh": "我们没有找到答案", "ru": "Нам не удалось найти ответ"}
CLOSEST = {"en": "Closest articles", "zh": "最接近的文章", "ru": "Ближайшие статьи"}
CONTACT = {"en": "Contact support", "zh": "联系技术支持", "ru": "Связаться с поддержкой"}
TICKET = "Hi, our dashboard shows a purple unicorn instead of the usage graphs since the upgrade. Any idea?"


@pytest.fixture
def refuse(monkeypatch) -> set[str]:
    return refuse_searches(monkeypatch)


@pytest.mark.parametrize("lang", ["zh", "ru", "en"])
def test_no_answer_page_offers_the_closest_articles_and_the_contact_link(page, shoot, refuse, lang):
    refuse.add(MASH[lang])
    page.goto(f"/{lang}/")
    page.fill("#q-big", MASH[lang])
    page.press("#q-big", "Enter")
    page.wait_for_url(re.compile(rf"/{lang}/search"))
    assert page.locator("h1").all_inner_texts() == [TITLE[lang]]
    assert page.locator(".result").count() == 0
    closest = page.locator(".closest")
    assert closest.locator("h2").inner_text() == CLOSEST[lang] and closest.is_visible()
    items = closest.locator(".article-item a")
    assert 1 <= items.count() <= 3
    contact = page.locator(".contact a")
    assert contact.inner_text() == CONTACT[lang] and contact.is_visible()
    assert contact.get_attribute("href").startswith(f"/{lang}/contact/?subject=")
    shoot(page, f"no-answer-{lang}")
    title = items.first.inner_text()
    items.first.click()
    page.wait_for_url(re.compile(rf"/{lang}/article/"))
    assert page.locator("h1").inner_text() == title


@pytest.mark.parametrize("lang, query, said", [
    ("zh", "支持比特币付款吗", "我们的文章都没有提到“比特币”。"),
    ("ru", "можно оплатить криптовалютой", "Ни в одной нашей статье не упоминается «криптовалютой»."),
    ("en", "do you have cdn nodes in brazil", "None of our articles mentions “brazil”.")])
def test_a_question_about_a_word_no_article_uses_says_which_word(page, shoot, lang, query, said):
    """Refused by the real decision (kb/search/novelty.py), not by `refuse`: the reader learns what is not covered."""
    page.goto(f"/{lang}/")
    page.fill("#q-big", query)
    page.press("#q-big", "Enter")
    page.wait_for_url(re.compile(rf"/{lang}/search"))
    assert page.locator("h1").all_inner_texts() == [TITLE[lang]]
    missing = page.locator(".no-answer-missing")
    assert missing.inner_text() == said and missing.is_visible()
    assert page.locator(".contact a").is_visible()
    shoot(page, f"missing-word-{lang}")


def test_results_page_heading_names_the_query(page, shoot):
    page.goto("/ru/search?q=кэш не очищается")
    assert page.locator("h1").all_inner_texts() == ["Результаты по запросу «кэш не очищается»"]
    assert page.locator(".result").count() >= 3
    shoot(page, "results-heading-ru")


def test_agent_sees_the_closest_sections_of_an_unanswered_ticket_as_weak_matches(page, shoot, refuse):
    refuse.add(TICKET)
    log_in_as_agent(page)
    page.fill("#ticket", TICKET)
    page.locator("#ticket-form button[type=submit]").click()
    page.locator(".answer").first.wait_for()
    assert page.locator(".notice-weak").is_visible()
    answers = page.locator(".answer")
    assert answers.count() >= 1 and page.locator(".answer .badge-weak").count() == answers.count()
    assert page.locator(".answer .badge-weak").first.inner_text() == "Weak match"
    shoot(page, "agent-weak-matches")
