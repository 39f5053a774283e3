"""Reports on the articles themselves: overdue reviews, outdated translations, links, duplicates.

Rows hold facts and codes (a status, the facts a section lacks, a link's target), never sentences: the
writers' page words them in its reader's language, `kb report` in English (kb/reports/text.py).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from kb.articles import drift
from kb.reports.context import Context


STALE = ("overdue", "never-reviewed", "no-review-date")  # the stale report's `status`
CHANGES = ("source-changed", "source-missing", "no-source-hash")  # the translations report's `change`
DUPLICATE_KINDS = ("duplicate", "unlinked-translation")  # the duplicates report's `kind`
EVIDENCE = ("same-facts", "similar-meaning")  # and its `evidence`


def stale(ctx: Context) -> list[dict]:
    """Reviews overdue (reviewed + review_every has passed) or never recorded, grouped by owner.

    `status`: "overdue"; "never-reviewed" (no date at all); "no-review-date" (only `updated`, too old).
    """
    rows = []
    for a in ctx.store.articles():
        every = a.review_every or ctx.review_every_default
        marked = ctx.reviewed.get((a.id, a.lang))
        reviewed = max(d for d in (a.reviewed, marked) if d) if a.reviewed or marked else None
        last = reviewed or a.updated
        if last is None:
            rows.append(_row(a, reviewed=None, due=None, overdue_days=None, status="never-reviewed"))
            continue
        due = last + dt.timedelta(days=every)
        if due < ctx.today:
            rows.append(_row(a, reviewed=last.isoformat(), due=due.isoformat(), overdue_days=(ctx.today - due).days,
                             status="overdue" if reviewed else "no-review-date"))
    rows.sort(key=lambda r: (r["owner"] or "~", -(r["overdue_days"] or 10**6)))
    return rows


def translations(ctx: Context) -> list[dict]:
    """Translations whose source changed since they were made, with the sections that changed.

    `change`: "source-changed" (then `severity` substantive or cosmetic), "source-missing" (no version in
    the language it was translated from) or "no-source-hash" (severity unknown). `sections` names the
    changed sections ("" the text before the first heading); `changes` holds each one's facts
    (drift.SectionDrift.as_facts): what the source has and the translation lacks, and the reverse.
    """
    rows = []
    articles = ctx.store.articles()
    by_key = {(a.id, a.lang): a for a in articles}
    for a in articles:
        if not a.translated_from:
            continue
        source = by_key.get((a.id, a.translated_from))
        verdict = drift.judge(a, source, lambda x: ctx.store.body(x.rowid))
        if verdict.severity == "current":
            continue
        change = {"source missing": "source-missing", "unknown": "no-source-hash"}.get(verdict.severity,
                                                                                       "source-changed")
        updated = source.updated.isoformat() if source is not None and source.updated else None
        rows.append(_row(a, source_lang=a.translated_from, source_updated=updated, change=change,
                         severity="substantive" if change == "source-missing" else verdict.severity,
                         sections=[d.source_heading for d in verdict.changes],
                         changes=[d.as_facts() for d in verdict.changes]))
    rows.sort(key=lambda r: (r["severity"] != "substantive", r["id"], r["lang"]))
    return rows


LINK_PROBLEMS = ("broken-link", "broken-anchor", "broken-image", "path-link", "internal-link")


def links(ctx: Context) -> list[dict]:
    """Links to missing articles, anchors or images, and public articles linking to internal ones.

    `problem` is the lint's code (LINK_PROBLEMS); `target` the article id (or the path, for images and
    path links) and `anchor` the section linked to.
    """
    paths = {a.path: a for a in ctx.store.articles()}
    rows = []
    for p in ctx.store.problems():
        if p.code in LINK_PROBLEMS and p.path in paths:
            rows.append(_row(paths[p.path], line=p.line, problem=p.code, target=p.facts.get("target"),
                             anchor=p.facts.get("anchor")))
    return rows


def duplicates(ctx: Context, k: int = 5) -> list[dict]:
    """Pairs of articles (translation groups) that hold the same content.

    Two kinds of evidence, because embeddings alone cannot tell "same content"
    from "same topic" in a one-domain knowledge base:

    - facts: numbers, commands, URLs and identifiers are the same in every
      language, so two groups whose facts mostly coincide (Jaccard ≥ 0.6, at
      least 5 each) are copies or translations of one another;
    - meaning: version pairs scored by margin, their similarity over the mean
      similarity of each one's k nearest neighbours (Artetxe & Schwenk, 2019),
      on article vectors with the language mean removed. Needs a knowledge
      base of some size (20 articles) for the neighbours to mean anything, and
      also finds close topics: these rows are for review, ranked by margin.

    Groups that share no language are a probable unlinked translation,
    otherwise a probable duplicate. Public/internal pairs are left out: a
    runbook that expands a public article is by design.
    """
    articles = ctx.store.articles()
    langs: dict[str, set[str]] = {}
    for a in articles:
        langs.setdefault(a.id, set()).add(a.lang)
    found: dict[tuple[str, str], dict] = {}

    def add(a, b, evidence, score, similarity):
        key = tuple(sorted((a.id, b.id)))
        if key in found and found[key]["score"] >= score:
            return
        found[key] = {"id": a.id, "lang": a.lang, "title": a.title, "other_id": b.id, "other_lang": b.lang,
                      "other_title": b.title,
                      "kind": "duplicate" if langs[a.id] & langs[b.id] else "unlinked-translation",
                      "evidence": evidence, "score": round(score, 3), "similarity": round(similarity, 3),
                      "owner": a.owner, "product": a.product, "visibility": a.visibility}

    fact_sets = {a.rowid: drift.facts(ctx.store.body(a.rowid)) for a in articles}
    for i, a in enumerate(articles):
        for b in articles[i + 1:]:
            fa, fb = fact_sets[a.rowid], fact_sets[b.rowid]
            if a.id == b.id or a.visibility != b.visibility or min(len(fa), len(fb)) < 5:
                continue
            jaccard = len(fa & fb) / len(fa | fb)
            if jaccard >= 0.6:
                add(a, b, "same-facts", 1 + jaccard, jaccard)

    if len(articles) >= 20:
        vecs = _article_vectors(ctx, [a.rowid for a in articles])
        sims = vecs @ vecs.T
        np.fill_diagonal(sims, -1.0)
        knn = np.sort(sims, axis=1)[:, -k:].mean(axis=1)
        margin = sims / ((knn[:, None] + knn[None, :]) / 2)
        for i, j in zip(*np.nonzero(np.triu(margin >= ctx.duplicate_margin, 1))):
            a, b = articles[i], articles[j]
            if a.id != b.id and a.visibility == b.visibility:
                add(a, b, "similar-meaning", float(margin[i, j]), float(sims[i, j]))
    return sorted(found.values(), key=lambda r: -r["score"])


def _article_vectors(ctx: Context, rowids: list[int]) -> np.ndarray:
    """One normalised vector per article version: the mean of its chunks, language mean removed."""
    ids, mat, langs = ctx.store.vectors(with_langs=True)
    chunk_article = ctx.store.chunk_articles()
    from kb.index.vectors import center_by_language

    mat = center_by_language(mat, langs, shrink=0)
    pos = {r: i for i, r in enumerate(rowids)}
    out = np.zeros((len(rowids), mat.shape[1]), dtype=np.float32)
    for cid, v in zip(ids, mat):
        out[pos[chunk_article[int(cid)]]] += v
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
    return out


def _row(a, **extra) -> dict:
    row = {"id": a.id, "lang": a.lang, "title": a.title, "owner": a.owner, "product": a.product,
           "visibility": a.visibility, "path": a.path}
    row.update(extra)
    return row
