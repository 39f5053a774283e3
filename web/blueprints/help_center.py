"""The public help center: home, search, articles, feedback. No login; public articles only.

URLs carry the language: `/<lang>/`, `/<lang>/search?q=`, `/<lang>/article/<id>`.
The same paths without a language redirect to the visitor's language
(`root`). Every lookup here uses audience "public": an internal article
answers 404 exactly like an id that does not exist.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from kb.search import browse
from kb.search.logged import logged_search
from kb.text import chinese, fallback

from web.presentation import i18n
from web.services import media
from web.services.learning import reader_origin
from web.services.resources import count_view, get_activity, get_searcher, outdated_source, rendered_article
from web.services.security import rate_limit, safe_next

bp = Blueprint("help_center", __name__, url_prefix="/<lang:lang>")
root = Blueprint("root", __name__)

AUDIENCE = "public"
MAX_PAGE = 50
HOME_LIST = 8
CLOSEST = 3  # articles on the no-answer page


i18n.use_language_prefix(bp)


# --- without a language: redirect to the visitor's --------------------------

@root.get("/")
def index():
    return redirect(url_for("help_center.home", lang=i18n.preferred()))


@root.get("/search")
def search_redirect():
    return redirect(url_for("help_center.search", lang=i18n.preferred(), **_args("q", "product", "tag", "page")))


@root.get("/article/<article_id>")
def article_redirect(article_id):
    return redirect(url_for("help_center.article", lang=i18n.preferred(), article_id=article_id))


@root.get("/language/<lang:code>")
def set_language(code):
    """Remember a language for pages whose URL has none (agent, sign in), then go back."""
    lang = i18n.canonical(code)
    if lang is None:
        abort(404)
    response = redirect(safe_next(request.args.get("next")) or url_for("help_center.home", lang=lang))
    response.set_cookie(i18n.COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


# --- pages ------------------------------------------------------------------

@bp.get("/")
def home():
    """Search first; then the products to browse, the popular (or, before any traffic, featured) articles and
    the recently updated ones: on a fresh install the two lists differ instead of repeating each other."""
    gen = get_searcher().generation()
    popular, traffic = _popular(gen, g.lang)
    return render_template("home.html", products=browse.products(gen), popular=popular,
                           popular_is_featured=not traffic, recent=browse.recent(gen, g.lang, limit=HOME_LIST))


@bp.get("/category/<product>")
def category(product):
    """A product's articles, grouped by topic (kb.search.browse); 404 for a product no public article has."""
    if product != product.lower():
        return redirect(url_for(".category", product=product.lower()), 301)
    page = browse.product(get_searcher().generation(), product, g.lang)
    if page is None:
        abort(404, _("We couldn't find that category. It may have been renamed or removed."))
    return render_template("category.html", product=page, topic=None, articles=None)


@bp.get("/category/<product>/<topic>")
def topic(product, topic):
    """Every public article of a product with one tag."""
    if product != product.lower() or topic != topic.lower():
        return redirect(url_for(".topic", product=product.lower(), topic=topic.lower()), 301)
    gen = get_searcher().generation()
    articles = browse.topic(gen, product, topic, g.lang)
    if not articles:
        abort(404, _("We couldn't find that category. It may have been renamed or removed."))
    return render_template("category.html", product=browse.product(gen, product, g.lang), topic=topic,
                           articles=articles)


@bp.get("/search")
@rate_limit("SEARCH")
def search():
    """Results, or the no-answer page: the closest articles, labelled as such, and the contact link.

    The no-answer page shows when the search did not answer (`Response.answered`) or found nothing
    (with filters on, its closest articles come from a search without them). It logs the search as
    not answered, with the closest articles as what was shown.
    """
    q = request.args.get("q", "").strip()
    if not q:
        return redirect(url_for(".home"))
    limit = current_app.config["MAX_QUERY_CHARS"]
    if len(q) > limit:
        abort(400, _("Your search is %(n)d characters long; please shorten it to %(limit)d.", n=len(q), limit=limit))
    page = _page(request.args.get("page", "1"))
    product = request.args.get("product") or None
    tag = request.args.get("tag") or None
    size = current_app.config["PAGE_SIZE"]
    offset = (page - 1) * size

    def show(resp):  # a search that did not answer shows the closest articles, as such
        answered = resp.answered and resp.total > 0
        return (resp.results, True) if answered else (_closest(q, resp, offset, product, tag), False)

    found = logged_search(get_searcher(), get_activity(), q, route="help_center", audience=AUDIENCE, ui_lang=g.lang,
                          show=show, k=size, offset=offset, product=product, tags=[tag] if tag else None)
    resp, answered = found.response, found.answered
    pages = max(1, min(MAX_PAGE, -(-resp.total // size)))
    return render_template("search.html", q=q, resp=resp, answered=answered, page=page, pages=pages, offset=offset,
                           product=product, tag=tag, facets=_facets(), search_id=found.search_id,
                           closest=[] if answered else found.shown, contact_url=_contact_url())


def _closest(q, resp, offset, product, tag) -> list:
    """Up to CLOSEST articles for the no-answer page: this search's best, or, if the filters left none, the
    best of a search without them."""
    if resp.total and offset == 0:
        return resp.results[:CLOSEST]
    if resp.total:  # a later page of a search that did not answer: its first page's best
        return get_searcher().search(q, ui_lang=g.lang, k=CLOSEST, audience=AUDIENCE, product=product,
                                     tags=[tag] if tag else None).results
    if product or tag:
        return get_searcher().search(q, ui_lang=g.lang, k=CLOSEST, audience=AUDIENCE).results
    return []


@bp.get("/article/<article_id>")
def article(article_id):
    if article_id != article_id.lower():
        return redirect(url_for(".article", article_id=article_id.lower(), **_args("s", "r", "feedback", "fb")), 301)
    searcher = get_searcher()
    found = searcher.article(article_id, g.lang, AUDIENCE)
    if found is None:
        abort(404, _("We couldn't find that article. It may have been moved or removed."))
    row, body = found
    rendered = rendered_article(row, body, _resolver(), AUDIENCE, g.lang,  # converted when `converted`
                                media.resolver(row, "help_center.article_file", g.lang))
    converted = fallback.converted(row.lang, g.lang)  # a version in the other Chinese script (zh ↔ zh-Hant)
    versions = sorted(searcher.versions(article_id, AUDIENCE), key=lambda v: _lang_order(v.lang))
    related = searcher.related(article_id, g.lang, AUDIENCE, k=5)
    count_view(article_id, row.lang, g.lang, AUDIENCE)
    search_id, rank = _int_arg("s"), _int_arg("r")
    if search_id is not None:
        get_activity().log_click(search_id, article_id, row.lang, rank, origin=reader_origin())
    said_no = request.args.get("feedback") == "no" and _vote_id(request.args.get("fb", "")) is not None
    return render_template("article.html", row=row, html=rendered.html, toc=rendered.toc, versions=versions,
                           related=related, fallback=row.lang != g.lang, outdated=outdated_source(row, versions),
                           converted=converted, search_id=search_id, title=chinese.convert(row.title, g.lang) if converted else row.title,
                           topics=browse.topics_of(row), thanks=request.args.get("feedback") == "thanks",
                           said_no=said_no, vote_token=request.args.get("fb") if said_no else None,
                           contact_url=_contact_url(subject=row.title, article=article_id) if said_no else None)


@bp.get("/article/<article_id>/files/<path:path>")
def article_file(article_id, path):
    """An image or attachment the article shows, while the reader may see the article (web.services.media)."""
    found = get_searcher().article(article_id, g.lang, AUDIENCE)
    if found is None:
        abort(404)
    return media.send(*found, path)


@bp.post("/article/<article_id>/feedback")
@rate_limit("FEEDBACK")
def feedback(article_id):
    versions = {v.lang: v for v in get_searcher().versions(article_id, AUDIENCE)}
    if not versions:
        abort(404, _("We couldn't find that article. It may have been moved or removed."))
    helpful = request.form.get("helpful")
    if helpful not in ("yes", "no"):
        abort(400, _("Choose yes or no."))
    lang = request.form.get("version") or g.lang
    if lang not in versions:
        abort(400, _("This article has no version in that language."))
    reason = request.form.get("reason", "")[:1000]
    vote = get_activity().add_feedback(article_id, lang, helpful == "yes", reason, source="help_center",
                                       origin=reader_origin(), search_id=_int_form("s"))
    if helpful == "no" and not reason.strip():  # then ask what was missing, and offer help
        return redirect(url_for(".article", article_id=article_id, feedback="no", fb=_vote_token(vote),
                                _anchor="feedback"), 303)
    return redirect(url_for(".article", article_id=article_id, feedback="thanks", _anchor="feedback"), 303)


@bp.post("/article/<article_id>/feedback/reason")
@rate_limit("FEEDBACK")
def feedback_reason(article_id):
    """What was missing, after a "No": added to that vote (the signed `fb` names it), never a second vote."""
    vote = _vote_id(request.form.get("fb", ""))
    if vote is None:
        abort(400, _("This feedback form has expired. Please vote again."))
    get_activity().add_feedback_reason(vote, request.form.get("reason", "")[:1000])
    return redirect(url_for(".article", article_id=article_id, feedback="thanks", _anchor="feedback"), 303)


# --- helpers ----------------------------------------------------------------

def _args(*names) -> dict:
    """The query arguments a redirect keeps: these only, never `lang`, `article_id` or url_for's `_external`."""
    return {k: v for k, v in request.args.items() if k in names}


def _resolver():
    searcher = get_searcher()

    def resolve(article_id, anchor):
        if searcher.versions(article_id, AUDIENCE):
            return url_for("help_center.article", lang=g.lang, article_id=article_id, _anchor=anchor)
        return None

    return resolve


def _lang_order(code: str) -> tuple[int, str]:
    order = i18n.UI_LANGUAGES
    return (order.index(code) if code in order else len(order), code)


def _page(value: str) -> int:
    try:
        page = int(value)
    except ValueError:
        page = 0
    if not 1 <= page <= MAX_PAGE:
        abort(400, _("The page number must be between 1 and %(max)d.", max=MAX_PAGE))
    return page


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 12 else None


def _int_form(name: str) -> int | None:
    value = request.form.get(name, "")
    return int(value) if value.isdigit() and len(value) < 12 else None


def _public_articles():
    return get_searcher().store.articles(public_only=True)


def _facets() -> dict:
    products, tags = {}, {}
    for a in _public_articles():
        if a.product:
            products[a.product] = products.get(a.product, 0) + 1
        for t in a.tags:
            tags[t] = tags.get(t, 0) + 1
    # tags on a single article make a long, useless list
    return {"products": sorted(products), "tags": sorted(t for t, n in tags.items() if n >= 2)}


def _popular(gen, lang: str) -> tuple[list, bool]:
    """(most viewed public articles, views in this language counting double, then featured ones to fill the
    list; whether there was any traffic). Never filled with recently updated articles: those have their own
    list beside this one, and on a fresh install the two would be the same."""
    rows = get_activity().popular(lang, AUDIENCE)
    groups = browse.public_groups(gen)
    out = [browse.pick(groups[article_id], lang, gen.main_lang) for article_id, _n in rows if article_id in groups][:HOME_LIST]
    if len(out) < HOME_LIST:
        out += browse.featured(gen, lang, exclude={a.id for a in out}, limit=HOME_LIST - len(out))
    return out, bool(rows)


@bp.app_context_processor
def catalog_helpers():
    """Human names of products and topics in the page's language (kb.articles.labels), and featured articles."""
    def catalog():
        return get_searcher().generation().catalog

    def page_lang():
        return g.get("lang") or i18n.page_lang()

    return {"product_label": lambda slug: catalog().labels.name("products", slug, page_lang()),
            "topic_label": lambda slug: catalog().labels.name("topics", slug, page_lang()),
            "is_featured": lambda article_id: catalog().is_featured(article_id)}


def _vote_token(vote_id: int) -> str:
    return URLSafeSerializer(current_app.secret_key, salt="feedback-vote").dumps(vote_id)


def _vote_id(token: str) -> int | None:
    try:
        value = URLSafeSerializer(current_app.secret_key, salt="feedback-vote").loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) else None


def _contact_url(subject: str | None = None, article: str | None = None) -> str | None:
    """Where "contact support" leads: KB_CONTACT_URL, else the contact form (its subject filled with what was
    searched, or the article's title after a "No"), else the contact article."""
    cfg = current_app.config
    if cfg["CONTACT_URL"]:
        return cfg["CONTACT_URL"]
    if cfg["CONTACT_FORM"]:
        return url_for("contact.form", lang=g.lang, subject=subject or request.args.get("q") or None,
                       article=article)
    art = cfg["CONTACT_ARTICLE"]
    if art and get_searcher().versions(art, AUDIENCE):
        return url_for(".article", article_id=art)
    return None
