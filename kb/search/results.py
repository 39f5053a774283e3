"""Results as readers get them: one per article (translation group), in their language when it exists.

The visitor gets each article once, in their language when a version exists,
otherwise in the next language of one fixed order (kb/text/fallback.py: the
sibling script, converted; the source; the knowledge base's default), flagged
as a fallback: a Russian query finds a Chinese-only guide and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kb.articles import blocks
from kb.text import chinese, fallback, languages, snippets
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
    converted: bool = False  # title, section and snippet converted into the reader's script (zh ↔ zh-Hant)
    feedback: float = 0.0  # what learning (kb/learning) added to the fused score; `kb search --explain` shows it
    rank_before: int | None = None  # its place (0 first) before learning reordered the results; None: no learning

    def to_json(self) -> dict:
        return {"id": self.id, "lang": self.lang, "title": self.title, "section": self.section,
                "anchor": self.anchor, "score": round(self.score, 4), "snippet": self.snippet,
                "visibility": self.visibility, "product": self.product, "tags": list(self.tags),
                "fallback": self.fallback, "converted": self.converted, "languages": list(self.languages)}


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
    # not answered because the question rests on these words, which no article the caller may see uses
    # (kb/search/novelty.py): "websocket" in "does the CDN support websocket connections"
    missing: tuple[str, ...] = ()


def rank_groups(gen: Generation, fused: dict[int, float]) -> list[tuple[str, list[int]]]:
    """(article id, its matched version rowids best first), best article first.

    Equal scores are ordered by rowid (ids and languages in index order), so a
    tie never depends on the order the candidates were collected in.
    """
    groups: dict[str, list[int]] = {}
    for r in sorted(fused, key=lambda r: (-fused[r], r)):
        groups.setdefault(gen.articles[r].id, []).append(r)
    return list(groups.items())  # in order of each article's best version


# Results an answered search shows: those whose fused score is within this of the first. Fusion puts the best
# article at about 1 and one a whole `scale` of cosine below it, with no keyword match, at 0 (kb/search/fusion.py),
# so the margin means the same in every knowledge base. bench/results/result_cut.md, the sample's 63 queries:
# results per answered search 33 on average (34 median) uncut, 4.5 (3) at 0.6 with every relevant article kept
# and nDCG@10 unchanged; at 0.5 one of a query's two relevant articles is lost.
MARGIN = 0.6


def within(ranked: list, margin: float | None = None, score=lambda item: item[1]) -> list:
    """The leading items of `ranked` (best first) whose score is within `margin` (default MARGIN) of the first's."""
    if not ranked:
        return ranked
    floor = score(ranked[0]) - (MARGIN if margin is None else margin)
    return [item for item in ranked if score(item) >= floor]


def shown_version(gen: Generation, req: SearchRequest, art_id: str, matched: list[int],
                  want: str | None) -> tuple[ArticleRow, tuple[str, ...]]:
    """The version to show and the languages the reader may open: the matched one when the request filters
    on a language, else the first in the reader's fallback order (kb/text/fallback.py)."""
    versions = [v for v in gen.groups[art_id] if req.allows(v, any_language=True)]
    langs = tuple(sorted(v.lang for v in versions))
    if req.lang:
        return gen.articles[matched[0]], langs
    return fallback.choose(versions, want, gen.main_lang), langs


def make_result(gen: Generation, art_id: str, shown: ArticleRow, langs: tuple[str, ...], score: float,
                chunk: ChunkRow | None, query: str, want: str | None) -> Result:
    """The result as the reader sees it; a version in the sibling script of theirs is converted into theirs
    (its snippet highlighted for the query converted into the version's script)."""
    text = chunk.text if chunk else gen.store.body(shown.rowid)[:600]
    convert = fallback.converted(shown.lang, want)
    snippet = snippets.make(blocks.without_fence_lines(text), chinese.convert(query, shown.lang) if convert else query,
                            shown.lang)
    title, section = shown.title, chunk.heading if chunk else ""
    if convert:
        title, section, snippet = (chinese.convert(t, want) for t in (title, section, snippet))
    return Result(
        id=art_id, lang=shown.lang, title=title, section=section,
        anchor=chunk.anchor if chunk else "", score=float(score), snippet=snippet,
        visibility=shown.visibility, product=shown.product, tags=shown.tags,
        fallback=bool(want) and shown.lang != want, languages=langs,
        updated=shown.updated.isoformat() if shown.updated else None,
        reviewed=shown.reviewed.isoformat() if shown.reviewed else None, converted=convert)


def display_language(query: str, detected: languages.Detection, ui_lang: str | None, available) -> str | None:
    """The language to show results in.

    The UI language wins when the query says little about its own language
    (all-Latin technical words like "cdn 502" typed on the Chinese site);
    a query plainly in another script or language wins over the UI.
    """
    if ui_lang and (ui_lang in available or languages.SIBLING.get(ui_lang) in available):  # zh-Hant reads zh
        if detected.confidence < 0.9 or detected.lang == ui_lang:
            return ui_lang
        if languages.SCRIPT_OF.get(detected.lang, "latin") == "latin":
            # Latin words typed on a Chinese or Russian site are usually technical terms;
            # between two Latin-script languages only a longer query outweighs the UI.
            if languages.SCRIPT_OF.get(ui_lang, "latin") != "latin" or len(query.split()) <= 3:
                return ui_lang
    return detected.lang
