"""Links between articles: `[text](article-id)`, `[text](article-id#anchor)` or `[text][ref]` + `[ref]: article-id`.

Writers link by article id, never by file path or language, so one link works
in every translation and survives moving files. This module finds links in a
body and checks them against the knowledge base.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from markdown.blockprocessors import ReferenceProcessor

from kb.articles import blocks
from kb.articles.model import ID_PATTERN, Article, Problem
from kb.articles.chunking import sections

# Link text and target exclude the brackets that open another link: each scan stops at the next one,
# so a line of 100,000 "[" is linear, not hours of backtracking.
_LINK = re.compile(r"(!?)\[([^\[\]]*)\]\(\s*<?([^)\[\]\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_IMAGE_REF = re.compile(r"!\[([^\]]*)\]\[([^\]]*)\]")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


@dataclass(frozen=True)
class Link:
    target: str  # as written
    article_id: str | None  # for links to other articles
    anchor: str | None
    image: bool
    line: int  # within the body, 1-based


def find(body: str) -> list[Link]:
    """Links outside code blocks; external URLs (with a scheme) are not returned."""
    masked = blocks.mask_code(body)
    masked = re.sub(r"`[^`\n]*`", lambda m: " " * len(m.group()), masked)
    found = [(m.start(), bool(m.group(1)), m.group(3)) for m in _LINK.finditer(masked)]
    # reference-style links: `[text][ref]` with `[ref]: article-id` on a line of its own
    images = {(m.group(2) or m.group(1)).strip().lower() for m in _IMAGE_REF.finditer(masked)}
    found += [(m.start(), m.group(1).strip().lower() in images, m.group(2).lstrip("<").rstrip(">"))
              for m in ReferenceProcessor.RE.finditer(masked)]
    out = []
    line, counted = 1, 0
    for start, image, target in sorted(found):
        if _SCHEME.match(target) or target.startswith("//"):
            continue
        line += masked.count("\n", counted, start)  # counted as we go: linear in the body, however many links
        counted = start
        if image:
            out.append(Link(target, None, None, True, line))
            continue
        path, _, anchor = target.partition("#")
        if not path:  # same-article anchor
            out.append(Link(target, "", anchor or None, False, line))
        elif ID_PATTERN.match(path) and "/" not in path and not path.endswith(".md"):
            out.append(Link(target, path, anchor or None, False, line))
        else:  # a path-style link: we cannot resolve it by id
            out.append(Link(target, None, anchor or None, False, line))
    return out


class Targets:
    """The articles links may point to, by id; each version's section anchors are worked out when first asked."""

    def __init__(self, articles: Iterable[Article]):
        self.by_id: dict[str, list[Article]] = {}
        for a in articles:
            self.by_id.setdefault(a.id, []).append(a)
        self._anchors: dict[tuple[str, str], set[str]] = {}

    def anchors(self, article_id: str, lang: str | None = None) -> set[str] | None:
        """The anchors of (id, lang); with `lang` None, of every version (a link resolves in any language)."""
        if lang is None:
            return set().union(*(self.anchors(v.id, v.lang) for v in self.by_id.get(article_id, [])))
        if (article_id, lang) not in self._anchors:
            version = next((v for v in self.by_id.get(article_id, []) if v.lang == lang), None)
            if version is None:
                return None
            self._anchors[(article_id, lang)] = {s.anchor for s in sections(version.body) if s.anchor}
        return self._anchors[(article_id, lang)]


def check(articles: Iterable[Article], existing_files: set[str]) -> list[Problem]:
    """Every link problem of `articles`, each link checked against `articles` themselves."""
    arts = list(articles)
    targets = Targets(arts)
    return [p for a in arts for p in check_article(a, targets, existing_files)]


def check_article(a: Article, targets: Targets, existing_files: Iterable[str]) -> list[Problem]:
    """Broken links (missing article, anchor or image) and public articles linking to internal ones."""
    problems = []
    for link in find(a.body):
        line = a.body_line + link.line - 1
        if link.image:
            target = posixpath.normpath(str(PurePosixPath(a.path).parent / link.target.split("?")[0]))
            if target not in existing_files:
                problems.append(Problem(a.path, line, "warning", f"image {link.target!r} not found", "broken-image",
                                        {"target": link.target}))
            continue
        if link.article_id is None:
            if posixpath.normpath(str(PurePosixPath(a.path).parent / link.target.split("#")[0])) in existing_files \
                    and not link.target.endswith(".md"):
                continue  # an attachment beside the article (a PDF, an archive): served with it
            problems.append(Problem(a.path, line, "warning", f"link {link.target!r} is not an article id; link to "
                                    "articles as (article-id) or (article-id#anchor)", "path-link",
                                    {"target": link.target}))
            continue
        target_id = link.article_id or a.id
        facts = {"target": target_id, "anchor": link.anchor} if link.anchor else {"target": target_id}
        versions = targets.by_id.get(target_id)
        if not versions:
            problems.append(Problem(a.path, line, "warning", f"link to missing article {target_id!r}", "broken-link",
                                    facts))
            continue
        if a.is_public and not any(v.is_public for v in versions):
            problems.append(Problem(a.path, line, "warning", f"public article links to internal article "
                                    f"{target_id!r}; customers will see plain text", "internal-link", facts))
        if link.anchor:
            pool = targets.anchors(target_id, a.lang)
            if link.anchor not in (pool if pool is not None else targets.anchors(target_id)):
                problems.append(Problem(a.path, line, "warning", f"link to missing section '#{link.anchor}' in "
                                        f"article {target_id!r}", "broken-anchor", facts))
    return problems
