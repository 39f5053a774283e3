"""Images and attachments beside the articles (`kb import` copies them there), served with the article that uses them.

A file is served only under an article that links to it, and only while the reader may see that
article: an internal article's screenshots never reach customers, and no other file of the articles
folder (a draft, labels.yml) is reachable by guessing its path. Without an articles folder (a replica
serving only the index) images show their alt text, never a broken page.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from flask import abort, current_app, send_file, url_for

from kb.articles import links
from kb.index.store import ArticleRow

IMAGES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
          ".webp": "image/webp", ".avif": "image/avif", ".bmp": "image/bmp", ".ico": "image/x-icon",
          ".svg": "image/svg+xml"}
# an SVG opened on its own runs no script, and nothing a file holds can act as a page of this site
HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
           "X-Content-Type-Options": "nosniff"}


def _root() -> Path | None:
    articles = current_app.config.get("ARTICLES")
    return Path(articles).resolve() if articles else None


def _located(row: ArticleRow, target: str) -> str | None:
    """A link target of the article as a path inside the articles folder, None if it leaves it."""
    path = posixpath.normpath(posixpath.join(posixpath.dirname(row.path), target.split("#")[0].split("?")[0]))
    return None if path.startswith(("..", "/")) or path == "." else path


def resolver(row: ArticleRow, endpoint: str, lang: str):
    """The `media` callable for kb.articles.render: a target's URL when the file is there, else None."""
    root = _root()

    def media(target: str) -> str | None:
        path = _located(row, target)
        if root is None or path is None or not (root / path).is_file():
            return None
        return url_for(endpoint, lang=lang, article_id=row.id, path=path)

    return media


def send(row: ArticleRow, body: str, path: str):
    """The file at `path` (inside the articles folder) if this version of the article links to it; 404 otherwise."""
    root = _root()
    used = {_located(row, link.target) for link in links.find(body) if not link.article_id}
    if root is None or path not in used or path.endswith(".md"):
        abort(404)
    file = (root / path).resolve()
    if not file.is_relative_to(root) or not file.is_file():
        abort(404)
    kind = IMAGES.get(file.suffix.lower())
    response = send_file(file, mimetype=kind or "application/octet-stream", as_attachment=kind is None,
                         max_age=3600)
    response.headers.update(HEADERS)
    return response
