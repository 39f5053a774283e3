"""Suggested answers for an agent: the best articles for a customer's message, section by section.

Shared by the agent page and `POST /api/suggest`. Internal runbooks are
included (audience "internal") and flagged; only public articles get a link
the agent may send to the customer. Each answer carries its section as
plain text in the customer's language when a translation exists: the
section of the translation is found by meaning (the nearest chunk vector),
because translated headings have different anchors.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
from flask import g, url_for

from kb.articles import drift, render
from kb.articles.chunking import sections
from kb.search.budget import RENDER
from kb.search.searcher import Response, Result, Searcher
from kb.search.logged import logged_search

from web.services.resources import get_activity, get_audit, get_searcher, outdated_source

MAX_TEXT = 20_000


@dataclass
class Answer:
    id: str
    lang: str
    title: str
    section: str
    anchor: str
    visibility: str
    score: float
    fallback: bool  # not in the customer's language
    languages: list[str]
    snippet: str  # HTML-safe, <mark> around hits
    public_url: str | None  # for the customer; None for internal articles
    agent_url: str  # for the agent: the full article
    text: str  # the section as plain text, ready to paste
    html: str  # the section rendered, to preview
    # this translation lags behind its source in substance (kb.index.catalog): the source's language, date, agent URL
    outdated_source: dict | None = None
    # this very section's facts differ from the source's (kb.articles.drift): {"source_only", "translation_only",
    # "source_lang", "source_section", "source_text"}: Copy text warns, shows them, offers the source's wording
    drift: dict | None = None

    def to_json(self) -> dict:
        d = asdict(self)
        d["score"] = round(self.score, 4)
        d["outdated"] = self.outdated_source is not None
        if d["outdated_source"] and d["outdated_source"]["updated"]:
            d["outdated_source"]["updated"] = d["outdated_source"]["updated"].isoformat()
        return d


@dataclass
class Suggestions:
    response: Response
    customer_lang: str | None
    answers: list[Answer]
    search_id: int
    cut_short: bool = False  # rendering ran out of time: the answers rendered so far
    internal_hidden: int = 0  # runbooks left out because the search did not answer (they would be unrelated)

    @property
    def degraded(self) -> tuple[str, ...]:
        """Stages skipped or cut short to keep the request within its budget (kb/search/budget.py)."""
        return tuple(sorted(set(self.response.degraded) | ({RENDER} if self.cut_short else set())))

    @property
    def answered(self) -> bool:
        """False: none of the answers is likely to resolve the message; they are the closest, weak matches."""
        return self.response.answered


def suggest(text: str, customer_lang: str | None, k: int, route: str) -> Suggestions:
    """Search internal and public articles for a ticket; log the search; answers in the customer's language."""
    searcher = get_searcher()
    cut_short, internal_hidden = False, 0

    def show(resp):  # the answers as agents see them, each in the customer's language where one exists
        nonlocal cut_short
        nonlocal internal_hidden
        want = customer_lang or resp.detected.lang
        answers, start = [], time.perf_counter()
        results = resp.results
        if not resp.answered:  # nothing answers: the closest runbooks are as unrelated as the rest, and an agent
            results = [r for r in results if r.visibility == "public"]  # would follow their internal steps
            internal_hidden = len(resp.results) - len(results)
        for r in results:  # each answer renders its section twice (preview, text): k=50 of them adds up
            if time.perf_counter() - start > searcher.budget.render_seconds:
                cut_short = True
                break
            a = _answer(searcher, r, want)
            if a is not None:
                answers.append(a)
        return answers, resp.answered

    found = logged_search(searcher, get_activity(), text, route=route, audience="internal", ui_lang=customer_lang,
                          show=show, k=k)
    resp, answers, search_id = found.response, list(found.shown), found.search_id
    want = customer_lang or resp.detected.lang
    internal = [f"{a.id} ({a.lang})" for a in answers if a.visibility == "internal"]
    if internal:  # who was shown runbook text: the token or agent asking
        caller = g.get("api_caller")
        actor = str(caller) if caller is not None and caller.kind == "token" else g.user
        get_audit().log("internal_suggested", actor, ", ".join(internal))
    return Suggestions(resp, want, answers, search_id, cut_short, internal_hidden)


def _answer(searcher: Searcher, r: Result, want: str | None) -> Answer | None:
    lang, anchor, section = r.lang, r.anchor, r.section
    if want and want != r.lang and want in r.languages:
        lang, anchor, section = _aligned(searcher, r, want)
    found = searcher.article(r.id, lang, "internal")
    if found is None:  # removed by a re-index published since the search
        return None
    row, body = found
    public = row.is_public
    outdated = outdated_source(row, searcher.versions(r.id, "internal"))

    def resolve_external(article_id, target_anchor):
        if searcher.versions(article_id, "public"):
            return url_for("help_center.article", lang=lang, article_id=article_id, _anchor=target_anchor,
                           _external=True)
        return None

    def resolve_agent(article_id, target_anchor):
        if searcher.versions(article_id, "internal"):
            return url_for("agent.article", article_id=article_id, lang=lang, _anchor=target_anchor)
        return None

    md = _bounded(render.section_markdown(body, anchor) or "")
    # a public answer links only to public articles; an internal one may point agents to runbooks
    text = render.plain_text(md, resolve_external)
    preview = render.render(md, resolve_agent).html
    return Answer(
        id=r.id, lang=lang, title=row.title, section=section, anchor=anchor, visibility=row.visibility,
        score=r.score, fallback=bool(want) and lang != want, languages=list(r.languages),
        snippet=r.snippet if lang == r.lang else "",
        public_url=url_for("help_center.article", lang=lang, article_id=r.id, _anchor=anchor or None,
                           _external=True) if public else None,
        agent_url=url_for("agent.article", article_id=r.id, lang=lang, _anchor=anchor or None),
        text=text, html=preview, outdated_source=None if outdated is None else {
            "lang": outdated.source_lang,
            "updated": outdated.source_updated,  # a date (None: unknown); to_json writes it as ISO
            "agent_url": url_for("agent.article", article_id=r.id, lang=outdated.source_lang)},
        drift=None if outdated is None else _section_drift(searcher, r.id, outdated.source_lang, body, anchor,
                                                           resolve_external))


MAX_SECTION_CHARS = 20_000  # of one answer's section: text to paste into a reply, not a whole manual


def _bounded(md: str) -> str:
    """The section's first MAX_SECTION_CHARS, cut at a line break, then "…": a writer's 200 KB section (one long
    table, 2,000 character references) was rendered twice per answer, 2.6 s of CPU for one ticket (issue #24);
    the agent's link opens the whole article."""
    if len(md) <= MAX_SECTION_CHARS:
        return md
    cut = md.rfind("\n", 0, MAX_SECTION_CHARS)
    return md[:cut if cut > 0 else MAX_SECTION_CHARS].rstrip() + "\n\n…\n"


def _section_drift(searcher: Searcher, article_id: str, source_lang: str, body: str, anchor: str,
                   resolve) -> dict | None:
    """The facts this section of an outdated translation lacks or still has (sections aligned by position, as the
    drift report aligns them), with the source section's text to paste instead; None if its facts agree."""
    found = searcher.article(article_id, source_lang, "internal")
    index = next((i for i, sec in enumerate(sections(body)) if sec.anchor == (anchor or "")), None)
    if found is None or index is None:
        return None
    source_body = found[1]
    changed = next((d for d in drift.compare(source_body, body) if d.index == index), None)
    if changed is None or not changed.substantive:
        return None
    source_sections = sections(source_body)
    if index >= len(source_sections):
        return None
    facts = changed.as_facts(limit=8)
    return {"source_only": facts["source_only"], "translation_only": facts["translation_only"],
            "source_lang": source_lang, "source_section": changed.source_heading,
            "source_text": render.plain_text(source_sections[index].text, resolve)}


def _aligned(searcher: Searcher, r: Result, want: str) -> tuple[str, str, str]:
    """(lang, anchor, heading) of the section of the `want` translation nearest in meaning to r's section."""
    store = searcher.store
    versions = {v.lang: v for v in searcher.versions(r.id, "internal")}
    src, dst = versions.get(r.lang), versions.get(want)
    if src is None or dst is None:
        return r.lang, r.anchor, r.section
    src_ids = [c.rowid for c in store.chunks_of(src.rowid) if c.anchor == r.anchor]
    ids_s, mat_s = store.vectors_of(src.rowid)
    ids_d, mat_d = store.vectors_of(dst.rowid)
    chunks = {c.rowid: c for c in store.chunks_of(dst.rowid)}
    if not src_ids or not len(ids_d):
        first = next(iter(chunks.values()), None)
        return want, first.anchor if first else "", first.heading if first else ""
    centre = mat_s[np.isin(ids_s, src_ids)].mean(axis=0)
    best = chunks[int(ids_d[int(np.argmax(mat_d @ centre))])]
    return want, best.anchor, best.heading
