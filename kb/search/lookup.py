"""Articles by id for a reader: the versions they may see, one version's text, its semantic neighbours."""

from __future__ import annotations

import numpy as np

from kb.index import vectors
from kb.index.store import ArticleRow
from kb.search.generation import Generation
from kb.search.request import CANDIDATES, SearchRequest
from kb.search.results import Result
from kb.text import fallback


def versions(gen: Generation, article_id: str, audience: str = "public") -> list[ArticleRow]:
    """The versions of an article this audience may see (none: it does not exist for them)."""
    return gen.visible(article_id, audience)


def article(gen: Generation, article_id: str, lang: str | None, audience: str = "public"
            ) -> tuple[ArticleRow, str] | None:
    """(row, Markdown body) of the version in `lang`, or of the next in the fallback order (kb/text/fallback.py);
    None if not visible.

    One generation for the row and its body: rowids differ between generations."""
    found = gen.visible(article_id, audience)
    if not found:
        return None
    row = fallback.choose(found, lang, gen.main_lang)
    return row, gen.store.body(row.rowid)


def related(gen: Generation, article_id: str, lang: str | None, audience: str = "public", k: int = 5) -> list[Result]:
    """Semantic neighbours of an article: other groups nearest to its mean chunk vector."""
    own = gen.visible(article_id, audience)
    mats = [m for m in (gen.store.vectors_of(v.rowid)[1] for v in own) if len(m)]
    if not mats:
        return []
    centre = np.vstack(mats).mean(axis=0)
    centre /= max(float(np.linalg.norm(centre)), 1e-9)
    req = SearchRequest(audience=audience)
    best: dict[str, tuple[float, int]] = {}
    for cid, s in vectors.search(gen.index(req.public), centre, CANDIDATES):
        a = gen.articles[gen.chunk_article[cid]]
        if a.id != article_id and req.allows(a) and s > best.get(a.id, (-9, 0))[0]:
            best[a.id] = (s, a.rowid)
    out = []
    for art_id, (score, _rowid) in sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))[:k]:
        vs = {v.lang: v for v in gen.visible(art_id, audience)}
        shown = fallback.choose(list(vs.values()), lang, gen.main_lang)
        out.append(Result(id=art_id, lang=shown.lang, title=shown.title, section="", anchor="", score=score,
                          snippet="", visibility=shown.visibility, product=shown.product, tags=shown.tags,
                          fallback=bool(lang) and shown.lang != lang, languages=tuple(sorted(vs))))
    return out
