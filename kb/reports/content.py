"""Reports on the articles themselves: overdue reviews, outdated translations, links, duplicates."""

from __future__ import annotations

import datetime as dt

import numpy as np

from kb.articles import drift
from kb.reports.context import Context


def stale(ctx: Context) -> list[dict]:
    """Reviews overdue (reviewed + review_every has passed) or never recorded, grouped by owner."""
    rows = []
    for a in ctx.store.articles():
        every = a.review_every or ctx.review_every_default
        last = a.reviewed or a.updated
        if last is None:
            rows.append(_row(a, reviewed=None, due=None, overdue_days=None, status="never reviewed"))
            continue
        due = last + dt.timedelta(days=every)
        if due < ctx.today:
            rows.append(_row(a, reviewed=last.isoformat(), due=due.isoformat(), overdue_days=(ctx.today - due).days,
                             status="overdue" if a.reviewed else "no review date; last update too old"))
    rows.sort(key=lambda r: (r["owner"] or "~", -(r["overdue_days"] or 10**6)))
    return rows


def translations(ctx: Context) -> list[dict]:
    """Translations whose source changed since they were made, with the sections that changed."""
    rows = []
    articles = ctx.store.articles()
    by_key = {(a.id, a.lang): a for a in articles}
    for a in articles:
        if not a.translated_from:
            continue
        source = by_key.get((a.id, a.translated_from))
        verdict = drift.judge(a, source, lambda x: ctx.store.body(x.rowid))
        if verdict.severity == "source missing":
            rows.append(_row(a, source_lang=a.translated_from, change="source missing", severity="substantive",
                             sections="", detail=f"no '{a.translated_from}' version of {a.id!r} exists"))
        elif verdict.severity == "unknown":
            rows.append(_row(a, source_lang=source.lang, change="unknown", severity="unknown", sections="",
                             detail="no source_hash recorded: add `kb hash` of the source to the front matter"))
        elif verdict.severity != "current":
            changes = verdict.changes
            rows.append(_row(
                a, source_lang=source.lang, source_updated=source.updated.isoformat() if source.updated else None,
                change="source changed", severity=verdict.severity,
                sections=", ".join(d.source_heading or "(intro)" for d in changes),
                detail=" | ".join(d.describe() for d in changes) or "wording only: numbers, code, links and steps agree"))
    rows.sort(key=lambda r: (r["severity"] != "substantive", r["id"], r["lang"]))
    return rows


def links(ctx: Context) -> list[dict]:
    """Links to missing articles, anchors or images, and public articles linking to internal ones."""
    codes = {"broken-link", "broken-anchor", "broken-image", "path-link", "internal-link"}
    paths = {a.path: a for a in ctx.store.articles()}
    rows = []
    for p in ctx.store.problems():
        if p.code in codes and p.path in paths:
            rows.append(_row(paths[p.path], line=p.line, problem=p.code, detail=p.message))
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
                      "kind": "probable duplicate" if langs[a.id] & langs[b.id] else "probable unlinked translation",
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
                add(a, b, "same facts", 1 + jaccard, jaccard)

    if len(articles) >= 20:
        vecs = _article_vectors(ctx, [a.rowid for a in articles])
        sims = vecs @ vecs.T
        np.fill_diagonal(sims, -1.0)
        knn = np.sort(sims, axis=1)[:, -k:].mean(axis=1)
        margin = sims / ((knn[:, None] + knn[None, :]) / 2)
        for i, j in zip(*np.nonzero(np.triu(margin >= ctx.duplicate_margin, 1))):
            a, b = articles[i], articles[j]
            if a.id != b.id and a.visibility == b.visibility:
                add(a, b, "similar meaning", float(margin[i, j]), float(sims[i, j]))
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
