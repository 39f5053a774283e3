"""Reports from what readers and agents did: feedback, unused articles, missing translations (gaps: gaps.py).

Lists stay lists (readers' comments, the languages an article has): a comment may hold any separator.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from kb.reports.context import Context


def feedback(ctx: Context) -> list[dict]:
    """Articles readers found unhelpful (enough votes, low helpful share) or agents marked not relevant."""
    votes = ctx.activity.feedback_votes(ctx.since)
    marks = ctx.activity.mark_counts(ctx.since)
    known = {(a.id, a.lang): a for a in ctx.store.articles()}
    rows = []
    seen = set()
    for aid, lang, helpful, n, reasons in votes:
        bad, good = marks.get((aid, lang), (0, 0))
        seen.add((aid, lang))
        share = helpful / n
        if (n >= ctx.min_votes and share <= ctx.max_helpful) or bad > good:
            rows.append(_usage_row(known, aid, lang, votes=n, helpful_share=round(share, 2), not_relevant=bad,
                                   solved=good, reasons=reasons))
    for (aid, lang), (bad, good) in marks.items():
        if (aid, lang) not in seen and bad > good and bad >= 1:
            rows.append(_usage_row(known, aid, lang, votes=0, helpful_share=None, not_relevant=bad, solved=good,
                                   reasons=[]))
    rows.sort(key=lambda r: (r["helpful_share"] if r["helpful_share"] is not None else 1, -r["not_relevant"]))
    return rows


def unused(ctx: Context) -> list[dict]:
    """Public articles nobody opened and no search showed in the window.

    Only searches that answered count as showing an article: on a no-answer page the three closest
    articles are offered as "not quite", and a catch-all article that is closest to every question
    nobody can answer is unused all the same. Opening it from there is a view, and counts.
    """
    viewed = ctx.activity.viewed_articles(ctx.since)
    shown = ctx.activity.shown_by_answered_searches(ctx.since)
    rows = []
    for a in ctx.store.articles(public_only=True):
        if a.id not in viewed and a.id not in shown:
            rows.append(_usage_row({(a.id, a.lang): a}, a.id, a.lang, window_days=ctx.window_days,
                                   updated=a.updated.isoformat() if a.updated else None))
    return rows


def demand(ctx: Context) -> dict[tuple[str, str], int]:
    """(article id, reader language) -> searches in that language that showed it + views by such readers."""
    out: Counter = Counter()
    for aid, lang, n in ctx.activity.demand(ctx.since):
        out[(aid, lang)] += n
    return out


def missing(ctx: Context) -> list[dict]:
    """Public articles without a version in a language the help center serves, most wanted first."""
    articles = ctx.store.articles(public_only=True)
    served = sorted({a.lang for a in articles})
    groups: dict[str, dict] = defaultdict(dict)
    for a in articles:
        groups[a.id][a.lang] = a
    wanted = demand(ctx)
    rows = []
    for aid, versions in groups.items():
        best = versions.get("en") or next(iter(versions.values()))
        for lang in served:
            if lang not in versions:
                rows.append({"id": aid, "title": best.title, "missing_lang": lang, "have": sorted(versions),
                             "demand": wanted.get((aid, lang), 0), "owner": best.owner, "product": best.product,
                             "lang": best.lang, "visibility": "public"})
    rows.sort(key=lambda r: (-r["demand"], r["id"], r["missing_lang"]))
    return rows


def _usage_row(known, aid, lang, **extra) -> dict:
    a = known.get((aid, lang))  # None: no longer in the index, and the pages show the id for the title
    row = {"id": aid, "lang": lang, "title": a.title if a else None,
           "owner": a.owner if a else None, "product": a.product if a else None,
           "visibility": a.visibility if a else None}
    row.update(extra)
    return row
