"""Sessions, CSRF, rate limits, roles and API tokens.

- Sessions are Flask's signed cookies (HttpOnly, SameSite=Lax, Secure when
  KB_SESSION_COOKIE_SECURE); they hold the user name only, and the role is
  read from the accounts (kb.storage) on each request, so removing a user or
  changing a role takes effect at once.
- Every HTML form carries a CSRF token (Flask-WTF). The JSON API is exempt:
  it takes bearer tokens, or an agent session with a JSON body, which a
  cross-site form cannot send.
- Rate limits are fixed windows per client address (the `limits` package
  that Flask-Limiter uses); limits come from the RATELIMIT_* settings, e.g.
  KB_RATELIMIT_SEARCH="30 per minute". They are kept in memory, which is
  right for `kb serve` (one process, threads); several server processes
  share them through KB_RATELIMIT_STORAGE_URI, e.g. redis://host:6379.
"""

from __future__ import annotations

import functools
import re
import time

import nh3
from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFProtect
from limits import parse
from limits.errors import ConfigurationError
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from markupsafe import Markup
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import TooManyRequests, Unauthorized

from kb.errors import ConfigError

from .resources import get_accounts

csrf = CSRFProtect()
STAFF = ("agent", "admin")


def init_app(app: Flask):
    app.wsgi_app = _QuotedQueryString(app.wsgi_app)
    csrf.init_app(app)
    app.jinja_env.filters["snippet"] = safe_snippet
    uri = app.config["RATELIMIT_STORAGE_URI"]
    try:
        storage = storage_from_string(uri)
    except ConfigurationError as e:
        raise ConfigError(f"RATELIMIT_STORAGE_URI {uri!r}: {e}") from None
    app.extensions["polykb_limits"] = FixedWindowRateLimiter(storage)

    @app.before_request
    def load_user():
        g.user, g.role = None, None
        name = session.get("user")
        if name:
            role = get_accounts().user_role(name)
            if role is None:  # removed since they signed in
                session.clear()
            else:
                g.user, g.role = name, role

    @app.after_request
    def security_headers(response):
        h = response.headers
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Content-Security-Policy",
                     "default-src 'self'; img-src 'self' https: data:; object-src 'none'; base-uri 'self';"
                     " frame-ancestors 'none'; form-action 'self'")
        if g.get("user"):
            h["Cache-Control"] = "private, no-store"
        return response


class _QuotedQueryString:
    r"""WSGI middleware: raw bytes in the query string (non-UTF-8, control characters) arrive percent-encoded.

    Browsers encode them, but any client can send `?q=\xff` raw; Werkzeug then fails to decode
    `request.args`, and even the error page (500) cannot be drawn.
    """

    _UNSAFE = re.compile(rb"[^\x21-\x7e]")

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        raw = environ.get("QUERY_STRING", "").encode("latin-1", "replace")
        if self._UNSAFE.search(raw):
            environ["QUERY_STRING"] = self._UNSAFE.sub(lambda m: b"%%%02X" % m.group()[0], raw).decode("ascii")
        return self.wsgi_app(environ, start_response)


def safe_next(value: str | None) -> str | None:
    r"""A path on this site to return to, or None: never `//evil.example`, `https://...` or `/\evil`.

    Control characters are refused too: browsers drop tabs and newlines from a
    Location, so `/\t/evil.example` would be `//evil.example`, and a newline
    cannot go into a header at all.
    """
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    if any(ch < " " or ch == "\x7f" for ch in value):
        return None
    return value


def safe_snippet(snippet: str) -> Markup:
    """A search snippet is escaped text with <mark>; keep exactly that, whatever it holds."""
    return Markup(nh3.clean(snippet or "", tags={"mark"}, attributes={}))


def rate_limit(setting: str):
    """Limit a view per client address by the RATELIMIT_<setting> string ("10 per minute"); 429 when over."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            check_rate(setting)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def check_rate(setting: str):
    cfg = current_app.config
    if not cfg["RATELIMIT_ENABLED"]:
        return
    limit = parse(cfg[f"RATELIMIT_{setting}"])
    limiter = current_app.extensions["polykb_limits"]
    key = request.remote_addr or "unknown"
    if not limiter.hit(limit, setting.lower(), key):
        reset = limiter.get_window_stats(limit, setting.lower(), key).reset_time
        raise TooManyRequests(_("Too many requests. Please wait a minute and try again."),
                              retry_after=max(1, int(reset - time.time()) + 1))


def login_user(name: str):
    session.clear()  # a fresh session on login: no fixation
    session.permanent = True
    session["user"] = name


def logout_user():
    session.clear()


def staff_required(view):
    """Agents and admins only: others are sent to the login page (403 if signed in with another role)."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.user is None:
            return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))
        if g.role not in STAFF:
            abort(403, _("This page is for support agents."))
        return view(*args, **kwargs)

    return wrapped


def api_caller() -> str:
    """Who calls a protected API route: `token:<name>` or `user:<name>`; 401 otherwise."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("use 'Authorization: Bearer <token>'; create a token with `kb token add NAME`",
                               www_authenticate=WWWAuthenticate("Bearer"))
        name = get_accounts().check_token(token.strip())
        if name is None:
            raise Unauthorized("the API token is not valid or was revoked", www_authenticate=WWWAuthenticate("Bearer", {"error": "invalid_token"}))
        return f"token:{name}"
    if g.user is not None and g.role in STAFF:
        return f"user:{g.user}"
    raise Unauthorized("this endpoint needs an API token (Authorization: Bearer <token>) or an agent session",
                       www_authenticate=WWWAuthenticate("Bearer"))
