"""Sessions, CSRF, rate limits, roles and API tokens.

- Sessions are Flask's signed cookies (HttpOnly, SameSite=Lax, Secure when
  KB_SESSION_COOKIE_SECURE); they hold the user name and the account's
  session generation when they signed in. Each request reads the role and the
  current generation from the accounts, so a role change takes effect at once,
  and logging out, a password change (`kb user passwd`), `kb user logout` or
  removing the user moves the generation on (or drops the account), which
  ends every session of that user at once, copied cookies included.
- Every HTML form carries a CSRF token (Flask-WTF). The JSON API is exempt:
  it takes bearer tokens, or an agent session with a JSON body, which a
  cross-site form cannot send.
- Rate limits are fixed windows (the `limits` package that Flask-Limiter
  uses); limits come from the RATELIMIT_* settings, e.g.
  KB_RATELIMIT_SEARCH="30 per minute". They count per signed-in user or API
  token, else per client address, so agents behind one office address do not
  share a budget. Every form post is limited (FORMS, unless its view has a
  limit of its own), and so is every failed authentication (FAILED_AUTH, per
  address: wrong logins, bad or missing API tokens). They are kept in memory,
  which is right for `kb serve` (one process, threads); several server
  processes share them through KB_RATELIMIT_STORAGE_URI, e.g. redis://host:6379.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import nh3
from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFProtect
from limits.errors import ConfigurationError
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from markupsafe import Markup
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import TooManyRequests, Unauthorized

from kb.errors import ConfigError
from kb.storage.accounts import ADMIN, EDITORS, ROLES, STAFF

from web.services.resources import get_accounts, get_audit

csrf = CSRFProtect()


def init_app(app: Flask):
    app.wsgi_app = _QuotedQueryString(app.wsgi_app)
    app.jinja_env.filters["snippet"] = safe_snippet
    app.jinja_env.globals.update(STAFF=STAFF, EDITORS=EDITORS, ADMIN=ADMIN)  # the menu shows what a role may open
    uri = app.config["RATELIMIT_STORAGE_URI"]
    try:
        storage = storage_from_string(uri)
    except ConfigurationError as e:
        raise ConfigError(f"RATELIMIT_STORAGE_URI {uri!r}: {e}") from None
    app.extensions["polykb_limits"] = FixedWindowRateLimiter(storage)
    app.before_request(load_user)
    app.before_request(limit_every_form)  # per user, so after load_user; before CSRF's check (registered next),
    csrf.init_app(app)                    # so refused posts count too

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


def load_user():
    """The signed-in user and role, or None: a session whose generation is no longer current is dropped."""
    g.user, g.role = None, None
    name = session.get("user")
    if name:
        role = get_accounts().session_role(name, session.get("gen"))
        if role is None:  # removed, signed out everywhere or password changed since they signed in
            session.clear()
        else:
            g.user, g.role = name, role


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
    """Limit a view by the RATELIMIT_<setting> ("10 per minute"); 429 when over."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            check_rate(setting)
            return view(*args, **kwargs)

        return limited_in_view(wrapped)

    return decorator


def limited_in_view(view):
    """Mark a view that checks its own limits, so the FORMS limit of every other form post leaves it alone."""
    view.rate_limited = True
    return view


def limit_every_form():
    """Every form post (any POST outside the JSON API, whose routes each have a limit) counts against FORMS."""
    if request.method != "POST" or request.blueprint == "api":
        return
    view = current_app.view_functions.get(request.endpoint)
    if view is not None and not getattr(view, "rate_limited", False):
        check_rate("FORMS")


def client_address() -> str:
    return request.remote_addr or "unknown"


def rate_key() -> str:
    """Whom a limit counts: the API token or signed-in user when there is one, else the client address."""
    caller = g.get("api_caller")
    if caller is not None:
        return str(caller)
    if g.get("user"):
        return f"user:{g.user}"
    return client_address()


def check_rate(setting: str, key: str | None = None):
    """Count one request against RATELIMIT_<setting> for `key` (default `rate_key()`); 429 when over."""
    cfg = current_app.config
    if not cfg["RATELIMIT_ENABLED"]:
        return
    limit = cfg[f"RATELIMIT_{setting}"]  # parsed at start (kb/settings.py)
    limiter = current_app.extensions["polykb_limits"]
    key = rate_key() if key is None else key
    if not limiter.hit(limit, setting.lower(), key):
        _too_many(limiter, limit, setting, key)


def check_failed_auth():
    """429 if this client address has used up its failed authentications (RATELIMIT_FAILED_AUTH); counts nothing.

    Called before a password is checked: once over, an address cannot try more passwords for any account
    until the window ends, while logins that succeed never count."""
    cfg = current_app.config
    if not cfg["RATELIMIT_ENABLED"]:
        return
    limit = cfg["RATELIMIT_FAILED_AUTH"]
    limiter = current_app.extensions["polykb_limits"]
    if not limiter.test(limit, "failed_auth", client_address()):
        _too_many(limiter, limit, "FAILED_AUTH", client_address())


def count_failed_auth():
    """One failed authentication from this address: 429 instead of the caller's 401 once over the limit."""
    check_rate("FAILED_AUTH", client_address())


def _too_many(limiter, limit, setting: str, key: str):
    reset = limiter.get_window_stats(limit, setting.lower(), key).reset_time
    raise TooManyRequests(_("Too many requests. Please wait a minute and try again."),
                          retry_after=max(1, int(reset - time.time()) + 1))


def login_user(name: str, generation: int):
    session.clear()  # a fresh session on login: no fixation
    session.permanent = True
    session["user"] = name
    session["gen"] = generation


def logout_user():
    session.clear()


def role_required(roles: tuple[str, ...], message: Callable[[], str], come_back: bool = True):
    """A blueprint's before_request: visitors go to the sign-in page, signed-in users of other roles get a 403.

    `message` is called per refusal, so the 403 is in the visitor's language. `come_back=False` when the
    blueprint only takes form posts: the sign-in page would otherwise return to a URL that cannot be opened.
    """

    def check():
        if g.user is None:
            back = (request.full_path if request.query_string else request.path) if come_back else None
            return redirect(url_for("auth.login", next=back))
        if g.role not in roles:
            abort(403, message())
        return None

    return check


@dataclass(frozen=True)
class Caller:
    """Who calls a protected API route: an API token or a signed-in user, and the role they act with."""

    kind: str  # "token" or "user"
    name: str
    role: str  # tokens: "agent" or "writer"; users: their account's role

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


def api_caller(roles: tuple[str, ...] = STAFF) -> Caller:
    """The caller of a protected API route, also kept as `g.api_caller`: 401 without valid credentials, 403 when
    their role is not in `roles`. Failed token checks count against RATELIMIT_FAILED_AUTH (429 once over)."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            _unauthorized("use 'Authorization: Bearer <token>'; create a token with `kb token add NAME`")
        found = get_accounts().use_token(token.strip())
        if found is None:
            _unauthorized("the API token is not valid, has expired or was revoked", "invalid_token", audit=True)
        caller = Caller("token", found.name, found.role)
        if found.recorded:  # once a minute per token at most, with its last-used time
            get_audit().log("token_used", str(caller), request.path)
    elif g.user is not None and g.role in ROLES:
        caller = Caller("user", g.user, g.role)
    else:
        _unauthorized("this endpoint needs an API token (Authorization: Bearer <token>) or an agent session")
    if caller.role not in roles:
        abort(403, f"{caller} has the role {caller.role!r}; this endpoint needs one of {list(roles)}")
    g.api_caller = caller
    return caller


def _unauthorized(message: str, error: str | None = None, audit: bool = False):
    count_failed_auth()  # 429 from here once the address is over the limit: nothing more written
    if audit:
        get_audit().log("token_refused", None, request.path)
    raise Unauthorized(message, www_authenticate=WWWAuthenticate("Bearer", {"error": error} if error else None))
