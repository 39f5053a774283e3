"""Languages of the site: URL prefixes, the visitor's preferred language, UI translations.

The language comes from the URL (`/zh/...`), then the `kb_lang` cookie, then
Accept-Language. UI strings exist in the `UI_LANGUAGES`; a URL may also name
any language the knowledge base has public articles in (`/es/`): the
articles are then preferred in it and the interface falls back to English.

Catalogs (`translations/<lang>/LC_MESSAGES/messages.po`) are compiled at
start in memory, never to disk: a fresh clone and `pip install -e .` need no
build step, a stale .mo is never served, and no file another local user could
plant (a shared temporary folder, a writable cache) is ever read as a
translation. Compiled catalogs are kept per process, keyed by the .po files'
content, so app factories in one process compile once. After changing UI strings:

    pybabel extract -F web/babel.cfg -k _ -k gettext -k ngettext:1,2 -o web/translations/messages.pot web
    pybabel update -i web/translations/messages.pot -d web/translations   # then translate, no compile step
"""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path
from urllib.parse import quote

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, abort, current_app, g, redirect, request, url_for
from flask_babel import Babel, Domain, get_locale, gettext
from werkzeug.routing import BaseConverter

from kb.text import languages

from web.services.resources import get_searcher

UI_LANGUAGES = ("en", "zh", "ru")
DEFAULT = "en"
COOKIE = "kb_lang"
SOURCE = Path(__file__).parent.parent / "translations"  # web/translations


class LangConverter(BaseConverter):
    """Two letters, optionally a region (`zh-CN`): never matches `api`, `agent` or `static`."""

    regex = r"[A-Za-z]{2}(?:[-_][A-Za-z0-9]{2,4})?"


def site_languages() -> list[str]:
    """UI languages first, then other languages the knowledge base has public articles in, and the other
    script of Chinese in either (zh-Hant readers get zh articles converted, and the zh interface)."""
    have = get_searcher().languages("public")
    have = have | {languages.SIBLING[lang] for lang in have if lang in languages.SIBLING}
    return list(UI_LANGUAGES) + sorted(have - set(UI_LANGUAGES))


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
    """The interface's language: the page's, else its sibling script's (zh for zh-Hant), else English."""
    lang = g.get("lang") or preferred()
    if lang not in UI_LANGUAGES:
        lang = languages.SIBLING.get(lang, DEFAULT)
    return lang if lang in UI_LANGUAGES else DEFAULT


def lang_label(code: str | None) -> str:
    """A language's name in the interface's language, for inside a sentence ("暂无英语版本", not "暂无English版本");
    the native names (`lang_names`) stay for links a reader picks their own language from."""
    if not code:
        return ""
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(ui_locale())
    except (ValueError, UnknownLocaleError):
        name = None
    return name or languages.NAMES.get(code, code)


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


_COMPILED: dict[str, dict[str, Translations]] = {}
_COMPILED_LOCK = threading.Lock()


def compile_catalogs(source: Path = SOURCE) -> dict[str, Translations]:
    """Every `<lang>/LC_MESSAGES/messages.po` under `source` compiled in memory: {lang: translations}."""
    pos = sorted(source.glob("*/LC_MESSAGES/messages.po"))
    texts = [p.read_bytes() for p in pos]
    digest = hashlib.sha256(b"\0".join(str(p.relative_to(source)).encode() + b"\0" + t
                                        for p, t in zip(pos, texts))).hexdigest()
    with _COMPILED_LOCK:
        found = _COMPILED.get(digest)
        if found is None:
            found = _COMPILED[digest] = {p.relative_to(source).parts[0]: _compiled(t) for p, t in zip(pos, texts)}
    return found


def _compiled(po_text: bytes) -> Translations:
    mo = io.BytesIO()
    write_mo(mo, read_po(io.BytesIO(po_text)))
    mo.seek(0)
    return Translations(fp=mo)


class CompiledDomain(Domain):
    """Flask-Babel's domain, answering from the catalogs compiled in memory instead of .mo files on disk."""

    def __init__(self, catalogs: dict[str, Translations]):
        super().__init__(translation_directories=[])
        self.catalogs = catalogs

    def get_translations(self):
        locale = get_locale()
        return self.catalogs.get(str(locale)) or NullTranslations()


def init_app(app: Flask):
    app.url_map.converters["lang"] = LangConverter
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    babel = Babel(app, locale_selector=ui_locale)
    babel.domain_instance = CompiledDomain(compile_catalogs())  # the default domain: no .mo file is ever read

    @app.context_processor
    def language_context():
        return {"lang_names": languages.NAMES, "site_languages": site_languages, "ui_locale": ui_locale,
                "page_lang": page_lang, "lang_label": lang_label, "switch_url": switch_url, "home_url": home_url, "search_url": search_url,
                "site_name": site_name}

    @app.after_request
    def remember_language(response):
        lang = g.get("lang")
        if lang and request.cookies.get(COOKIE) != lang and response.status_code < 400:
            response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                                secure=app.config["SESSION_COOKIE_SECURE"])
        return response


def use_language_prefix(bp, enabled=lambda: True):
    """Serve `bp` under `/<lang>/`: the prefix pulled into g.lang and put back into url_for; an unknown
    language is a 404, a non-canonical spelling (/ZH/, /zh-CN/) a redirect to the canonical one, the same
    for every path, existing or not. `enabled()` False makes every page of `bp` a 404."""

    @bp.url_value_preprocessor
    def pull_lang(endpoint, values):
        g.url_lang = values.pop("lang")
        g.lang = canonical(g.url_lang)

    @bp.url_defaults
    def add_lang(endpoint, values):
        if "lang" not in values and g.get("lang"):
            values["lang"] = g.lang

    @bp.before_request
    def check_lang():
        if not enabled() or g.lang is None:
            abort(404)
        if g.url_lang != g.lang:
            path = quote(request.path.replace(f"/{g.url_lang}", f"/{g.lang}", 1), safe="/")  # %0A stays %0A
            qs = request.query_string.decode()
            return redirect(path + (f"?{qs}" if qs else ""), 301 if request.method == "GET" else 308)
        return None
