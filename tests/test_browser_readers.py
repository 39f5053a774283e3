"""What a reader meets beyond search, in a real browser: the outdated-translation notice, browsing by product
and topic, featured articles on a fresh home page, code blocks (copy button, numbering, sideways scroll,
keyboard) and the language menu's Escape key.

The server serves the sample indexed with the real model (tests/browser_support.py). Screenshots, desktop and
phone, in zh, ru and en, go to tests/artifacts/test_browser_readers/ for a person to look at.
"""

from __future__ import annotations

import re

import pytest

from tests.browser_support import serving
from tests.support import copy_index, wait_until


@pytest.fixture(scope="module")
def fresh_server(web_index, tmp_path_factory):
    """The sample on a server of its own with an empty activity log: a fresh install, before any traffic."""
    from web import create_app

    index = copy_index(web_index, tmp_path_factory.mktemp("fresh") / "index")
    app = create_app({"INDEX": str(index), "RATELIMIT_ENABLED": False, "SECRET_KEY": "fresh-install"})
    with serving(app) as base:
        yield base


def test_chinese_purge_article_warns_that_it_is_out_of_date_and_links_the_english(page, shoot):
    page.goto("/zh/article/cdn-purge-cache")
    notice = page.locator(".notice-outdated")
    assert notice.is_visible()
    text = notice.inner_text()
    assert "此译文可能已过时" in text and "英语 原文" in text and "2026年11月12日" in text  # the name in Chinese
    shoot(page, "outdated-zh")
    notice.locator("a").click()
    page.wait_for_url(re.compile(r"/en/article/cdn-purge-cache$"))
    assert page.locator(".notice-outdated").count() == 0  # the source itself is not out of date
    assert "/v2/cdn/cache/purge" in page.locator(".prose").inner_text()


def test_russian_firewall_ports_warns_in_russian_and_cosmetic_drift_shows_nothing(page, shoot):
    page.goto("/ru/article/rtc-firewall-ports")
    assert "Этот перевод может быть устаревшим" in page.locator(".notice-outdated").inner_text()
    shoot(page, "outdated-ru")
    page.goto("/zh/article/cdn-cname-setup")  # the source only fixed a typo
    assert page.locator(".notice-outdated").count() == 0
    page.goto("/ru/article/cdn-cname-setup")
    assert page.locator(".notice-outdated").count() == 0


def test_fresh_home_shows_featured_not_a_copy_of_recent_and_browses_to_a_topic(page, shoot, fresh_server):
    page.goto(fresh_server + "/en/")
    lists = page.locator(".home-lists section.card")
    featured = lists.filter(has=page.locator("h2", has_text="Featured articles"))
    recent = lists.filter(has=page.locator("h2", has_text="Recently updated"))
    first = [a.get_attribute("href") for a in featured.locator(".article-item a").all()]
    second = [a.get_attribute("href") for a in recent.locator(".article-item a").all()]
    assert first and second and first != second
    assert "/en/article/cdn-502-bad-gateway" in first
    shoot(page, "home-en")
    page.locator(".category-card", has_text="CDN acceleration").click()
    page.wait_for_url(re.compile(r"/en/category/cdn$"))
    assert page.locator("h1").inner_text() == "CDN acceleration"
    headings = page.locator(".category-sections h2").all_inner_texts()
    assert "Errors" in headings and "Caching" in headings and not [h for h in headings if h.islower()]
    assert page.locator(".badge-featured").count() >= 1
    shoot(page, "category-en")
    page.locator(".topic-chips a", has_text="Caching").click()
    assert page.locator("#topic-cache").is_visible()
    page.goto(fresh_server + "/en/category/cdn/cache")
    page.wait_for_url(re.compile(r"/en/category/cdn/cache$"))
    assert page.locator("h1").inner_text() == "Caching"
    assert page.locator(".article-item").count() >= 4
    assert page.locator(".crumbs a", has_text="CDN acceleration").count() == 1


def test_category_pages_in_chinese_and_russian_use_labels_and_hide_internal_articles(page, shoot):
    page.goto("/zh/")
    assert page.locator(".category-card", has_text="实时音视频").count() == 1
    shoot(page, "home-zh")
    page.goto("/zh/category/rtc")
    assert page.locator("h1").inner_text() == "实时音视频"
    assert "音频" in page.locator(".category-sections h2").all_inner_texts()
    shoot(page, "category-zh")
    page.goto("/ru/category/cdn")
    assert page.locator("h1").inner_text() == "Ускорение CDN"
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    assert not [h for h in hrefs if "internal" in h]
    shoot(page, "category-ru")
    page.locator(".article-item a").first.click()
    page.wait_for_url(re.compile(r"/ru/article/"))
    topics = page.locator(".article-topics a")
    assert topics.count() >= 1 and not re.fullmatch(r"[a-z0-9-]+", topics.first.inner_text())


def test_numbered_steps_go_on_after_a_code_block_and_code_can_be_copied(page, shoot):
    page.goto("/en/article/rtc-web-browser-support#safari-autoplay-policy")
    steps = page.locator("#safari-autoplay-policy ~ ol").first
    assert steps.locator(":scope > li").count() == 3  # one list: the code sits in step 2, step 3 is "3."
    assert steps.locator(":scope > li").nth(1).locator("pre").count() == 1
    button = steps.locator(".code-copy")
    assert button.inner_text() == "Copy"
    button.click()
    page.wait_for_function("window.kbLastCopied !== undefined")  # the clipboard write resolves after the click
    copied = page.evaluate("window.kbLastCopied")
    assert copied.startswith("NimbusRTC.onAutoplayFailed") and copied.rstrip().endswith("};")
    shoot(page, "code-en")


def test_wide_code_scrolls_sideways_with_the_keyboard_and_is_not_clipped(page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/ru/article/cdn-502-bad-gateway")
    pre = page.locator(".prose pre").first
    sizes = pre.evaluate("p => [p.scrollWidth, p.clientWidth, p.tabIndex, p.getAttribute('aria-label')]")
    assert sizes[0] > sizes[1], "the sample's curl line should be wider than a phone"
    assert sizes[2] == 0 and sizes[3] == "Код"
    pre.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('.prose pre').scrollLeft > 0")  # scrolling is animated
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1


def test_escape_closes_the_language_menu(page, shoot):
    page.goto("/ru/search?q=кэш не очищается")
    assert page.locator("h1").count() == 1
    menu = page.locator("details.langmenu")
    menu.locator("summary").click()
    assert menu.evaluate("d => d.open")
    shoot(page, "langmenu-ru")
    page.keyboard.press("Escape")
    assert not menu.evaluate("d => d.open")
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    name = menu.locator("summary").evaluate("s => s.textContent")
    assert "Русский" in name and "Язык" in name  # the accessible name holds the visible label


def test_on_desktop_the_contents_box_never_covers_the_related_articles(page, shoot):
    page.goto("/en/article/cdn-purge-cache")
    toc, related = page.locator(".toc-side"), page.locator(".article-aside .related")
    assert toc.is_visible() and related.is_visible()
    height = page.evaluate("document.documentElement.scrollHeight")
    for y in range(0, height, 300):  # scroll the whole article: the two boxes never overlap
        page.evaluate(f"window.scrollTo(0, {y})")
        a, b = toc.bounding_box(), related.bounding_box()
        assert a["y"] + a["height"] <= b["y"] + 1 or b["y"] + b["height"] <= a["y"] + 1, (y, a, b)
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight / 2)")
    assert toc.bounding_box()["y"] >= 0  # still in view halfway down: the aside sticks
    shoot(page, "article-aside-scrolled")


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_search_placeholder_fits_a_phone(browser, server, lang, artifacts):
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=server, locale=f"{lang}-RU")
    page = context.new_page()
    try:
        page.goto(f"/{lang}/")
        box = page.locator("#q-big")
        fits = page.evaluate("""(i) => { const cs = getComputedStyle(i), c = document.createElement('canvas')
            .getContext('2d'); c.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
            return c.measureText(i.placeholder).width <= i.clientWidth - parseFloat(cs.paddingLeft)
                - parseFloat(cs.paddingRight); }""", box.element_handle())
        assert fits and box.get_attribute("placeholder") == box.get_attribute("data-short-placeholder")
        page.screenshot(path=str(artifacts / f"search-placeholder-{lang}-phone.png"))
        page.set_viewport_size({"width": 1280, "height": 900})
        wait_until(lambda: len(box.get_attribute("placeholder")) > 30, 10, "the long placeholder on a wide screen")
    finally:
        context.close()


def test_the_contact_draft_survives_opening_a_suggestion_and_going_back(page, shoot):
    page.goto("/en/contact/")
    page.locator("#subject").press_sequentially("purge the cdn cache", delay=15)
    page.fill("#message", "Old files stay on the edge after a purge.")
    page.fill("#email", "ana@example.com")
    page.locator("#suggestions .article-item a").first.click()
    page.wait_for_url(re.compile(r"/en/article/"))
    page.go_back()
    page.wait_for_url(re.compile(r"/en/contact/"))
    assert page.locator("#subject").input_value() == "purge the cdn cache"
    assert page.locator("#message").input_value() == "Old files stay on the edge after a purge."
    assert page.locator("#email").input_value() == "ana@example.com"
    page.locator("#suggestions .article-item").first.wait_for()  # the suggestions for the restored subject
    shoot(page, "contact-draft-restored")
    page.locator(".contact-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/en/contact/sent/"))
    page.goto("/en/contact/")
    assert page.locator("#subject").input_value() == ""  # sent: the draft is gone
