"""Agent assist: paste the customer's message, get the best sections to answer with.

Agents and admins only. Internal runbooks are searched too and marked
Internal; only public articles get a link for the customer. Agents mark
an answer "this solved it" or "not relevant" (kept for the writers' reports).
"""

from __future__ import annotations

from flask import Blueprint, abort, g, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from kb.text import languages
from kb.storage.activity import MARKS
from kb.storage.accounts import STAFF

from web.services import answers, input_text
from web.presentation import i18n
from web.services.resources import count_view, get_activity, get_audit, get_searcher, rendered_article
from web.services.security import role_required

bp = Blueprint("agent", __name__, url_prefix="/agent")
K = 6


bp.before_request(role_required(STAFF, lambda: _("This page is for support agents.")))


@bp.get("/")
def index():
    return render_template("agent/index.html", text="", customer_lang="", result=None, error=None)


@bp.post("/")
def suggest():
    text = input_text.pasted(request.form.get("text", ""))  # a log's control characters: removed, not refused
    customer_lang = request.form.get("customer_lang") or ""
    error = None
    if not text.strip():
        error = _("Paste the customer's message first.")
    elif len(text) > answers.MAX_TEXT:
        error = _("The message is %(n)d characters long; the limit is %(limit)d. Remove the least useful parts of "
                  "the log.", n=len(text), limit=answers.MAX_TEXT)
    elif customer_lang and customer_lang not in i18n.site_languages():
        error = _("Unknown language.")
    if error:
        return render_template("agent/index.html", text=text, customer_lang=customer_lang, result=None,
                               error=error), 400
    result = answers.suggest(text, customer_lang or None, K, route="agent")
    return render_template("agent/index.html", text=text, customer_lang=customer_lang, result=result, error=None)


@bp.post("/mark")
def mark():
    article_id = request.form.get("article_id", "")
    mark_ = request.form.get("mark", "")
    if mark_ not in MARKS:
        abort(400, f"mark must be one of {list(MARKS)}")
    if not get_searcher().versions(article_id, "internal"):
        abort(404, _("We couldn't find that article. It may have been moved or removed."))
    lang = request.form.get("lang") or None
    get_activity().add_mark(article_id, lang, mark_, request.form.get("query", "")[:2000], g.user)
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"ok": True, "article_id": article_id, "mark": mark_})
    return render_template("agent/marked.html", article_id=article_id, mark=mark_)


@bp.get("/article/<article_id>")
def article(article_id):
    """Any article, internal ones included, for agents to read in full."""
    searcher = get_searcher()
    lang = request.args.get("lang") or None
    found = searcher.article(article_id, lang, "internal")
    if found is None:
        abort(404, _("We couldn't find that article. It may have been moved or removed."))
    row, body = found

    def resolve(target, anchor):
        if searcher.versions(target, "internal"):
            return _agent_url(target, row.lang, anchor)
        return None

    rendered = rendered_article(row, body, resolve, "internal", row.lang)
    count_view(article_id, row.lang, i18n.ui_locale(), "internal")
    if row.visibility == "internal":
        get_audit().log("internal_read", g.user, f"{article_id} ({row.lang})")
    versions = searcher.versions(article_id, "internal")
    return render_template("agent/article.html", row=row, html=rendered.html, toc=rendered.toc, versions=versions,
                           lang_names=languages.NAMES)


def _agent_url(article_id, lang, anchor):
    return url_for("agent.article", article_id=article_id, lang=lang, _anchor=anchor)
