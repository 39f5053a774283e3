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

The advice follows where the group's own searches lead, not the mere nearest article: what readers
who searched those words opened, or, without enough of them, whether search answers at least half of
them with it. A need nothing leads to gets "write new" even if some article is closest, and even if search called
that article an answer (a knowledge base that never covered a need still has a closest article).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from kb.index import vectors as vector_ops
from kb.reports.context import Context

THRESHOLD = 0.88  # cosine after the language offsets are removed; fitted in bench/gap_clusters.py (F0.5, all sets and the sample)
MAX_QUERIES = 800  # distinct failed queries clustered (the most repeated); the rest are rarer than these
ADVISED = 60  # groups, the largest first, given a nearest article and an action (a few searches each)
EXAMPLES = 5
SEARCHED = 5  # queries of a group searched again to find its nearest article (one per language first)
MIN_SHOWN = 5  # answered help-center searches showing the nearest article before readers' clicks decide
OPENED_SHARE = 0.3  # of those, opened at least this share: readers who searched these words chose it
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
    queries: list[str]  # the most searched first
    qlangs: list[str] = field(default_factory=list)  # each query's language, in the same order
    langs: Counter = field(default_factory=Counter)
    volume: int = 0
    unanswered: int = 0


def gaps(ctx: Context, threshold: float = THRESHOLD, advised: int = ADVISED) -> list[dict]:
    """Failed searches clustered by meaning across languages, with the nearest article and an action.

    A search failed when it returned nothing, did not answer (the no-answer page, or `"answered": false`
    in the API), or when nobody clicked a result of a help-center search; `unanswered` counts the first
    two kinds. `examples` are the most searched queries, each language of the group in turn (`example_langs`:
    theirs), `langs` the languages searched in; `action` is one of ACTIONS (`action_langs`: the languages to
    translate into); only the `advised` largest groups get one (and a nearest article): each costs a few
    searches.
    """
    rows = ctx.activity.failed_searches(ctx.since, limit=MAX_QUERIES)
    if not rows or ctx.embedder is None:
        return []
    vecs = ctx.embedder.embed_queries([r[0] for r in rows])
    groups = []
    for members in cluster(vecs, [r[1] for r in rows], threshold):
        g = Gap(queries=[rows[i][0] for i in members], qlangs=[rows[i][1] or "?" for i in members])
        for i in members:
            g.langs[rows[i][1] or "?"] += rows[i][2]
            g.volume += rows[i][2]
            g.unanswered += rows[i][3]
        groups.append(g)
    groups.sort(key=lambda g: (-g.volume, g.queries[0]))
    return [_row(ctx, g, i < advised) for i, g in enumerate(groups)]


def examples(g: Gap, n: int = EXAMPLES) -> list[tuple[str, str]]:
    """(query, language): the most searched query of each language in turn, so a group asked in Chinese and
    Russian shows both, whatever language the writer reads. The most searched query comes first (a work item
    on the group is keyed by it: kb/reports/workitems.py), then the languages by their searches."""
    by_lang: dict[str, list[str]] = {}
    for q, lang in zip(g.queries, g.qlangs):  # `queries` is in input order: the most searched first
        by_lang.setdefault(lang, []).append(q)
    order = sorted(by_lang, key=lambda k: (k != g.qlangs[0], -g.langs[k], k))
    out = []
    for depth in range(n):
        out += [(by_lang[k][depth], k) for k in order if depth < len(by_lang[k])]
    return out[:n]


def _row(ctx: Context, g: Gap, advise_it: bool) -> dict:
    lang = g.langs.most_common(1)[0][0]
    langs = sorted(g.langs)
    shown = examples(g)
    row = {"volume": g.volume, "unanswered": g.unanswered, "examples": [q for q, _ in shown],
           "example_langs": [k for _, k in shown], "langs": langs, "nearest_id": None, "nearest_title": None,
           "nearest_lang": None, "action": None, "action_langs": [], "lang": lang}
    if not advise_it:
        return row
    top, searched = _nearest(ctx, g, lang)
    opened = ctx.activity.opened_from(ctx.since, g.queries)
    top = _chosen(ctx, opened, lang) or top  # the article readers of these searches open, if search ranks another
    led = leads_to(top, searched, opened)
    wanted = [k for k in langs if g.langs[k] >= TRANSLATE_SHARE * g.volume]  # not one stray detection
    internal = _internal_near(ctx, g.queries[0], lang, top if led else None)
    action, into = advise(top, led, wanted, internal=internal.id if internal else None)
    if action == "publish":
        top = internal  # the article to start from
    return {**row, "nearest_id": top.id if top else None, "nearest_title": top.title if top else None,
            "nearest_lang": top.lang if top else None, "action": action, "action_langs": into}


def _nearest(ctx: Context, g: Gap, lang: str):
    """The public article the group's most searched queries (one per language first) find first, and for how many
    of them search answered with it: (that article, (answered with it, queries searched))."""
    if ctx.searcher is None:
        return None, (0, 0)
    found, answered = Counter(), Counter()
    first = {}
    asked = examples(g, SEARCHED)
    for q, q_lang in asked:
        resp = ctx.searcher.search(q, ui_lang=None if q_lang == "?" else q_lang, k=1)
        if resp.results:
            top = resp.results[0]
            found[top.id] += 1
            answered[top.id] += bool(resp.answered)
            first.setdefault(top.id, top)
    if not found:
        return None, (0, len(asked))
    best = found.most_common(1)[0][0]
    return first[best], (answered[best], len(asked))


def _chosen(ctx: Context, opened: dict[str, tuple[int, int]], lang: str):
    """The public article readers who searched these words opened most, when enough of them opened it
    (`leads_to`'s rule), as a result-like row in the group's language where it has one; else None."""
    picked = [(k, aid) for aid, (n, k) in opened.items() if n >= MIN_SHOWN and k >= OPENED_SHARE * n]
    if not picked or ctx.searcher is None:
        return None
    versions = ctx.searcher.versions(max(picked)[1])
    if not versions:
        return None
    v = next((r for r in versions if r.lang == lang), versions[0])
    return SimpleNamespace(id=v.id, title=v.title, lang=v.lang, languages=tuple(sorted(r.lang for r in versions)))


def leads_to(top, searched: tuple[int, int], opened: dict[str, tuple[int, int]]) -> bool:
    """Do the group's searches lead to `top`, so that improving or translating it serves them?

    Readers' choices decide when there are enough of them: of the help-center searches of these words that
    showed `top` (answered), at least OPENED_SHARE opened it (a right article is opened about three times in
    four, an unrelated one shown first about once in eight: demo/traffic.py's readers, and what the sample's
    traffic shows). Without that many, search decides: it answers with `top` for at least half the queries
    searched (a need asked in four languages of an article in two is answered in those two), not just one.
    With them, a search that called an unrelated article an answer (the closest of a knowledge base that
    never covered the need) no longer makes it "the article to improve"."""
    if top is None:
        return False
    times, chosen = opened.get(top.id, (0, 0))
    if times >= MIN_SHOWN:
        return chosen >= OPENED_SHARE * times
    hits, asked = searched
    return hits * 2 >= asked


def _internal_near(ctx: Context, query: str, lang: str, public_answer):
    """An internal article that answers the need when no public one does: agents know, customers cannot."""
    if ctx.searcher is None or public_answer is not None:
        return None
    resp = ctx.searcher.search(query, ui_lang=None if lang == "?" else lang, k=1, audience="internal")
    if resp.answered and resp.results and resp.results[0].visibility == "internal":
        return resp.results[0]
    return None


def advise(top, led: bool, langs: list[str], internal: str | None = None) -> tuple[str, list[str]]:
    """(action, languages) for a group of failed searches; `led`: its searches lead to `top` (`leads_to`).

    - they lead to a public article that lacks some of their languages: translate it;
    - they lead to it in their languages, yet these failed (no click): improve it (title, the words searched);
    - only an internal article answers: publish a customer version of it;
    - nothing they lead to: write a new article, whatever article happens to be nearest.
    """
    if top is not None and led:
        missing = [lang for lang in langs if lang != "?" and lang not in top.languages]
        return ("translate", missing) if missing else ("improve", [])
    if internal:
        return "publish", []
    return "write_new", []
