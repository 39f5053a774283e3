"""Contact support: a form that suggests articles as the customer types, and deflection.

`/<lang>/contact/` shows the form; its subject field asks `suggest` for matching public
articles as the customer types (static/contact.js). Without JavaScript, the first submit
that has matching articles shows them before sending ("Send anyway"). Suggested links go
through `open_article`, so the form session records the click; a session with a click and no
request within kb.contact.requests.DEFLECTED_AFTER minutes counts as deflected (kb.contact.requests).
A request is stored, then delivered to KB_REQUEST_WEBHOOK by the outbox sender (kb.contact.outbox).
Suggestions are searched with audience "public": internal articles are never offered.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kb.contact import requests as contact

from web.presentation import i18n
from web.services.resources import get_contacts, get_searcher, wake_sender
from web.services.security import check_rate, rate_limit

bp = Blueprint("contact", __name__, url_prefix="/<lang:lang>/contact")
AUDIENCE = "public"
SUGGESTIONS = 5
MIN_SUGGEST_CHARS = 3


i18n.use_language_prefix(bp, enabled=lambda: current_app.config["CONTACT_FORM"])


@bp.get("/")
def form():
    """The empty form, with a new form session; ?subject= and ?article= come from a failed search or a "No"."""
    form_id = contact.new_form_id()
    get_contacts().add_event(form_id, "open", g.lang)
    subject = request.args.get("subject", "")[:contact.LIMITS["subject"]]
    values = {"subject": subject, "article": _article_arg(request.args.get("article"))}
    return render_template("contact/form.html", form_id=form_id, values=values, errors={},
                           suggestions=_suggest(subject) if subject else [], confirm=False)


@bp.post("/")
@rate_limit("CONTACT")
def send():
    f = request.form
    form_id = f.get("form_id") if contact.valid_form_id(f.get("form_id")) else contact.new_form_id()
    values = {k: f.get(k, "") for k in ("subject", "message", "email", "name")}
    values["article"] = _article_arg(f.get("article"))
    try:
        req = contact.checked(lang=g.lang, article_id=values["article"], form_id=form_id,
                              **{k: values[k] for k in ("subject", "message", "email", "name")})
    except contact.ContactError as e:
        return render_template("contact/form.html", form_id=form_id, values=values, errors={e.field: _message(e)},
                               suggestions=[], confirm=False), 400
    if not f.get("confirm") and not f.get("suggested"):
        found = _suggest(req.subject)  # without JavaScript the customer has not seen them yet
        if found:
            return render_template("contact/form.html", form_id=form_id, values=values, errors={},
                                   suggestions=found, confirm=True)
    get_contacts().add_request(req, deliver=bool(current_app.config["REQUEST_WEBHOOK"]))
    wake_sender()
    return redirect(url_for(".sent", uid=req.uid), 303)


@bp.get("/sent/<uid>")
def sent(uid):
    found = get_contacts().request(uid)
    if found is None:
        abort(404, _("We couldn't find that request."))
    return render_template("contact/sent.html", req=found)


@bp.get("/suggest")
def suggest():
    """Public articles matching a partly typed subject: {"suggestions": [{id, lang, title, url}]}.

    Each url opens the article through `open_article`, so a click is recorded for the form session
    (?form=). The rate limit is the help center search's.
    """
    check_rate("SEARCH")
    q = request.args.get("q", "").strip()[:contact.LIMITS["subject"]]
    form_id = request.args.get("form", "")
    if not contact.valid_form_id(form_id):
        abort(400, "form must be the form session id from the contact form")
    found = _suggest(q) if len(q) >= MIN_SUGGEST_CHARS else []
    return jsonify({"suggestions": [{"id": r.id, "lang": r.lang, "title": r.title, "snippet": r.snippet,
                                     "url": url_for(".open_article", form_id=form_id, article_id=r.id, r=i + 1)}
                                    for i, r in enumerate(found)]})


@bp.get("/open/<form_id>/<article_id>")
def open_article(form_id, article_id):
    """Record that the form session opened a suggested article, then show it."""
    if not contact.valid_form_id(form_id) or not get_searcher().versions(article_id, AUDIENCE):
        abort(404, _("We couldn't find that article. It may have been moved or removed."))
    get_contacts().add_event(form_id, "click", g.lang, article_id)
    return redirect(url_for("help_center.article", lang=g.lang, article_id=article_id))


def _suggest(text: str) -> list:
    """Public articles for the subject: the answering results, or none (a weak match is no deflection)."""
    text = text.strip()
    if not text:
        return []
    resp = get_searcher().search(text, ui_lang=g.lang, k=SUGGESTIONS, audience=AUDIENCE)
    return resp.results if resp.answered else []


def _article_arg(value: str | None) -> str | None:
    """The public article the customer came from, or None (never an internal or unknown id)."""
    if value and len(value) <= 200 and get_searcher().versions(value, AUDIENCE):
        return value
    return None


def _message(e: contact.ContactError) -> str:
    messages = {"subject": _("Please tell us in a few words what you need."),
                "message": _("Please describe your problem."),
                "email": _("Please enter an email address we can answer to, like name@example.com.")}
    if "over the limit" in str(e):
        return _("This field is too long; please shorten it.")
    return messages.get(e.field, str(e))
