"""axe-core in a real browser on every page type: no serious and no critical accessibility violation.

axe-core is vendored in tests/data/axe (from the npm registry, see its README) and injected into the page
under test only; the app never serves it. Each page is checked as a visitor, an agent or a writer sees it,
in the state a person meets it in (results shown, a menu open). A failure lists each rule, its help text and
the first elements it found, so the fix can start from the message.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.browser_support import ACCOUNTS, log_in_as_agent, serving
from tests.support import PASSWORD, ROOT, accounts_at, copy_index

AXE = Path(__file__).parent / "data" / "axe" / "axe.min.js"
BLOCKING = ("serious", "critical")
ADMIN = "axe-admin"


@pytest.fixture
def page(browser, server):
    """A desktop page like tests/browser_support.py's, whose Content-Security-Policy lets the test inject axe
    (the site's own policy forbids inline scripts, as it should)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server, locale="en-US",
                                  bypass_csp=True)
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


def violations(page) -> list[dict]:
    """axe's serious and critical violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [v for v in found if v["impact"] in BLOCKING]


def assert_accessible(page, what: str):
    found = violations(page)
    report = [f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(str(n["target"]) for n in v["nodes"][:4])
              for v in found]
    assert not found, f"{what} ({page.url}):\n" + "\n".join(report)


def test_axe_is_the_vendored_4x_release(page):
    page.goto("/en/")
    page.add_script_tag(path=str(AXE))
    assert page.evaluate("axe.version").startswith("4.")


@pytest.mark.parametrize("path", [
    "/en/", "/zh/", "/ru/",
    "/en/search?q=502 bad gateway from the cdn",  # results
    "/zh/search?q=推流失败",
    "/ru/search?q=purge cache&product=billing&tag=cdn",  # no results, closest articles and contact
    "/en/search?q=how do I bake sourdough bread",  # not answered
    "/en/article/cdn-502-bad-gateway",  # code blocks in a numbered list, table
    "/zh/article/cdn-purge-cache",  # the outdated-translation notice
    "/ru/article/billing-refunds",  # shown in another language, with its note
    "/en/article/rtc-web-browser-support",
    "/en/category/cdn", "/zh/category/rtc", "/ru/category/cdn/cache",
    "/auth/login",
    "/en/contact/", "/zh/contact/?subject=推流失败",  # the contact form, with suggestions for a subject
    "/en/article/no-such-article",  # the 404 page
])
def test_public_pages_have_no_serious_or_critical_violations(page, path):
    page.goto(path)
    assert_accessible(page, path)


def test_open_language_menu_and_autocomplete_have_no_serious_violations(page):
    page.goto("/zh/")
    page.locator("details.langmenu summary").click()
    assert_accessible(page, "language menu open")
    page.keyboard.press("Escape")
    page.fill("#q-big", "purge")
    page.locator(".ac-list li").first.wait_for()
    assert_accessible(page, "autocomplete open")


def test_feedback_no_and_a_sent_contact_request_have_no_serious_violations(page):
    page.goto("/ru/article/cdn-502-bad-gateway")
    page.locator(".feedback-buttons button[value=no]").click()
    page.wait_for_url(re.compile(r"feedback=no"))
    assert_accessible(page, "after No: reason, related articles, contact")
    page.goto("/en/contact/")
    page.fill("#subject", "CDN returns 502 since this morning")
    page.locator(".suggestions li a, .suggestions a").first.wait_for()
    assert_accessible(page, "contact form with suggestions")


def test_phone_width_pages_have_no_serious_violations(browser, server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=server, locale="ru-RU",
                                  bypass_csp=True)
    page = context.new_page()
    for path in ("/ru/", "/ru/article/cdn-502-bad-gateway", "/ru/category/cdn"):
        page.goto(path)
        assert_accessible(page, f"phone {path}")
    context.close()


def test_agent_pages_have_no_serious_or_critical_violations(page):
    log_in_as_agent(page)
    assert_accessible(page, "agent, empty")
    page.fill("#ticket", "Our CDN returns 502 Bad Gateway since this morning; the origin works directly.")
    page.locator("#ticket-form button[type=submit]").click()
    page.locator(".answer").first.wait_for()
    assert_accessible(page, "agent, answers")
    page.goto("/agent/article/internal-edgectl-tool")
    assert_accessible(page, "agent, internal article")


def test_writers_pages_have_no_serious_or_critical_violations(page):
    page.goto("/auth/login?next=/writers/")
    page.fill("#username", ACCOUNTS["writer"])
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r"/writers/$"))
    assert_accessible(page, "writers, overview")
    for path in ("/writers/translations", "/writers/stale", "/writers/gaps", "/writers/article/cdn-purge-cache",
                 "/insights/", "/insights/?bucket=day"):
        assert page.goto(path).status == 200, path
        assert_accessible(page, path)


def test_the_admins_audit_log_and_a_locked_sign_in_have_no_serious_or_critical_violations(page, web_index):
    from tests.support import accounts_at

    accounts_at(web_index / "activity.sqlite").add_user("axe-admin", PASSWORD, "admin")
    page.goto("/auth/login?next=/admin/audit")
    page.fill("#username", "axe-admin")
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/audit$"))
    assert_accessible(page, "admin, audit log")
    page.context.clear_cookies()
    for _ in range(6):  # an unknown name locks like a real one
        page.goto("/auth/login")
        page.fill("#username", "axe-locked")
        page.fill("#password", "wrong-password")
        page.click("form.stack button[type=submit]")
    assert "Too many failed sign-ins" in page.locator(".notice-error").inner_text()
    assert_accessible(page, "login, account locked")


@pytest.fixture(scope="module")
def editing_server(web_index, tmp_path_factory):
    """An app that may edit articles (a temporary copy of the sample's), for the writers' editor pages."""
    from web import create_app

    root = tmp_path_factory.mktemp("axe-editor")
    shutil.copytree(ROOT / "articles", root / "articles")
    index = copy_index(web_index, root / "index")
    accounts = accounts_at(index / "activity.sqlite")
    accounts.add_user(ACCOUNTS["writer"], PASSWORD, "writer")
    accounts.add_user(ADMIN, PASSWORD, "admin")
    app = create_app({"INDEX": str(index), "ARTICLES": str(root / "articles"), "RATELIMIT_ENABLED": False,
                      "SECRET_KEY": "axe-editor"})
    with serving(app) as base:
        yield base


def test_writers_editor_pages_have_no_serious_or_critical_violations(browser, editing_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=editing_server,
                                  locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    page.goto("/auth/login?next=/writers/")
    page.fill("#username", ACCOUNTS["writer"])
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r"/writers/$"))
    for path in ("/writers/articles", "/writers/articles?lang=zh&status=outdated", "/writers/articles?sort=status-zh&dir=desc",
                 "/writers/edit/cdn-cache-rules/en",
                 "/writers/edit/new", "/writers/edit/cdn-cache-rules/en/history", "/en/article/cdn-purge-cache",
                 "/writers/article/cdn-purge-cache?lang=zh",
                 "/writers/translate/cdn-cache-rules/zh", "/writers/translate/cdn-cache-rules/ru"):
        assert page.goto(path).status == 200, path
        assert_accessible(page, path)
    context.close()


def test_admin_audit_page_has_no_serious_or_critical_violations(browser, editing_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=editing_server,
                                  locale="ru-RU", bypass_csp=True)
    page = context.new_page()
    page.goto("/auth/login?next=/admin/audit")
    page.fill("#username", ADMIN)
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/audit$"))
    assert_accessible(page, "/admin/audit")
    context.close()
