"""Languages of the site: URL prefixes, the visitor's preferred language, UI translations.

The language comes from the URL (`/zh/...`), then the `kb_lang` cookie, then
Accept-Language. UI strings exist in the `UI_LANGUAGES`; a URL may also name
any language the knowledge base has public articles in (`/es/`): the
articles are then preferred in it and the interface falls back to English.

Catalogs (`translations/<lang>/LC_MESSAGES/messages.po`) are compiled at
start into a cache folder keyed by their content, so a fresh clone and
`pip install -e .` need no build step, and a stale .mo is never served. After changing UI strings:

    pybabel extract -F web/babel.cfg -k _ -k gettext -k ngettext:1,2 -o web/translations/messages.pot web
    pybabel update -i web/translations/messages.pot -d web/translations   # then translate, no compile step
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, g, request, url_for
from flask_babel import Babel, gettext
from werkzeug.routing import BaseConverter

from kb import languages

from .resources import get_searcher

UI_LANGUAGES = ("en", "zh", "ru")
DEFAULT = "en"
COOKIE = "kb_lang"
SOURCE = Path(__file__).parent / "translations"


class LangConverter(BaseConverter):
    """Two letters, optionally a region (`zh-CN`): never matches `api`, `agent` or `static`."""

    regex = r"[A-Za-z]{2}(?:[-_][A-Za-z0-9]{2,4})?"


def site_languages() -> list[str]:
    """UI languages first, then other languages the knowledge base has public articles in."""
    extra = sorted(get_searcher().languages("public") - set(UI_LANGUAGES))
    return list(UI_LANGUAGES) + extra


def canonical(code: str | None) -> str | None:
    """Our code for a URL language (`ZH`, `zh-cn` → `zh`), or None if the site has no such language."""
    try:
        c = languages.normalize(code)
    except Exception:
        return None
    return c if c in site_languages() else None


def preferred() -> str:
    """The visitor's language when the URL has none: cookie, then Accept-Language, then English."""
    cookie = canonical(request.cookies.get(COOKIE))
    if cookie:
        return cookie
    for value, _quality in request.accept_languages:
        c = canonical(value)
        if c:
            return c
    return DEFAULT


def ui_locale() -> str:
    lang = g.get("lang") or preferred()
    return lang if lang in UI_LANGUAGES else DEFAULT


def page_lang() -> str:
    """The language a page is in: the URL's, else the visitor's."""
    return g.get("lang") or preferred()


def home_url() -> str:
    return url_for("help_center.home", lang=page_lang())


def search_url() -> str:
    return url_for("help_center.search", lang=page_lang())


def site_name() -> str:
    return current_app.config["SITE_NAME"] or gettext("Help Center")


def switch_url(code: str) -> str:
    """This page in another language; pages without a language in the URL set the cookie and come back."""
    rule = request.url_rule
    if rule is not None and "lang" in rule.arguments and request.view_args is not None:
        args = {k: v for k, v in request.args.items() if k in ("q", "product", "tag")}
        return url_for(rule.endpoint, **{**request.view_args, "lang": code}, **args)
    return url_for("root.set_language", code=code, next=request.full_path if request.query_string else request.path)


def compile_catalogs(source: Path = SOURCE) -> Path:
    """Compile every messages.po to .mo in a cache folder named after their content; returns the folder."""
    pos = sorted(source.glob("*/LC_MESSAGES/messages.po"))
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in pos)).hexdigest()[:16]
    dest = Path(tempfile.gettempdir()) / f"polykb-translations-{digest}"
    for po in pos:
        mo = dest / po.relative_to(source).with_suffix(".mo")
        if mo.exists():
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as f:
            catalog = read_po(f)
        tmp = mo.with_name(f".messages.{os.getpid()}.mo")
        with tmp.open("wb") as f:
            write_mo(f, catalog)
        os.replace(tmp, mo)
    return dest


def init_app(app: Flask):
    app.url_map.converters["lang"] = LangConverter
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compile_catalogs())
    Babel(app, locale_selector=ui_locale)

    @app.context_processor
    def language_context():
        return {"lang_names": languages.NAMES, "site_languages": site_languages, "ui_locale": ui_locale,
                "page_lang": page_lang, "switch_url": switch_url, "home_url": home_url, "search_url": search_url,
                "site_name": site_name}

    @app.after_request
    def remember_language(response):
        lang = g.get("lang")
        if lang and request.cookies.get(COOKIE) != lang and response.status_code < 400:
            response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                                secure=app.config["SESSION_COOKIE_SECURE"])
        return response
