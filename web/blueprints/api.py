"""The JSON API. Public routes see public articles only; `/api/suggest` needs a token or an agent session;
`/api/articles/<id>/<lang>/source` and `…/reviewed` edit article files (writer tokens, writer or admin sessions).

Errors always have one shape, `{"error": {"status": 400, "message": "..."}}`
(see `errors`); bad input is a 400 that says which parameter and why.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, make_response, request, url_for

from kb.articles import source as article_source_mod
from kb.text import languages

from kb.search.request import blank
from kb.search.logged import logged_search

from web.services import answers, editing, input_text, openapi
from web.presentation import i18n
from web.presentation.errors import error_body
from web.services.resources import count_view, get_activity, get_reindexer, get_searcher, outdated_source, rendered_article
from web.services.learning import reader_origin
from web.services.security import api_caller, check_rate, limited_in_view, rate_limit

bp = Blueprint("api", __name__, url_prefix="/api")
AUDIENCE = "public"
MAX_K = 50
SUGGESTIONS = 6


@bp.get("/search")
@rate_limit("SEARCH")
def search():
    """Public search: ?q= (required), lang= (reader's language), k= (1-50), offset=, product=, tag=.

    `answered` false: nothing found is likely to answer; the results are the closest articles, to be
    shown as such (the help center shows its no-answer page with the contact link).
    """
    q = _query_arg()
    lang = _lang(_arg("lang"))
    k = _int(_arg("k"), "k", 10, 1, MAX_K)
    offset = _int(_arg("offset"), "offset", 0, 0, 1000)
    product = _arg("product") or None
    tags = request.args.getlist("tag") or None
    found = logged_search(get_searcher(), get_activity(), q, route="api", audience=AUDIENCE, ui_lang=lang, k=k,
                          offset=offset, product=product, tags=tags)
    resp, search_id = found.response, found.search_id
    results = []
    for r in resp.results:
        d = r.to_json()
        d["url"] = url_for("help_center.article", lang=lang or r.lang, article_id=r.id, _anchor=r.anchor or None,
                           _external=True)
        results.append(d)
    return jsonify({"query": resp.query, "search_id": search_id,
                    "detected": {"lang": resp.detected.lang, "confidence": round(resp.detected.confidence, 3),
                                 "reason": resp.detected.reason},
                    "lang": resp.lang, "total": resp.total, "offset": offset, "answered": resp.answered,
                    "missing": list(resp.missing), **_degraded(resp.degraded), "results": results})


@bp.get("/autocomplete")
@rate_limit("SEARCH")
def autocomplete():
    """Titles of public articles for a partly typed query: ?q=&lang=. Titles only, never text."""
    q = _query_arg()
    lang = _lang(_arg("lang"))
    resp = get_searcher().search(q, ui_lang=lang, k=SUGGESTIONS, audience=AUDIENCE)
    return jsonify({"suggestions": [
        {"id": r.id, "lang": r.lang, "title": r.title,
         "url": url_for("help_center.article", lang=lang or r.lang, article_id=r.id)} for r in resp.results]})


@bp.get("/articles/<article_id>")
@rate_limit("API")
def article(article_id):
    """A public article: metadata, rendered HTML and the languages it exists in. ?lang= picks the version."""
    lang = _lang(_arg("lang"))
    searcher = get_searcher()
    found = searcher.article(article_id, lang, AUDIENCE)
    if found is None:
        abort(404, f"no public article {article_id!r}")
    row, body = found
    reader = lang or row.lang

    def resolve(target, anchor):
        if searcher.versions(target, AUDIENCE):
            return url_for("help_center.article", lang=reader, article_id=target, _anchor=anchor, _external=True)
        return None

    rendered = rendered_article(row, body, resolve, AUDIENCE, reader)
    count_view(article_id, row.lang, lang, AUDIENCE)
    versions = searcher.versions(article_id, AUDIENCE)
    outdated = outdated_source(row, versions)
    return jsonify({
        "id": row.id, "lang": row.lang, "title": row.title, "product": row.product, "tags": list(row.tags),
        "updated": row.updated.isoformat() if row.updated else None,
        "reviewed": row.reviewed.isoformat() if row.reviewed else None,
        "fallback": bool(lang) and row.lang != lang,
        "outdated": outdated is not None,
        "outdated_source": None if outdated is None else {
            "lang": outdated.source_lang,
            "updated": outdated.source_updated.isoformat() if outdated.source_updated else None,
            "url": url_for("help_center.article", lang=outdated.source_lang, article_id=row.id, _external=True)},
        "languages": sorted(v.lang for v in versions),
        "url": url_for("help_center.article", lang=reader, article_id=row.id, _external=True),
        "toc": [{"level": t.level, "id": t.id, "title": t.name} for t in rendered.toc],
        "html": rendered.html,
    })


@bp.post("/feedback")
@rate_limit("FEEDBACK")
def feedback():
    """Was this article helpful? {article_id, lang, helpful: true|false, reason?, search_id?}.

    The vote is keyed by its reader as the help center's are (web/services/learning.py), and `search_id` (from
    /api/search) names the search the reader came from: learning counts it, once per reader, for that search's
    query when the same reader opened the article from it, as it counts a help center vote.
    """
    data = _json_body({"article_id", "lang", "helpful", "reason", "search_id"})
    article_id = _field(data, "article_id", str, required=True)
    lang = _lang(_field(data, "lang", str, required=True))
    helpful = _field(data, "helpful", bool, required=True)
    reason = _field(data, "reason", str) or ""
    search_id = _field(data, "search_id", int)
    if len(reason) > 1000:
        abort(400, f"reason is {len(reason)} characters, over the limit of 1000")
    if search_id is not None and not 0 < search_id < 2**63:
        abort(400, f"search_id must be a search_id /api/search returned, got {search_id}")
    versions = {v.lang for v in get_searcher().versions(article_id, AUDIENCE)}
    if not versions:
        abort(404, f"no public article {article_id!r}")
    if lang not in versions:
        abort(400, f"article {article_id!r} has no {lang!r} version; it exists in {sorted(versions)}")
    get_activity().add_feedback(article_id, lang, helpful, reason, source="api", origin=reader_origin(),
                                search_id=search_id)
    return jsonify({"ok": True}), 201


@bp.post("/suggest")
@limited_in_view
def suggest():
    """Suggested answers for a customer's message: {text, lang?, k?}. Token or agent session."""
    api_caller()
    check_rate("API")
    data = _json_body({"text", "lang", "k"})
    text = input_text.pasted(_field(data, "text", str, required=True))  # a log's control characters: removed
    if blank(text):
        abort(400, "text is empty; send the customer's message")
    if len(text) > answers.MAX_TEXT:
        abort(400, f"text is {len(text)} characters, over the limit of {answers.MAX_TEXT}")
    lang = _lang(_field(data, "lang", str))
    k = _field(data, "k", int)
    k = 5 if k is None else k
    if not 1 <= k <= MAX_K:
        abort(400, f"k must be between 1 and {MAX_K}, got {k}")
    result = answers.suggest(text, lang, k, route="api")
    det = result.response.detected
    return jsonify({"detected": {"lang": det.lang, "confidence": round(det.confidence, 3), "reason": det.reason},
                    "lang": result.customer_lang, "search_id": result.search_id,
                    "answered": result.answered, **_degraded(result.degraded),
                    "results": [a.to_json() for a in result.answers]})


# --- editing: writers' scripts and CI (writer tokens, writer or admin sessions) ----------------------------

@bp.get("/articles/<article_id>/<lang>/source")
def article_source(article_id, lang):
    """An article file's Markdown as it is on disk, with its ETag for a later PUT."""
    editing.api_writer()
    check_rate("API")
    return _source_response(editing.load(article_id, lang))


@bp.put("/articles/<article_id>/<lang>/source")
def put_article_source(article_id, lang):
    """Replace an article file: `If-Match: <etag>` required; 409 if it changed since, 400 (file untouched) if invalid."""
    user = editing.api_writer()
    check_rate("API")
    if_match = _if_match()
    src = editing.load(article_id, lang)
    if request.is_json:
        text = _field(_json_body({"source"}), "source", str, required=True)
    elif request.mimetype in ("text/markdown", "text/plain"):
        text = request.get_data(as_text=True)
        input_text.check_fields([("body", text)])
    else:
        abort(415, "send the Markdown as 'Content-Type: text/markdown' or JSON {\"source\": \"...\"}")
    return _saved_response(lambda: editing.save(src, src.rel, text, if_match, article_id, lang, "edit", user))


@bp.post("/articles/<article_id>/<lang>/reviewed")
def article_reviewed(article_id, lang):
    """Set `reviewed:` to today, every other byte unchanged. `If-Match` required, as for PUT."""
    user = editing.api_writer()
    check_rate("API")
    if_match = _if_match()
    src = editing.load(article_id, lang)
    text = article_source_mod.mark_reviewed(src.text, editing.today())
    return _saved_response(lambda: editing.save(src, src.rel, text, if_match, article_id, lang, "reviewed", user))


@bp.get("/index/<int:ticket>")
def index_status(ticket):
    """Where the background index after a save is: queued, indexing, done (searchable_since) or failed."""
    editing.api_writer()
    return jsonify(get_reindexer().status(ticket))


def _if_match() -> str:
    value = request.headers.get("If-Match", "").strip()
    if not value:
        abort(428, "If-Match is required: send the ETag from GET …/source, so a newer version is never overwritten")
    return value


def _source_response(src):
    resp = jsonify({"id": src.id, "lang": src.lang, "path": src.rel, "etag": src.etag, "source": src.text})
    resp.headers["ETag"] = src.etag
    return resp


def _saved_response(save):
    try:
        done = save()
    except editing.Conflict as e:
        body = error_body(409, f"{e.current.rel} changed since that ETag; GET it again, merge, and PUT with the new "
                               "ETag")
        body["error"]["etag"] = e.current.etag
        resp = make_response(jsonify(body), 409)
        resp.headers["ETag"] = e.current.etag
        return resp
    except editing.Invalid as e:
        first, status = e.problems[0], editing.invalid_status(e)
        body = error_body(status, f"{first.path}:{first.line}: {first.message}; the file was not changed")
        body["error"]["problems"] = [_problem(p) for p in e.problems]
        body["error"]["warnings"] = [_problem(p) for p in e.warnings]
        return make_response(jsonify(body), status)
    resp = jsonify({"id": done.source.id, "lang": done.source.lang, "path": done.source.rel, "etag": done.source.etag,
                    "commit": done.commit.sha, "commit_error": done.commit.error,
                    "warnings": [_problem(p) for p in done.warnings],
                    "index": url_for("api.index_status", ticket=done.ticket, _external=True)})
    resp.headers["ETag"] = done.source.etag
    return resp


def _problem(p) -> dict:
    """A lint problem as the editor, `kb lint --json` and the index report it (kb.articles.lint)."""
    return {"line": p.line, "severity": p.severity, "code": p.code, "message": p.message, "facts": p.facts}


@bp.get("/openapi.json")
def openapi_json():
    """This API described as OpenAPI 3.1, with this site's languages and limits."""
    return jsonify(openapi.spec(i18n.site_languages(), current_app.config["MAX_QUERY_CHARS"], answers.MAX_TEXT))


def _degraded(stages: tuple[str, ...]) -> dict:
    """`degraded`: the request hit its budget (kb/search/budget.py) and `degraded_stages` says where: "dense" (keyword
    results only), "keyword" (dense only), "render" (fewer results than asked, the ones rendered in time)."""
    return {"degraded": bool(stages), "degraded_stages": list(stages)}


# --- validation -------------------------------------------------------------

def _arg(name: str) -> str | None:
    """A query parameter given at most once: a repeated one is refused rather than its first value taken."""
    values = request.args.getlist(name)
    if len(values) > 1:
        abort(400, f"{name} is given {len(values)} times; give it once")
    return values[0] if values else None


def _query_arg() -> str:
    q = _arg("q")
    if q is None:
        abort(400, "q is required: /api/search?q=your+question")
    if blank(q):
        abort(400, "q is empty")
    limit = current_app.config["MAX_QUERY_CHARS"]
    if len(q) > limit:
        abort(400, f"q is {len(q)} characters, over the limit of {limit}")
    return q


def _lang(value) -> str | None:
    """One of the site's languages (`zh-CN` is `zh`); 400 naming them for any other, as the OpenAPI enum says."""
    if value == "":
        abort(400, f"lang is empty; give one of {i18n.site_languages()} or leave it out")
    lang = languages.normalize(value)  # QueryError (400) for codes no one knows
    site = i18n.site_languages()
    if lang is not None and lang not in site:
        abort(400, f"lang {value!r} is not a language of this site; expected one of {site}")
    return lang


def _int(value: str | None, name: str, default: int, lo: int, hi: int) -> int:
    if value is None:
        return default
    try:
        n = int(value)
    except ValueError:
        abort(400, f"{name} must be a whole number, got {value!r}")
    if not lo <= n <= hi:
        abort(400, f"{name} must be between {lo} and {hi}, got {n}")
    return n


def _json_body(allowed: set[str]) -> dict:
    if not request.is_json:
        abort(400, "send a JSON object with 'Content-Type: application/json'")
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # absurdly nested JSON
        data = None
    if not isinstance(data, dict):
        abort(400, "the request body must be a JSON object")
    unknown = sorted(set(data) - allowed)
    if unknown:
        abort(400, f"unknown field {unknown[0]!r}; expected {sorted(allowed)}")
    input_text.check_fields(data.items())
    return data


_TYPE_NAMES = {str: "a string", int: "an integer", bool: "true or false"}


def _field(data: dict, name: str, kind: type, required: bool = False):
    if name not in data or data[name] is None:
        if required:
            abort(400, f"{name} is required")
        return None
    value = data[name]
    if kind is int and isinstance(value, float) and value.is_integer():  # JSON has numbers: 5.0 is the integer 5
        value = int(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        abort(400, f"{name} must be {_TYPE_NAMES[kind]}, got {type(value).__name__}")
    return value
