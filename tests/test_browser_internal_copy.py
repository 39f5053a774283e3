"""Copying an internal runbook's text on the agent page warns first and copies only on a second click, in a real
browser (fixtures: tests/browser_support.py); public answers still copy at once. Screenshots go to
tests/artifacts/test_browser_internal_copy/.
"""

from __future__ import annotations

import pytest

from tests.browser_support import log_in_as_agent

TICKET = ("Hello,\nwe were billed twice for November and want a refund of both months.\n"
          "How much can you approve and what do you need from us?\nThanks, Maria")
WARNING = {"en": "Internal text", "zh": "内部内容", "ru": "Внутренний текст"}
COPY_ANYWAY = {"en": "Copy anyway", "zh": "仍然复制", "ru": "Всё равно скопировать"}


@pytest.mark.parametrize("ui", ["en", "zh", "ru"])
def test_copy_text_of_an_internal_answer_warns_then_copies_on_the_second_click(page, shoot, ui):
    log_in_as_agent(page)
    page.context.add_cookies([{"name": "kb_lang", "value": ui, "url": page.url}])
    page.goto("/agent/")
    page.fill("#ticket", TICKET)
    page.locator("#ticket-form button[type=submit]").click()
    page.locator(".answer").first.wait_for()
    internal = page.locator(".answer-internal").first
    assert internal.count(), "the ticket should bring up an internal runbook"
    button = internal.locator("[data-copy-from]")
    warning = internal.locator(".copy-warning")
    assert not warning.is_visible()

    page.evaluate("window.kbLastCopied = undefined")
    button.click()
    assert warning.is_visible() and WARNING[ui] in warning.inner_text()
    assert button.inner_text().strip() == COPY_ANYWAY[ui] and button.get_attribute("data-copied") is None
    assert page.evaluate("window.kbLastCopied") is None  # nothing copied yet
    shoot(page, f"internal-copy-warning-{ui}")

    button.click()
    internal.locator("[data-copy-from][data-copied=true]").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == internal.locator("textarea").input_value()

    public = page.locator(".answer:not(.answer-internal)").first
    if public.count():  # a public answer copies on the first click, no warning
        public.locator("[data-copy-from]").click()
        public.locator("[data-copy-from][data-copied=true]").wait_for()
        assert not public.locator(".copy-warning").count()
