"""Saving an article from the browser or the API: lint, write, record, commit, re-index.

The editor's pages and the JSON API call the same functions, so a save is
the same thing whichever way it comes: linted first (nothing is written
while an error remains), written atomically if the file is still the version
the writer loaded (`Conflict` otherwise), recorded in the edit history (who,
when, the diff), committed as the writer if the articles folder is a git
repository, and followed by an incremental index in the background. The
returned ticket tells the page when the change became searchable.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass

from flask import abort, current_app, g
from flask_babel import gettext as _

from kb.articles import git as article_git, limits as article_limits, source as article_source, frontmatter
from kb.articles.source import (Conflict, Invalid, NotFound, Source, SourceError,  # noqa: F401 - the callers' errors
                                TooLarge)
from kb.articles.model import Article, Problem, parse
from kb.errors import ArticleError
from kb.storage.accounts import EDITORS

from web.services import security
from web.services.resources import get_edits, get_reindexer, get_searcher

MAX_DIFF_LINES = 2000  # a whole-file rewrite of a long article; the file itself is in git and the history


@dataclass
class Saved:
    source: Source
    article: Article | None
    warnings: list[Problem]
    ticket: int
    commit: article_git.Commit


def folder() -> article_source.Folder:
    """The articles folder this server edits; 404 with the reason when it has none."""
    root = current_app.config.get("ARTICLES")
    if not root:
        abort(404, _("Editing needs the articles folder: start the server with `kb serve --articles DIR` "
                     "or set KB_ARTICLES."))
    try:
        return article_source.Folder(root, limits())
    except SourceError as e:
        abort(404, str(e))


def limits() -> article_limits.Limits:
    """What one article may hold (kb.articles.limits), as this app was configured."""
    return article_limits.Limits.of(current_app.config)


def invalid_status(e: Invalid) -> int:
    """413 for an article over the size limit, 400 for any other error in it."""
    return 413 if isinstance(e, TooLarge) else 400


def hint(article_id: str, lang: str) -> str | None:
    """Where the served index says the file is (saves scanning the folder), or None."""
    for row in get_searcher().versions(article_id, "internal"):
        if row.lang == lang:
            return row.path
    return None


def check_key(article_id: str, lang: str) -> None:
    """400 for a malformed id or language in a URL, before anything is looked up."""
    try:
        article_source.check_key(article_id, lang)
    except SourceError as e:
        abort(400, str(e))


def load(article_id: str, lang: str) -> Source:
    """The file of (id, lang); 404 if there is none, 400 for a malformed id or language."""
    try:
        return folder().read(article_id, lang, hint(article_id, lang))
    except NotFound as e:
        abort(404, str(e))
    except SourceError as e:
        abort(400, str(e))


def save(src: Source | None, rel: str, text: str, if_match: str | None, article_id: str, lang: str,
         action: str, user: str) -> Saved:
    """Write `text` over `src` (None: a new file at `rel`); raises Invalid or Conflict with nothing written."""
    saved, article, problems = folder().write(rel, text, if_match, article_id, lang, create=src is None)
    before = src.text if src else ""
    return _after_write(saved, article, problems, before, action, user)


def delete(src: Source, if_match: str, user: str) -> Saved:
    """Remove the file (Conflict if it changed); its text stays in the history and in git."""
    folder().delete(src.rel, if_match)
    gone = Source(src.id, src.lang, src.rel, b"")
    return _after_write(gone, None, [], src.text, "delete", user)


def _after_write(saved: Source, article, problems, before: str, action: str, user: str) -> Saved:
    diff = unified_diff(before, saved.text, saved.rel)
    commit = article_git.commit(folder().root, saved.rel, f"{_subject(action)} {saved.id} ({saved.lang})", user)
    get_edits().record(article_id=saved.id, lang=saved.lang, path=saved.rel, user=user, action=action,
                       etag=saved.etag if saved.raw else None, diff=diff, commit=commit.sha)
    ticket = get_reindexer().request()
    warnings = [p for p in problems if p.severity != "error"]
    return Saved(saved, article, warnings, ticket, commit)


def _subject(action: str) -> str:
    return {"create": "Create", "delete": "Delete", "reviewed": "Mark reviewed", "up-to-date":
            "Mark translation up to date"}.get(action, "Edit")


def unified_diff(before: str, after: str, rel: str) -> str:
    lines = list(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                      f"a/{rel}", f"b/{rel}"))
    if len(lines) > MAX_DIFF_LINES:
        lines = lines[:MAX_DIFF_LINES] + [f"... {len(lines) - MAX_DIFF_LINES} more lines\n"]
    return "".join(lines)


def source_of(text: str) -> Article | None:
    """The source article of a translation's text (None if it is not a translation or has no readable source)."""
    meta = frontmatter.values(text)
    source_lang, art_id = meta.get("translated_from"), meta.get("id")
    if not source_lang or not art_id:
        return None
    try:
        src = folder().read(str(art_id), str(source_lang), hint(str(art_id), str(source_lang)))
        return parse(src.text, src.rel)[0]
    except (SourceError, ArticleError):
        return None


def outdated(text: str, source: Article | None) -> bool:
    """A translation whose recorded source_hash is not its source's current hash."""
    return source is not None and str(frontmatter.values(text).get("source_hash") or "") != source.content_hash


def api_writer() -> str:
    """The name of a writer calling the editing API: a writer token, or a writer's or admin's session."""
    return security.api_caller(EDITORS).name


# the editing blueprints' before_request
require_writer = security.role_required(EDITORS, lambda: _("Only writers and admins can edit articles."))


def today() -> dt.date:
    return dt.date.today()
