"""Translations side by side: the source and the translation aligned by section, drifted facts marked.

The facts are the drift report's (`kb.articles.drift`): numbers, code, URLs
and identifiers that must read the same in every language. The ones the
source has and the translation lacks are marked in both columns, so the
translator sees what to carry over and where. From here a writer edits the
translation, creates a missing one pre-filled from the source, or marks it
up to date (after confirming; the page says if facts still differ).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kb.articles import source as article_source
from kb.articles.model import VISIBILITIES, content_hash, parse
from kb.articles.chunking import sections
from kb.articles import drift

from web.services import editing

bp = Blueprint("translating", __name__, url_prefix="/writers/translate")


bp.before_request(editing.require_writer)


@bp.get("/<article_id>/<lang>")
def side_by_side(article_id, lang):
    src = editing.load(article_id, lang)
    translation = parse(src.text, src.rel)[0]
    source_src, source = _source_of(translation)
    rows = aligned(source.body, translation.body)
    return render_template("editor/side_by_side.html", src=src, translation=translation, source=source,
                           source_src=source_src, rows=rows, drifted=sum(r["substantive"] for r in rows),
                           current=translation.source_hash == content_hash(source.body))


@bp.post("/<article_id>/<lang>/up-to-date")
def up_to_date(article_id, lang):
    src = editing.load(article_id, lang)
    translation = parse(src.text, src.rel)[0]
    _source_src, source = _source_of(translation)
    if request.form.get("confirm") != "yes":
        flash(_("Tick the box to confirm that the translation says what the source says."))
        return redirect(url_for(".side_by_side", article_id=article_id, lang=lang))
    text = article_source.translation_up_to_date(src.text, source.body)
    left = [d for d in drift.compare(source.body, translation.body) if d.substantive]
    try:
        done = editing.save(src, src.rel, text, request.form.get("etag"), article_id, lang, "up-to-date", g.user)
    except editing.Conflict:
        flash(_("The article changed since you opened it: nothing was saved. Check the new version and try again."))
        return redirect(url_for(".side_by_side", article_id=article_id, lang=lang))
    if left:
        flash(_("Marked up to date, but facts still differ in %(n)d sections: check them.", n=len(left)))
    else:
        flash(_("Marked up to date with the source."))
    return redirect(url_for(".side_by_side", article_id=article_id, lang=lang, ticket=done.ticket))


@bp.get("/<article_id>/<lang>/new")
def new(article_id, lang):
    """A new translation pre-filled from the source (`?from=en`), with `translated_from` and `source_hash`."""
    editing.check_key(article_id, lang)
    if (article_id, lang) in editing.folder().keys():
        return redirect(url_for("editor.edit", article_id=article_id, lang=lang))
    source_src = editing.load(article_id, request.args.get("from", "en"))
    source = parse(source_src.text, source_src.rel)[0]
    form = {"id": article_id, "lang": lang, "folder": source_src.rel.rpartition("/")[0], "title": source.title,
            "product": source.product or "", "visibility": source.visibility, "owner": g.user or source.owner or "",
            "tags": ", ".join(source.tags), "review_every": str(source.review_every or ""),
            "translated_from": source.lang, "source_hash": source.content_hash, "body": source.body}
    return render_template("editor/new.html", form=form, errors=[], field_errors={}, source=source,
                           visibilities=VISIBILITIES)


def aligned(source_body: str, translation_body: str) -> list[dict]:
    """Source and translation sections side by side (by position, as the drift report aligns them)."""
    src, tra = sections(source_body), sections(translation_body)
    rows = []
    for d in drift.compare(source_body, translation_body):
        s = src[d.index] if d.index < len(src) else None
        t = tra[d.index] if d.index < len(tra) else None
        rows.append({"source_heading": d.source_heading, "translation_heading": d.translation_heading,
                     "source": marked(s.text if s else "", set(d.only_in_source)),
                     "translation": marked(t.text if t else "", set(d.only_in_translation)),
                     "only_in_source": d.only_in_source, "only_in_translation": d.only_in_translation,
                     "steps": d.steps, "substantive": d.substantive, "anchor": s.anchor if s else ""})
    return rows


def marked(text: str, facts: set[str]) -> list[tuple[str, bool]]:
    """The text cut into (piece, is a drifted fact), for the template to escape and mark."""
    out, pos = [], 0
    for a, b in drift.spans(text, facts):
        out += [(text[pos:a], False), (text[a:b], True)]
        pos = b
    return out + [(text[pos:], False)]


def _source_of(translation):
    if not translation.translated_from:
        abort(404, _("This article is not a translation: it names no source language."))
    source_src = editing.load(translation.id, translation.translated_from)
    return source_src, parse(source_src.text, source_src.rel)[0]
