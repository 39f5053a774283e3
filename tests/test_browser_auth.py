"""In a real browser: signing out ends a session copied to another browser, a locked account's message on the
login page, and the admins' audit log in en, zh and ru (desktop and phone screenshots in tests/artifacts)."""

from __future__ import annotations

import re
import uuid

from tests.browser_support import ACCOUNTS
from tests.support import PASSWORD, accounts_at


def sign_in(page, name, password=PASSWORD, then="/agent/"):
    page.goto("/auth/login?next=" + then)
    page.fill("#username", name)
    page.fill("#password", password)
    page.locator("form.stack button[type=submit]").click()


def test_signing_out_ends_the_same_session_copied_into_another_browser(browser, server, page, shoot):
    sign_in(page, ACCOUNTS["agent"])
    page.wait_for_url(re.compile(r"/agent/$"))
    other = browser.new_context(base_url=server)
    other.add_cookies([{"name": c["name"], "value": c["value"], "url": server}
                       for c in page.context.cookies() if c["name"] == "session"])
    stolen = other.new_page()
    stolen.goto("/agent/")
    assert stolen.url.endswith("/agent/")  # the copy works while the session lives
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/en/$"))
    stolen.goto("/agent/")
    assert "/auth/login" in stolen.url
    other.close()


def test_a_locked_account_is_told_when_to_try_again(page, shoot):
    name = f"browser-locked-{uuid.uuid4().hex[:6]}"  # no such account: it locks all the same
    for _ in range(5):
        sign_in(page, name, "wrong-password")
        assert page.locator(".notice-error").inner_text() == "Wrong user name or password."
    sign_in(page, name, "wrong-password")
    notice = page.locator(".notice-error").inner_text()
    assert re.fullmatch(r"Too many failed sign-ins for this account\. Try again in \d+ seconds?\.", notice), notice
    shoot(page, "login-locked")


def test_the_audit_log_for_admins_in_three_languages(page, shoot, web_index):
    admin = f"browser-admin-{uuid.uuid4().hex[:6]}"
    accounts_at(web_index / "activity.sqlite").add_user(admin, PASSWORD, "admin")
    sign_in(page, "nobody-at-all", "wrong-password")
    sign_in(page, admin, then="/admin/audit")
    page.wait_for_url(re.compile(r"/admin/audit$"))
    rows = page.locator("#audit tbody tr")
    assert rows.first.inner_text().split("\t")[1:3] == ["Signed in", admin]
    assert page.locator("#audit tr.audit-login_failed", has_text="nobody-at-all").count() >= 1
    shoot(page, "audit-en")
    page.select_option("#f-event", "login_failed")
    page.get_by_role("button", name="Apply").click()
    assert page.locator("#audit tbody tr.audit-login").count() == 0
    for lang, title in (("zh", "审计日志"), ("ru", "Журнал аудита")):
        page.goto(f"/language/{lang}?next=/admin/audit")
        assert page.locator("h1").inner_text() == title
        shoot(page, f"audit-{lang}")
