"""Logging in and out. Accounts are created with `kb user add NAME --role agent|writer|admin`.

A login attempt is limited three ways before its password is checked: per
address and account name (RATELIMIT_LOGIN: guessing one account from an
office's shared address blocks that account there, not the colleagues), per
address for failures (RATELIMIT_FAILED_AUTH: one address trying many accounts),
and per account from anywhere (a lock that doubles with each failure in a row,
kb.storage.passwords.lockout_seconds, kept in the shared database so every server
process sees it). Unknown names are hashed and locked like real ones, so
neither the time taken nor the answer tells whether an account exists.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from kb.storage.accounts import ADMIN, AGENT, WRITER

from web.presentation import i18n
from web.services.resources import get_accounts, get_audit, get_login_locks
from web.services.security import check_failed_auth, check_rate, client_address, count_failed_auth, limited_in_view, login_user, logout_user, safe_next

bp = Blueprint("auth", __name__, url_prefix="/auth")
MAX_NAME = 200  # longer names are not accounts: cut before they reach the limit keys and the lock table


@bp.route("/login", methods=("GET", "POST"))
@limited_in_view
def login():
    next_url = safe_next(request.values.get("next"))
    error, status, headers = None, 200, {}
    if request.method == "POST":
        name = request.form.get("username", "").strip()[:MAX_NAME]
        password = request.form.get("password", "")
        check_rate("LOGIN", f"{client_address()}|{name.casefold()}")
        check_failed_auth()
        accounts, locks, cfg = get_accounts(), get_login_locks(), current_app.config
        wait = locks.wait(name) if name else 0
        if wait:
            get_audit().log("login_locked", name)
            error = ngettext("Too many failed sign-ins for this account. Try again in %(num)d second.",
                             "Too many failed sign-ins for this account. Try again in %(num)d seconds.", wait)
            return _page(error, next_url, 429, {"Retry-After": str(wait)})
        account = accounts.authenticate(name, password) if name and password else None
        if account is not None:
            locks.succeeded(name)
            get_audit().log("login", name)
            login_user(name, account.generation)
            if next_url:
                return redirect(next_url)
            landing = {AGENT: "agent.index", ADMIN: "agent.index", WRITER: "writers.index"}
            return redirect(url_for(landing.get(account.role, "root.index")))
        if name:
            locks.failed(name, cfg["LOGIN_LOCKOUT_AFTER"], cfg["LOGIN_LOCKOUT_MAX_SECONDS"])
        get_audit().log("login_failed", name or None)
        count_failed_auth()
        error, status = _("Wrong user name or password."), 401
    return _page(error, next_url, status, headers)


def _page(error, next_url, status, headers):
    username = request.form.get("username", "").strip()[:MAX_NAME] if request.method == "POST" else ""
    return render_template("auth/login.html", error=error, next=next_url or "", user=g.user,
                           username=username), status, headers


@bp.post("/logout")
def logout():
    """Sign out everywhere: every session of this user ends, on every device (their session generation moves on)."""
    if g.user is not None:
        get_accounts().end_sessions(g.user)
        get_audit().log("logout", g.user)
    logout_user()
    return redirect(url_for("help_center.home", lang=i18n.preferred()))
