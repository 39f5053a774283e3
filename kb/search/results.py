"""Results as readers get them: one per article (translation group), in their language when it exists.

The visitor gets each article once, in their language when a version exists,
otherwise in the best other language, flagged as a fallback: a Russian query
finds a Chinese-only guide and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kb.articles import blocks
from kb.text import languages, snippets
from kb.search.generation import Generation
from kb.search.request import SearchRequest
from kb.index.store import ArticleRow, ChunkRow


@dataclass
class Result:
    id: str
    lang: str
    title: str
    section: str
    anchor: str
    score: float
    snippet: str
    visibility: str
    product: str | None
    tags: tuple[str, ...]
    fallback: bool  # not in the language the caller wanted
    languages: tuple[str, ...]  # the versions this caller may open
    updated: str | None = None
    reviewed: str | None = None

    def to_json(self) -> dict:
        return {"id": self.id, "lang": self.lang, "title": self.title, "section": self.section,
                "anchor": self.anchor, "score": round(self.score, 4), "snippet": self.snippet,
                "visibility": self.visibility, "product": self.product, "tags": list(self.tags),
                "fallback": self.fallback, "languages": list(self.languages)}


@dataclass(frozen=True, kw_only=True)
class Response:
    query: str
    detected: languages.Detection
    lang: str | None  # the language results are shown in when they exist
    results: tuple[Result, ...]
    total: int  # results before paging
    mode: str
    timings: dict[str, float] = field(default_factory=dict)
    # False when nothing found is likely to answer the query: the help center shows its no-answer page
    # and logs a failed search; agents still see the closest sections, marked as weak matches.
    answered: bool = True
    # stages skipped or cut short to stay within the request's budget (kb/search/budget.py): "dense" (keyword-only
    # results), "keyword" (dense-only), "render" (the results rendered before time ran out)
    degraded: tuple[str, ...] = ()


def rank_groups(gen: Generation, fused: dict[int, float]) -> list[tuple[str, list[int]]]:
    """(article id, its matched version rowids best first), best article first."""
    groups: dict[str, list[int]] = {}
    for r in sorted(fused, key=fused.get, reverse=True):
        groups.setdefault(gen.articles[r].id, []).append(r)
    return sorted(groups.items(), key=lambda g: fused[g[1][0]], reverse=True)


def shown_version(gen: Generation, req: SearchRequest, art_id: str, matched: list[int],
                  want: str | None) -> tuple[ArticleRow, tuple[str, ...]]:
    """The version to show (the reader's language when it exists) and the languages the reader may open."""
    versions = [v for v in gen.groups[art_id] if req.allows(v, any_language=True)]
    by_lang = {v.lang: v for v in versions}
    shown = by_lang.get(want) if (want and not req.lang) else None
    return shown or gen.articles[matched[0]], tuple(sorted(by_lang))


def make_result(gen: Generation, art_id: str, shown: ArticleRow, langs: tuple[str, ...], score: float,
                chunk: ChunkRow | None, query: str, want: str | None) -> Result:
    text = chunk.text if chunk else gen.store.body(shown.rowid)[:600]
    return Result(
        id=art_id, lang=shown.lang, title=shown.title, section=chunk.heading if chunk else "",
        anchor=chunk.anchor if chunk else "", score=float(score), snippet=snippets.make(blocks.without_fence_lines(text), query, shown.lang),
        visibility=shown.visibility, product=shown.product, tags=shown.tags,
        fallback=bool(want) and shown.lang != want, languages=langs,
        updated=shown.updated.isoformat() if shown.updated else None,
        reviewed=shown.reviewed.isoformat() if shown.reviewed else None)


def display_language(query: str, detected: languages.Detection, ui_lang: str | None, available) -> str | None:
    """The language to show results in.

    The UI language wins when the query says little about its own language
    (all-Latin technical words like "cdn 502" typed on the Chinese site);
    a query plainly in another script or language wins over the UI.
    """
    if ui_lang and ui_lang in available:
        if detected.confidence < 0.9 or detected.lang == ui_lang:
            return ui_lang
        if languages.SCRIPT_OF.get(detected.lang, "latin") == "latin":
            # Latin words typed on a Chinese or Russian site are usually technical terms;
            # between two Latin-script languages only a longer query outweighs the UI.
            if languages.SCRIPT_OF.get(ui_lang, "latin") != "latin" or len(query.split()) <= 3:
                return ui_lang
    return detected.lang
