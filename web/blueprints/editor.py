"""The writers' editor: an article's Markdown and front matter in the browser, saved back to its file.

`/writers/edit/<id>/<lang>`: the body as Markdown with a live preview (the
site's own sanitising renderer), the front-matter fields as a form, lint on
save with errors at their line, optimistic locking by ETag (a save over a
newer version shows both and keeps the writer's text), mark reviewed, and
new articles and deletion (the file stays in the history and in git).
Translations have their own pages (`translating`). Writers and admins only;
every form carries a CSRF token (the preview's fetch sends it as a header).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kb.articles import limits as article_limits, source as article_source, frontmatter, render
from kb.articles.model import VISIBILITIES

from web.services import editing
from web.services.resources import get_edits, get_reindexer, get_searcher
from web.services.security import check_rate, limited_in_view

bp = Blueprint("editor", __name__, url_prefix="/writers/edit")
FIELDS = ("title", "tags", "product", "visibility", "owner", "review_every")
PREVIEW_MAX = 2_000_000


@bp.before_request
def require_writer():
    if request.endpoint == "editor.preview":
        check_rate("API")  # its own limit (see preview), counted before the sign-in check as every POST is
    return editing.require_writer()


@bp.get("/<article_id>/<lang>")
def edit(article_id, lang):
    src = editing.load(article_id, lang)
    head, body = frontmatter.split(src.text)
    return _page(src, body, _form_fields(src.text), ticket=request.args.get("ticket", type=int))


@bp.post("/<article_id>/<lang>")
def save(article_id, lang):
    src = editing.load(article_id, lang)
    body, fields = request.form.get("body", ""), _fields_from(request.form)
    head, _old_body = frontmatter.split(src.text)
    text = article_source.with_fields(frontmatter.join(head, body), fields, editing.today())
    if request.form.get("up_to_date") == "yes":  # the writer confirmed the translation matches its source now
        source = editing.source_of(src.text)
        if source is not None:
            text = article_source.translation_up_to_date(text, source.body)
    try:
        done = editing.save(src, src.rel, text, request.form.get("etag"), article_id, lang, "edit", g.user)
    except editing.Invalid as e:
        return (_page(src, body, fields, errors=e.problems, text=text, etag=request.form.get("etag")),
                editing.invalid_status(e))
    except editing.Conflict as e:
        return _page(e.current, body, fields, conflict=e.current), 409
    _flash_saved(done)
    return redirect(url_for(".edit", article_id=article_id, lang=lang, ticket=done.ticket))


@bp.post("/<article_id>/<lang>/reviewed")
def reviewed(article_id, lang):
    src = editing.load(article_id, lang)
    text = article_source.mark_reviewed(src.text, editing.today())
    return _quick_save(src, text, "reviewed", _("Marked as reviewed today."))


def _quick_save(src, text, action, message):
    try:
        done = editing.save(src, src.rel, text, request.form.get("etag"), src.id, src.lang, action, g.user)
    except editing.Conflict:
        flash(_("The article changed since you opened it: nothing was saved. Check the new version and try again."))
        return redirect(url_for(".edit", article_id=src.id, lang=src.lang))
    except editing.Invalid as e:
        flash(_("The file has an error at line %(line)d: %(msg)s", line=e.problems[0].line, msg=e.problems[0].message))
        return redirect(url_for(".edit", article_id=src.id, lang=src.lang))
    flash(message)
    return redirect(url_for(".edit", article_id=src.id, lang=src.lang, ticket=done.ticket))


@bp.route("/new", methods=["GET", "POST"])
def new():
    """A new article (or, from the translation pages, a new translation): id, language and the front matter's
    fields asked once in the form, the body in the text box; the file's front matter is built from them.

    A client that posts the whole file as `text` (front matter included) still may: its front matter must then
    name the same id and language as the form.
    """
    f = request.values
    form = _new_form(f)
    if request.method == "GET":
        return _new_page(form, [])
    errors = _new_errors(form, f.get("text"))
    if errors:
        return _new_page(form, errors), 400
    text = f.get("text") if f.get("text") is not None else _new_text(form)
    try:
        rel = _new_path(form["id"], form["lang"], form["folder"], text)
        done = editing.save(None, rel, frontmatter.join(*frontmatter.split(text)), None, form["id"], form["lang"],
                            "create", g.user)
    except editing.Invalid as e:
        head_lines = 0 if f.get("text") is not None else frontmatter.split(text)[0].count("\n")
        return _new_page(form, [_error(p.message, line=p.line - head_lines if p.line > head_lines else None)
                                for p in e.problems]), editing.invalid_status(e)
    except article_source.SourceError as e:
        return _new_page(form, [_error(str(e))]), 400
    _flash_saved(done)
    return redirect(url_for(".edit", article_id=form["id"], lang=form["lang"], ticket=done.ticket))


NEW_FIELDS = ("id", "lang", "folder", "title", "product", "visibility", "owner", "tags", "translated_from",
              "source_hash", "review_every")


def _new_form(f) -> dict:
    form = {k: f.get(k, "").strip() for k in NEW_FIELDS}
    form["body"] = f.get("body", "")
    form["visibility"] = form["visibility"] or "public"
    if request.method == "GET" and not form["owner"]:
        form["owner"] = g.user
    return form


def _new_errors(form: dict, text: str | None) -> list[dict]:
    """What stops the form from making a file, each on its field: the id and the language first."""
    errors = []
    if not form["id"]:
        errors.append(_error(_("Give the article an id."), "id"))
    if not form["lang"]:
        errors.append(_error(_("Choose the article's language."), "lang"))
    if errors:
        return errors
    try:
        article_source.check_key(form["id"], form["lang"])
    except article_source.SourceError as e:
        return [_error(str(e), "lang" if form["id"] and "language" in str(e) else "id")]
    if text is not None:  # the whole file: its front matter must agree with the form
        meta = frontmatter.values(text)
        for key in ("id", "lang"):
            if meta.get(key) is not None and str(meta.get(key)) != form[key]:
                errors.append(_error(_("The front matter says %(key)s: %(value)s, the form %(form)s.", key=key,
                                       value=str(meta.get(key))[:80], form=form[key]), key))
    elif not form["title"]:
        errors.append(_error(_("Give the article a title."), "title"))
    if form["visibility"] not in VISIBILITIES:
        errors.append(_error(_("Choose who can read it."), "visibility"))
    return errors


def _new_text(form: dict) -> str:
    """The file: front matter from the form's fields (a new article is reviewed today), then the body."""
    every = form["review_every"]
    meta = {"id": form["id"], "lang": form["lang"], "title": form["title"],
            "tags": [t.strip() for t in form["tags"].split(",") if t.strip()], "product": form["product"] or None,
            "visibility": form["visibility"], "owner": form["owner"] or None, "updated": editing.today(),
            "reviewed": None if form["translated_from"] else editing.today(),
            "review_every": int(every) if every.isdigit() else None,
            "translated_from": form["translated_from"] or None, "source_hash": form["source_hash"] or None}
    return frontmatter.dump(meta) + form["body"].replace("\r\n", "\n").strip() + "\n"


def _new_page(form: dict, errors: list[dict], source=None):
    return render_template("editor/new.html", form=form, errors=errors, source=source, visibilities=VISIBILITIES,
                           field_errors={e["field"]: e["message"] for e in errors if e.get("field")})


def _error(message: str, field: str | None = None, line: int | None = None) -> dict:
    return {"message": message, "field": field, "line": line}


def _new_path(article_id: str, lang: str, folder: str, text: str) -> str:
    """The new file's path: the folder asked for, else beside the article's other versions, else by product."""
    keys = editing.folder().keys()
    if (article_id, lang) in keys:
        raise article_source.SourceError(_("%(id)s in %(lang)s already exists: open it in the editor instead.",
                                           id=article_id, lang=lang))
    folder = folder.strip().rstrip("/")
    if not folder:
        siblings = [rel for (aid, _lang), rel in keys.items() if aid == article_id]
        folder = siblings[0].rpartition("/")[0] if siblings else ""
    if not folder:
        product = frontmatter.values(text).get("product")
        return article_source.default_rel(article_id, lang, str(product) if product else None)
    rel = f"{folder}/{article_id}.{lang}.md"
    editing.folder().new_path(rel)  # refuses a folder outside the articles folder, or one git reads as a pattern
    return rel


@bp.route("/<article_id>/<lang>/delete", methods=["GET", "POST"])
def delete(article_id, lang):
    src = editing.load(article_id, lang)
    if request.method == "GET" or request.form.get("confirm") != "yes":
        return render_template("editor/delete.html", src=src, title=frontmatter.values(src.text).get("title"),
                               asked=request.method == "POST")
    try:
        done = editing.delete(src, request.form.get("etag", ""), g.user)
    except editing.Conflict:
        flash(_("The article changed since you opened it: nothing was deleted."))
        return redirect(url_for(".delete", article_id=article_id, lang=lang))
    flash(_("Deleted %(path)s. Its text is kept in the edit history.", path=src.rel))
    return redirect(url_for(".history", article_id=article_id, lang=lang, ticket=done.ticket))


@bp.get("/<article_id>/<lang>/history")
def history(article_id, lang):
    editing.check_key(article_id, lang)
    return render_template("editor/history.html", article_id=article_id, lang=lang,
                           edits=get_edits().history(article_id, lang), ticket=request.args.get("ticket", type=int))


@bp.post("/preview")
@limited_in_view
def preview():
    """The body rendered exactly as the article page renders it (sanitised), for the live preview.

    Limited as the API is (RATELIMIT_API), not as a form post: typing sends one every half second, and the
    FORMS budget is kept for the saves.
    """
    body = (request.get_json(silent=True) or {}).get("body", "")
    if not isinstance(body, str) or len(body) > PREVIEW_MAX:
        abort(400, _("Nothing to preview."))
    over = article_limits.exceeded(body, "preview", editing.limits())
    if over:  # what the save would refuse, refused before it costs seconds to render
        abort(413 if over[0].code == article_limits.TOO_LARGE else 400, f"line {over[0].line}: {over[0].message}")
    searcher = get_searcher()

    def resolve(target, anchor):
        return url_for("writers.article", article_id=target, _anchor=anchor) if searcher.versions(
            target, "internal") else None

    return jsonify(html=render.render(body, resolve).html)


@bp.get("/status/<int:ticket>")
def status(ticket):
    """Where the background index of a save is: queued, indexing (stage, done, total), done (searchable since)."""
    return jsonify(get_reindexer().status(ticket))


# --- the page ----------------------------------------------------------------------

def _page(src, body, fields, errors=(), text=None, etag=None, conflict=None, ticket=None):
    head, _b = frontmatter.split(text if text is not None else src.text)
    head_lines = head.count("\n")
    located = [_locate(p, head, head_lines) for p in errors]
    if isinstance(fields.get("tags"), list):
        fields = {**fields, "tags": ", ".join(fields["tags"])}
    theirs = frontmatter.split(conflict.text)[1] if conflict else None
    diff = editing.unified_diff(theirs, body.replace("\r\n", "\n"), src.rel) if conflict else ""
    source = editing.source_of(src.text)
    return render_template("editor/edit.html", src=src, body=body, fields=fields, errors=located,
                           outdated=editing.outdated(src.text, source),
                           etag=etag or src.etag, conflict=conflict, theirs=theirs, diff=diff, ticket=ticket,
                           visibilities=VISIBILITIES, meta=frontmatter.values(src.text),
                           versions=sorted(lang for (aid, lang) in editing.folder().keys() if aid == src.id))


def _locate(problem, head: str, head_lines: int) -> dict:
    """A problem with where the writer finds it: a form field, or a line of the text box."""
    if problem.line <= head_lines:
        for key in FIELDS:
            if frontmatter.line_of(head, key) == problem.line and f"{key}:" in head:
                return {"field": key, "line": None, "message": problem.message}
        return {"field": None, "line": None, "file_line": problem.line, "message": problem.message}
    return {"field": None, "line": problem.line - head_lines, "message": problem.message}


def _form_fields(text: str) -> dict:
    meta = frontmatter.values(text)
    tags = meta.get("tags") or []
    return {"title": meta.get("title") or "", "tags": ", ".join(map(str, tags)) if isinstance(tags, list) else tags,
            "product": meta.get("product") or "", "visibility": meta.get("visibility") or "public",
            "owner": meta.get("owner") or "", "review_every": meta.get("review_every") or ""}


def _fields_from(form) -> dict:
    every = form.get("review_every", "").strip()
    return {"title": form.get("title", "").strip(),
            "tags": [t.strip() for t in form.get("tags", "").split(",") if t.strip()],
            "product": form.get("product", "").strip(), "visibility": form.get("visibility", "public").strip(),
            "owner": form.get("owner", "").strip(),
            "review_every": int(every) if every.isdigit() else every}


def _flash_saved(done):
    if done.commit.error:
        flash(_("Saved, but the git commit failed: %(error)s", error=done.commit.error[:300]))
    else:
        flash(_("Saved."))
    for w in done.warnings[:5]:
        flash(_("Line %(line)d: %(msg)s", line=w.line, msg=w.message))
