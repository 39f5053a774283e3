"""The site in a real browser: Debian's chromium driven by Playwright, the app on a real server thread.

Screenshots of the main pages, desktop (1280 wide) and phone (390 wide), go to tests/artifacts/test_browser/
(not committed) for a person to look at; `shoot` also checks that the phone page does not scroll sideways.
The fixtures are in tests/browser_support.py.
"""

from __future__ import annotations

import re

from tests.browser_support import log_in_as_agent

LOG = "\n".join(f"2026-11-20T08:{m:02d}:13Z [error] 2231#0: *{m} connect() failed (111: Connection refused) while "
                f"connecting to upstream, client: 198.51.100.{m}, upstream: \"http://203.0.113.10:80/app.js\""
                for m in range(30))
TICKET = ("Здравствуйте!\n\nС сегодняшнего утра сайт static.example.com через ваш CDN отдаёт 502 Bad Gateway, "
          "хотя напрямую сервер-источник открывается. Ниже выдержка из журнала nginx на источнике:\n\n"
          f"{LOG}\n\nЧто нам проверить? Заранее спасибо,\nИван, ООО «Ромашка»")


def test_home_page_suggests_public_titles_while_typing(page, shoot):
    page.goto("/en/")
    shoot(page, "home-en")
    page.fill("#q-big", "purge")
    option = page.locator(".ac-list li").first
    option.wait_for()
    assert "purge" in option.inner_text().lower()
    option.dispatch_event("mousedown")
    page.wait_for_url(re.compile(r"/en/article/"))


def test_search_in_chinese_and_open_a_result(page, shoot):
    page.goto("/zh/")
    page.fill("#q-big", "推流失败 怎么办")
    page.press("#q-big", "Enter")
    page.wait_for_url(re.compile(r"/zh/search"))
    assert page.locator(".result").count() >= 5
    assert page.locator(".result mark").count() >= 1
    shoot(page, "results-zh")
    page.locator(".result-title").first.click()
    page.wait_for_url(re.compile(r"/zh/article/live-push-failed"))
    assert "推流" in page.locator("h1").inner_text()


def test_search_in_russian_lands_on_the_section(page, shoot):
    page.goto("/ru/search?q=" + "как разрешить IP узлов CDN в межсетевом экране источника")
    first = page.locator(".result-title").first
    href = first.get_attribute("href")
    assert "/ru/article/" in href and "#" in href
    shoot(page, "results-ru")
    first.click()
    anchor = href.split("#", 1)[1]
    heading = page.locator(f"[id='{page.evaluate('decodeURIComponent', anchor)}']")
    assert heading.count() == 1 and heading.is_visible()


def test_search_in_english_open_switch_language_and_give_feedback(page, shoot):
    page.goto("/en/search?q=502 bad gateway from the cdn")
    page.locator(".result-title").first.click()
    page.wait_for_url(re.compile(r"/en/article/cdn-502-bad-gateway"))
    shoot(page, "article-en")
    page.locator(".read-in a[hreflang=zh]").click()
    page.wait_for_url(re.compile(r"/zh/article/cdn-502-bad-gateway"))
    assert "502" in page.locator("h1").inner_text() and page.locator(".read-in strong").inner_text() == "中文"
    shoot(page, "article-zh")
    page.locator(".feedback-buttons button[value=no]").click()
    page.wait_for_url(re.compile(r"feedback=no"))
    assert page.locator("#reason").is_visible()  # shown at once, not behind a link
    assert page.locator(".feedback-more a.button").inner_text() == "联系技术支持"
    assert page.locator(".feedback-more .article-item").count() >= 1
    shoot(page, "feedback-no-zh")
    page.fill("#reason", "步骤和控制台不一致")
    page.locator(".feedback-reason-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"feedback=thanks"))
    assert page.locator(".thanks").is_visible()


def test_fallback_article_is_labelled(page):
    page.goto("/ru/article/billing-refunds")
    assert page.locator(".notice-lang").is_visible()


def test_no_results_page(page, shoot):
    page.goto("/zh/search?q=purge cache&product=billing&tag=cdn")
    assert page.locator(".empty h1").is_visible()
    assert page.locator(".contact a").count() == 1
    shoot(page, "no-results-zh")


def test_help_center_works_without_javascript(browser, server):
    context = browser.new_context(java_script_enabled=False, base_url=server)
    page = context.new_page()
    page.goto("/ru/")
    page.fill("#q-big", "кэш не очищается")
    page.press("#q-big", "Enter")
    page.wait_for_url(re.compile(r"/ru/search"))
    page.select_option("#f-product", "cdn")
    page.locator(".filter-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"product=cdn"))
    page.locator(".result-title").first.click()
    page.wait_for_url(re.compile(r"/ru/article/"))
    page.locator(".feedback-buttons button[value=no]").click()
    page.wait_for_url(re.compile(r"feedback=no"))
    page.fill("#reason", "не нашёл, где очистить кэш для папки")
    page.locator(".feedback-reason-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"feedback=thanks"))
    assert page.locator(".thanks").is_visible()
    context.close()


def test_agent_pastes_a_long_russian_ticket_and_copies_a_section(page, shoot):
    log_in_as_agent(page)
    page.fill("#ticket", TICKET)
    page.locator("#ticket-form button[type=submit]").click()
    page.locator(".answer").first.wait_for()
    assert "Русский" in page.locator(".detected").inner_text()
    first = page.locator(".answer").first
    assert "cdn-502-bad-gateway" == first.get_attribute("data-article")
    first.locator("[data-copy-from]").click()
    first.locator("[data-copy-from][data-copied=true]").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    expected = first.locator("textarea").input_value()
    assert copied == expected and re.search("[а-я]", copied) and "<" not in copied
    first.locator("[data-copy]").click()
    first.locator("[data-copy][data-copied=true]").wait_for()
    link = first.locator("[data-copy]").get_attribute("data-copy")
    assert page.evaluate("navigator.clipboard.readText()") == link and "/ru/article/cdn-502-bad-gateway" in link
    first.locator(".mark-form button[value=solved]").click()
    first.locator(".mark-done").wait_for()
    shoot(page, "agent")


def test_internal_articles_are_invisible_to_a_visitor(page, server):
    secret = "internal-edgectl-tool"
    page.goto("/en/search?q=nimbus-edgectl trace tool for L2")
    assert secret not in page.content()
    response = page.goto(f"/en/article/{secret}")
    assert response.status == 404
    missing = page.goto("/en/article/no-such-article")
    assert missing.status == 404
    api = page.request.get(f"{server}/api/articles/{secret}")
    assert api.status == 404 and api.json()["error"]["status"] == 404
    for path in ("/en/article/cdn-502-bad-gateway", "/zh/article/cdn-502-bad-gateway", "/en/"):
        page.goto(path)
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
        assert not [h for h in hrefs if "internal-" in h], path
    page.goto("/en/")
    page.fill("#q-big", "nimbus-edgectl")
    page.locator(".ac-list li").first.wait_for()  # suggestions came back: none of them internal
    titles = page.locator(".ac-list li").all_inner_texts()
    assert titles and not [t for t in titles if "edgectl" in t.lower()]
    assert secret not in page.content()
