"""Content gaps: failed searches grouped by need across languages, the nearest article, and what to do.

Clustering (measured in bench/gap_clusters.py on failed queries built from the dev sets'
unanswerable questions; bench/results/gap_clusters.md):
- each query vector loses its language's offset (its language's mean minus the mean of all
  queries, `vectors.center_by_language` shrunk for rare languages): the same need asked in
  Chinese and in Russian comes closer, two needs in one language move apart;
- then average-linkage agglomerative clustering, stopped at `THRESHOLD`: a query joins a
  group only if it is near the group as a whole, not near one member that happened to
  be first (the old greedy leader rule chained unrelated needs through one query, and mixed
  "ошибка 502" with "потерял телефон 2fa").

The advice follows what search says about the group's own queries, not the mere nearest
article: a need the search cannot answer gets "write new" even if some article is closest.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from kb.index import vectors as vector_ops
from kb.reports.context import Context

THRESHOLD = 0.86  # cosine after the language offsets are removed; fitted in bench/gap_clusters.py (F0.5, all sets)
MAX_QUERIES = 800  # distinct failed queries clustered (the most repeated); the rest are rarer than these
ADVISED = 60  # groups, the largest first, given a nearest article and an action (a few searches each)
EXAMPLES = 5
TRANSLATE_SHARE = 0.15  # a language asks for a translation with this share of a group's searches
ACTIONS = ("write_new", "translate", "improve", "publish")


def centred(vecs: np.ndarray, langs: list[str], keep_mean: bool = True) -> np.ndarray:
    """Query vectors without their language's offset (its mean's distance from the mean of all), unit length again.

    The mean of all the queries stays (`keep_mean`): in a small log of two or three needs it is mostly those
    needs, and taking it out would set them against each other rather than against the language.
    """
    x = np.asarray(vecs, dtype=np.float32)
    out = vector_ops.center_by_language(x, [lang or "?" for lang in langs])
    if keep_mean and len(x):
        out += x.mean(axis=0)
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def cluster(vecs: np.ndarray, langs: list[str], threshold: float = THRESHOLD, centre: bool = True,
            keep_mean: bool = True) -> list[list[int]]:
    """Groups of row indices: average-linkage clustering of the centred vectors, merging while the two closest
    groups' mean pairwise cosine is at least `threshold`. Each group lists its rows in input order.
    (`centre` False: the raw vectors, for the benchmark's comparison.)"""
    n = len(vecs)
    if n == 0:
        return []
    x = centred(vecs, langs, keep_mean) if centre else np.asarray(vecs, dtype=np.float32)
    sim = x @ x.T
    np.fill_diagonal(sim, -np.inf)
    size = np.ones(n)
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    while len(members) > 1:
        flat = int(np.argmax(sim))
        i, j = divmod(flat, n)
        if sim[i, j] < threshold:
            break
        merged = (size[i] * sim[i] + size[j] * sim[j]) / (size[i] + size[j])  # Lance-Williams, average linkage
        sim[i], sim[:, i] = merged, merged
        sim[i, i] = -np.inf
        sim[j], sim[:, j] = -np.inf, -np.inf
        size[i] += size[j]
        members[i] += members.pop(j)
    return [sorted(m) for m in sorted(members.values(), key=min)]


@dataclass
class Gap:
    queries: list[str]
    langs: Counter = field(default_factory=Counter)
    volume: int = 0
    unanswered: int = 0


def gaps(ctx: Context, threshold: float = THRESHOLD, advised: int = ADVISED) -> list[dict]:
    """Failed searches clustered by meaning across languages, with the nearest article and an action.

    A search failed when it returned nothing, did not answer (the no-answer page, or `"answered": false`
    in the API), or when nobody clicked a result of a help-center search; `unanswered` counts the first
    two kinds. `examples` are the most searched queries, `langs` the languages searched in; `action` is one
    of ACTIONS (`action_langs`: the languages to translate into); only the
    `advised` largest groups get one (and a nearest article): each costs a few searches.
    """
    rows = ctx.activity.failed_searches(ctx.since, limit=MAX_QUERIES)
    if not rows or ctx.embedder is None:
        return []
    vecs = ctx.embedder.embed_queries([r[0] for r in rows])
    groups = []
    for members in cluster(vecs, [r[1] for r in rows], threshold):
        g = Gap(queries=[rows[i][0] for i in members])
        for i in members:
            g.langs[rows[i][1] or "?"] += rows[i][2]
            g.volume += rows[i][2]
            g.unanswered += rows[i][3]
        groups.append(g)
    groups.sort(key=lambda g: (-g.volume, g.queries[0]))
    return [_row(ctx, g, i < advised) for i, g in enumerate(groups)]


def _row(ctx: Context, g: Gap, advise_it: bool) -> dict:
    lang = g.langs.most_common(1)[0][0]
    langs = sorted(g.langs)
    if not advise_it:
        return {"volume": g.volume, "unanswered": g.unanswered, "examples": g.queries[:EXAMPLES],
                "langs": langs, "nearest_id": None, "nearest_title": None, "nearest_lang": None,
                "action": None, "action_langs": [], "lang": lang}
    top, answered = _nearest(ctx, g.queries[:3], lang)
    wanted = [k for k in langs if g.langs[k] >= TRANSLATE_SHARE * g.volume]  # not one stray detection
    internal = _internal_near(ctx, g.queries[0], lang, top if answered else None)
    action, into = advise(top, answered, wanted, internal=internal.id if internal else None)
    if action == "publish":
        top = internal  # the article to start from
    return {"volume": g.volume, "unanswered": g.unanswered, "examples": g.queries[:EXAMPLES],
            "langs": langs, "nearest_id": top.id if top else None,
            "nearest_title": top.title if top else None, "nearest_lang": top.lang if top else None,
            "action": action, "action_langs": into, "lang": lang}


def _nearest(ctx: Context, queries: list[str], lang: str):
    """The public article the group's queries find most often, and whether search called it an answer."""
    if ctx.searcher is None:
        return None, False
    found, answered = Counter(), Counter()
    first = {}
    for q in queries:
        resp = ctx.searcher.search(q, ui_lang=None if lang == "?" else lang, k=1)
        if resp.results:
            top = resp.results[0]
            found[top.id] += 1
            answered[top.id] += bool(resp.answered)
            first.setdefault(top.id, top)
    if not found:
        return None, False
    best = found.most_common(1)[0][0]
    return first[best], answered[best] * 2 > found[best]


def _internal_near(ctx: Context, query: str, lang: str, public_answer):
    """An internal article that answers the need when no public one does: agents know, customers cannot."""
    if ctx.searcher is None or public_answer is not None:
        return None
    resp = ctx.searcher.search(query, ui_lang=None if lang == "?" else lang, k=1, audience="internal")
    if resp.answered and resp.results and resp.results[0].visibility == "internal":
        return resp.results[0]
    return None


def advise(top, answered: bool, langs: list[str], internal: str | None = None) -> tuple[str, list[str]]:
    """(action, languages) for a group of failed searches.

    - the search answers them with a public article that lacks some of their languages: translate it;
    - it answers them in their languages, yet they failed (no click): improve it (title, the words searched);
    - only an internal article answers: publish a customer version of it;
    - nothing answers: write a new article, whatever article happens to be nearest.
    """
    if top is not None and answered:
        missing = [lang for lang in langs if lang != "?" and lang not in top.languages]
        return ("translate", missing) if missing else ("improve", [])
    if internal:
        return "publish", []
    return "write_new", []
