"""The polykb web application: help center, agent assist, writers' reports, JSON API and accounts.

`create_app()` is the factory (flaskr's shape): defaults, then the instance
folder's `config.py` and `KB_*` environment variables (`KB_INDEX=/srv/kb`,
`KB_SECRET_KEY=...`), or a test config instead of both. Each audience has its
blueprint: `help_center` (public pages), `agent` (suggested answers),
`writers` (content-health reports), `insights` (charts for support leads), `editor` and `translating` (writers
edit articles in the browser), `workitems` (report rows assigned, resolved, snoozed), `contact` (the contact
form), `api` (JSON), `auth` (log in and out) and `admin` (the audit log). Blueprints never import each other; what
they share lives in `resources`, `security`, `i18n`, `answers` and `errors`.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask

# Every setting, its default and what it does; all can be set as KB_<NAME> in the environment.
DEFAULTS = {
    "INDEX": ".kb-index",  # index folder built by `kb index`; activity.sqlite and secret_key live there too
    "ARTICLES": None,  # the articles folder the writers' editor saves to (`kb serve --articles`); None: no editing
    "MODEL": None,  # embedding model spec; None: the one that built the index
    "DATABASE_URL": None,  # shared state (activity, accounts); None: sqlite:///<INDEX>/activity.sqlite
    "MIN_ANSWER_SCORE": None,  # 0-1: how sure a search must be to count as answered; None: the fitted default
    "SECRET_KEY": None,  # None: generated once and kept in <INDEX>/secret_key (mode 600); replicas must share one
    "REPLICA_NAME": None,  # sent as the X-KB-Replica header, so operators can tell which replica answered
    "SITE_NAME": None,  # shown in the header; None: "Help Center" in the visitor's language
    "CONTACT_URL": None,  # "contact support" link (no-answer page, "No" votes); None: the contact form, else CONTACT_ARTICLE
    "CONTACT_ARTICLE": "contact-support",  # article id used when CONTACT_URL is not set
    "CONTACT_FORM": True,  # the help center's own contact form (/<lang>/contact/), used when CONTACT_URL is not set
    "REQUEST_WEBHOOK": None,  # URL that receives each contact request as JSON (a helpdesk's intake), with retries
    "PAGE_SIZE": 10,  # results per page in the help center
    "MAX_QUERY_CHARS": 500,
    # What one search may cost (kb/search/budget.py), as changes to its defaults: {"embed_tokens": 256,
    # "embed_seconds": 4, "keyword_seconds": 3, "render_seconds": 2, "slots": <engines>, "slot_wait": 3}
    "SEARCH_BUDGET": None,  # longest public search query (agents may paste up to 20,000 characters)
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_SEARCH": "60 per minute",  # per client (user or address): help center search, suggestions, /api/search
    "RATELIMIT_FEEDBACK": "10 per minute",  # "Was this helpful?" votes, form and API
    "RATELIMIT_CONTACT": "5 per 10 minutes",  # contact requests sent
    "RATELIMIT_LOGIN": "10 per minute",  # login attempts per client address and account name
    "RATELIMIT_FAILED_AUTH": "30 per minute",  # failed logins and bad API tokens per address; then 429 there
    "RATELIMIT_FORMS": "30 per minute",  # every other form post (agent assist, marks, log out), per user or address
    "RATELIMIT_API": "120 per minute",  # /api/articles and /api/suggest (per token or user on /api/suggest)
    "LOGIN_LOCKOUT_AFTER": 5,  # failed logins in a row on one account (from any address) before it is locked
    "LOGIN_LOCKOUT_MAX_SECONDS": 900,  # the lock doubles with each further failure, 1 s, 2 s, ... up to this
    "RETENTION_DAYS": None,  # remove logged query, ticket and feedback text older than this (rows and counts stay)
    "AUDIT_RETENTION_DAYS": 365,  # delete audit events (sign-ins, token use, internal reads) older than this
    "VIEW_WINDOW_MINUTES": 30,  # an article view counts once per reader and article in this window
    "RATELIMIT_STORAGE_URI": "memory://",  # per process; several processes share e.g. redis://host:6379
    "PROXY_FIX": 0,  # number of trusted reverse proxies setting X-Forwarded-For/-Proto/-Host
    # Host names this site answers to, e.g. "kb.example.com,.example.org" (a leading dot: any subdomain). Set it
    # in production: a request for another host gets 400, so no absolute URL the API returns (search results,
    # articles, suggestions) ever carries a host a client made up. None: any host (development).
    "TRUSTED_HOSTS": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,  # set KB_SESSION_COOKIE_SECURE=true behind HTTPS
    "PERMANENT_SESSION_LIFETIME": dt.timedelta(hours=12),
    "WTF_CSRF_TIME_LIMIT": None,  # CSRF tokens live as long as the session: agents keep pages open
    "MAX_CONTENT_LENGTH": 1_000_000,
}


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the app; fails at once if the index is missing or corrupt."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("KB")
    else:
        app.config.from_mapping(test_config)
    app.config["TRUSTED_HOSTS"] = _host_list(app.config.get("TRUSTED_HOSTS"))
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    if app.config["PROXY_FIX"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from web.presentation import errors, i18n
    from web.services import resources, security

    resources.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)

    from web.blueprints import admin, agent, api, auth, contact, editor, help_center, insights, translating, workitems, writers

    app.register_blueprint(help_center.bp)
    app.register_blueprint(help_center.root)
    app.register_blueprint(agent.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(writers.bp)
    app.register_blueprint(contact.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(editor.bp)
    app.register_blueprint(translating.bp)
    app.register_blueprint(workitems.bp)
    app.register_blueprint(insights.bp)
    security.csrf.exempt(api.bp)  # the JSON API takes tokens or JSON bodies, never forms
    return app


def _host_list(value) -> list[str] | None:
    """KB_TRUSTED_HOSTS as a list for Flask (it reads TRUSTED_HOSTS itself): "a.com, .b.org" or a JSON list."""
    if value is None or value == "":
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    return [h.strip() for h in items if str(h).strip()] or None
