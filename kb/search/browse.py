"""Browsing the help center: products, their topics, featured and recent articles, for one reader language.

Categories come from the front matter writers already keep: `product` is the
category, `tags` give its topics. A product page groups its articles under a
few topics chosen greedily (the tag that covers the most articles not yet
placed, while it covers at least two), so every article shows once and the
page reads like a table of contents; a topic page lists every article with
that tag. Only public versions count, everywhere: an internal runbook never
adds a product, a topic, a count or a featured entry for customers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from kb.search.generation import Generation
from kb.text import fallback
from kb.index.store import ArticleRow

MIN_TOPIC = 2  # articles a tag needs to be a section of its product's page
_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class Section:
    topic: str | None  # None: the product's articles no topic section holds
    articles: list[ArticleRow]
    total: int  # articles with this tag in the product (the topic page lists them all)


@dataclass(frozen=True)
class Product:
    slug: str
    count: int  # public articles (translation groups)
    sections: list[Section] = field(default_factory=list)


def public_groups(gen: Generation) -> dict[str, list[ArticleRow]]:
    """Article id → its public versions; ids with none are left out. Made once per generation."""
    found = gen.memo.get("public_groups")
    if found is None:
        found = gen.memo["public_groups"] = {i: vs for i, vs in (
            (art_id, [v for v in versions if v.is_public]) for art_id, versions in gen.groups.items()) if vs}
    return found


def pick(versions: list[ArticleRow], lang: str, default: str | None = "en") -> ArticleRow:
    """The version to list for a reader of `lang`, in the order every page uses (kb/text/fallback.py);
    `default` is the knowledge base's default language (Generation.main_lang)."""
    return fallback.choose(versions, lang, default)


def products(gen: Generation) -> list[tuple[str, int]]:
    """(product, number of public articles), most articles first. Made once per generation."""
    found = gen.memo.get("products")
    if found is None:
        counts: dict[str, int] = {}
        for versions in public_groups(gen).values():
            p = _product(versions)
            if p:
                counts[p] = counts.get(p, 0) + 1
        found = gen.memo["products"] = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return found


def product(gen: Generation, slug: str, lang: str) -> Product | None:
    """A product's page: its topic sections, then its other articles; None if it has no public article."""
    groups = {i: vs for i, vs in public_groups(gen).items() if _product(vs) == slug}
    if not groups:
        return None
    tags = {i: _tags(vs, slug) for i, vs in groups.items()}
    totals: dict[str, int] = {}
    for ts in tags.values():
        for t in ts:
            totals[t] = totals.get(t, 0) + 1
    left = set(groups)
    sections = []
    while True:
        cover = {t: sum(1 for i in left if t in tags[i]) for t in totals}
        best = max(sorted(cover), key=lambda t: cover[t], default=None)
        if best is None or cover[best] < MIN_TOPIC:
            break
        placed = {i for i in left if best in tags[i]}
        left -= placed
        sections.append(Section(best, _listed(gen, groups, placed, lang), totals[best]))
    if left:
        sections.append(Section(None, _listed(gen, groups, left, lang), len(left)))
    return Product(slug, len(groups), sections)


def topic(gen: Generation, product_slug: str, tag: str, lang: str) -> list[ArticleRow]:
    """Every public article of the product with this tag, in the reader's language where it exists."""
    groups = {i: vs for i, vs in public_groups(gen).items() if _product(vs) == product_slug}
    return _listed(gen, groups, {i for i, vs in groups.items() if tag in _tags(vs, product_slug)}, lang)


def topics_of(row: ArticleRow) -> list[str]:
    """The tags of an article that have a topic page (tags of its public product, the product itself left out)."""
    if not row.product or not row.is_public:
        return []
    return [t for t in row.tags if t != row.product and "/" not in t]


def featured(gen: Generation, lang: str, exclude: set[str] = frozenset(), limit: int = 8) -> list[ArticleRow]:
    groups = public_groups(gen)
    ids = [i for i in groups if gen.catalog.is_featured(i) and i not in exclude]
    return _newest_first([pick(groups[i], lang, gen.main_lang) for i in ids], lang)[:limit]


def recent(gen: Generation, lang: str, exclude: set[str] = frozenset(), limit: int = 8) -> list[ArticleRow]:
    groups = public_groups(gen)
    return _newest_first([pick(vs, lang, gen.main_lang) for i, vs in groups.items() if i not in exclude], lang)[:limit]


def _newest_first(rows: list[ArticleRow], lang: str) -> list[ArticleRow]:
    """The reader's language first, then the newest (updated, else reviewed)."""
    return sorted(rows, key=lambda a: (a.lang == lang, a.updated or a.reviewed or _EPOCH, a.id), reverse=True)


def _listed(gen: Generation, groups: dict, ids: set[str], lang: str) -> list[ArticleRow]:
    """Featured first, then by title."""
    rows = [pick(groups[i], lang, gen.main_lang) for i in ids]
    return sorted(rows, key=lambda a: (not gen.catalog.is_featured(a.id), a.title.casefold(), a.id))


def _product(versions: list[ArticleRow]) -> str | None:
    return next((v.product for v in versions if v.product), None)


def _tags(versions: list[ArticleRow], product_slug: str) -> set[str]:
    return {t for v in versions for t in v.tags if t != product_slug and "/" not in t}
