"""Agent assist shows the fix, not the restated symptom, in a real browser (fixtures: tests/browser_support.py).

An agent pastes a customer's ticket from tests/data/agent-queries.jsonl that restates the symptom (an error
code, response headers, "it worked before"); the first answer must be the expected article, the section
named and linked for it must be the ticket's expected fix anchor (kb/search/sections.py + kb/search/section_roles.py), and
"Copy text" must put that section's steps and commands on the clipboard, not the article's "Symptoms"
section nor the customer's own words. Screenshots go to tests/artifacts/test_browser_agent_fix/.
"""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest

from tests.browser_support import log_in_as_agent
from tests.support import ROOT, wait_until

TICKETS = {t["id"]: t for t in (json.loads(line) for line in (ROOT / "tests/data/agent-queries.jsonl").read_text(
    encoding="utf-8").splitlines() if line.strip())}

#: What a person checks in each answer: the article and language shown, the fix heading, lines of the fix
#: section that must be in the pasted text, and lines that must not be (the article's symptom section and
#: the customer's own message restated).
CASES = {
    "q-agent-ru-03": dict(
        article="cdn-404-after-upload", lang="ru", language="Русский", heading="Что делать",
        symptom_heading="Симптомы",
        fix=["Убедитесь, что 404 отдаётся из кэша",
             'curl -sI -H "Host: static.example.com" http://203.0.113.10/app/v2/main.js',
             "выполните очистку кэша"],
        not_fix=["В ответе 404 есть", "Источник отдаёт файл, а URL CDN", "негативное кэширование",
                 "static.shop-demo.ru", "Релиз висит"]),
    "q-agent-en-03": dict(
        article="cdn-504-gateway-timeout", lang="en", language="English", heading="Fix",
        symptom_heading="Symptoms",
        fix=["Measure the origin response time directly", "curl -o /dev/null",
             "Origin timeout", "keepalive_timeout 75s;"],
        not_fix=["Static files that are already cached load normally", "Slow pages, exports or large generated",
                 "heavy database queries", "77c0e3d1a9b24f86", "report/export?month"]),
}


def anchor_of(href: str) -> str:
    return unquote(href.split("#", 1)[1]) if "#" in href else ""


@pytest.mark.parametrize("ticket_id", list(CASES))
def test_agent_sees_and_copies_the_fix_section_of_a_ticket_that_restates_the_symptom(page, shoot, artifacts,
                                                                                     ticket_id):
    ticket, case = TICKETS[ticket_id], CASES[ticket_id]
    fix_anchors = ticket["fix_anchors"][f"{case['article']}/{case['lang']}"]
    assert any(k in case["heading"].lower().replace(" ", "-") for k in fix_anchors), "CASES out of date"

    log_in_as_agent(page)
    page.fill("#ticket", ticket["text"])
    page.locator("#ticket-form button[type=submit]").click()
    page.locator(".answer").first.wait_for()
    assert case["language"] in page.locator(".detected").inner_text()
    assert not page.locator(".notice-weak").count()  # a confident answer, not weak matches

    # the first answer is the expected article, in the customer's language
    first = page.locator(".answer").first
    assert first.get_attribute("data-article") == case["article"]
    title = first.locator(".answer-title")
    assert title.get_attribute("lang") == case["lang"]

    # the section named and linked is the fix, not the symptoms
    section = first.locator(".result-section")
    assert section.is_visible() and section.inner_text().strip() == case["heading"] != case["symptom_heading"]
    assert anchor_of(title.get_attribute("href")) in fix_anchors
    link = first.locator("[data-copy]").get_attribute("data-copy")
    assert f"/{case['lang']}/article/{case['article']}#" in link and anchor_of(link) in fix_anchors

    # the preview on the page shows the fix's steps
    preview = first.locator(".section-preview")
    assert preview.is_visible()
    shown = preview.inner_text()
    assert case["fix"][0] in shown and case["symptom_heading"] not in shown

    # "Copy text" puts the fix section on the clipboard: its steps and commands, not the problem restated
    first.locator("[data-copy-from]").click()
    first.locator("[data-copy-from][data-copied=true]").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == first.locator("textarea").input_value()
    for line in case["fix"]:
        assert line in copied, f"fix step missing from the copied text: {line!r}"
    for line in case["not_fix"]:
        assert line not in copied, f"the copied text restates the problem: {line!r}"
    assert "<" not in copied  # plain text, no markup

    first.locator(".copy-box summary").click()  # open "Text to paste" so the screenshot shows it
    shoot(page, f"agent-fix-{case['lang']}")
    # close-ups of the first answer, readable at a glance (the full pages above are long)
    first.screenshot(path=str(artifacts / f"agent-fix-{case['lang']}-first-answer-desktop.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    first.screenshot(path=str(artifacts / f"agent-fix-{case['lang']}-first-answer-phone.png"))
    page.set_viewport_size({"width": 1280, "height": 900})

    # the title opens the full article for the agent at the fix heading
    with page.context.expect_page() as opened:
        title.click()
    article = opened.value
    article.wait_for_load_state()
    heading = article.locator(f"[id='{anchor_of(title.get_attribute('href'))}']")
    assert heading.count() == 1 and heading.is_visible() and heading.inner_text().strip() == case["heading"]
    assert heading.evaluate("el => el.getBoundingClientRect().top") < 300  # scrolled to it
    shoot(article, f"agent-fix-article-{case['lang']}")
    article.close()


def test_agent_is_warned_when_the_answer_is_an_outdated_translation(page, shoot, artifacts):
    """The Chinese purge article lags behind the English one (2,000 URLs a day there, 10,000 in the source):
    the answer in Chinese carries the notice, and its link opens the English source for the agent."""
    log_in_as_agent(page)
    page.fill("#ticket", "你好，刷新缓存的时候接口返回 429 QuotaExceeded，我们今天刷新了很多 URL，每天最多能刷新多少条？")
    page.select_option("#customer-lang", "zh")
    page.locator("#ticket-form button[type=submit]").click()
    card = page.locator(".answer[data-article='cdn-purge-cache']")
    card.wait_for()
    assert card.locator(".answer-title").get_attribute("lang") == "zh"
    notice = card.locator("p.notice-outdated")
    assert notice.is_visible() and "English" in notice.inner_text()
    # Copy text of the drifted section shows what differs first, and offers the English wording
    page.evaluate("window.kbLastCopied = undefined")
    card.locator("button[data-confirm^=drift-warning]").click()
    warning = card.locator(".drift-warning")
    assert warning.is_visible() and page.evaluate("window.kbLastCopied") is None  # nothing copied yet
    assert "10000" in warning.locator("dd").first.inner_text() and "2000" in warning.locator("dd").last.inner_text()
    card.screenshot(path=str(artifacts / "agent-outdated-copy-warning-zh.png"))
    warning.locator("button.copy-source").click()
    # polled from here: wait_for_function's string runs through eval, which the page's CSP refuses
    english = wait_until(lambda: page.evaluate("window.kbLastCopied"), 10, "the English wording on the clipboard")
    assert "10,000" in english and "2,000" not in english
    card.screenshot(path=str(artifacts / "agent-outdated-translation-zh.png"))
    with page.context.expect_page() as opened:
        notice.locator("a").click()
    source = opened.value
    source.wait_for_load_state()
    assert "10,000" in source.locator("main").inner_text()
    shoot(source, "agent-outdated-source-en")
    source.close()
