"""Learning from simulated readers on StackFAQ: does feedback on some paraphrases help the others?

    python bench/learning.py            # rewrites bench/results/learning.md (a few minutes the first time)

StackFAQ (../shared/bench/stackfaq, read in place) has 125 questions, each with
several answers and ~10 human paraphrases. Per question, half the paraphrases
are *logged*: simulated readers search them; the other half are never searched.
Each of the 5,000 sessions searches one logged paraphrase (polykb's own hybrid
ranking, no learning), examines rank k with probability 1/(1 + 0.6·(k−1)) (the
readers' curve; the model assumes 1/k, so the model is not handed the truth),
opens an examined relevant answer with probability 0.8 and an irrelevant one
with 0.05, votes helpful on 30% of the relevant ones it opened and unhelpful on
30% of the irrelevant ones, and comes straight back (a bounce) from an
irrelevant one. Noisy: 30% of the clicks go to a random shown result instead.
Each session is one reader. The learned model (kb/learning) then reranks the
top 50 of every paraphrase; nDCG@10 against the ranking without learning, on
the never-logged half (generalisation) and on the logged half. Then where the
gain is lost, and kb/learning with one of its parts taken out at a time.

Stuffing: for 100 logged questions, an irrelevant answer at rank 10 gets 1,000
helpful votes, from one address or from 5 sessions; it must stay below rank 3
for the question and every paraphrase of it.

The rankings and query vectors are computed once and cached in
bench/.work/learning/ (delete it after changing search).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import datasets, evidence  # noqa: E402
from kb.embeddings import CachedEmbedder, get_embedder  # noqa: E402
from kb.learning import caps, model, neighbours, questions  # noqa: E402
from kb.learning.events import Event, Impression  # noqa: E402
from kb.learning.learner import Learner  # noqa: E402
from kb.search import pipeline  # noqa: E402
from kb.search.budget import Budget  # noqa: E402
from kb.search.evaluation import ndcg  # noqa: E402
from kb.search.request import SearchRequest  # noqa: E402
from kb.search.searcher import Searcher  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "bench" / ".work" / "learning"
RESULT = REPO / "bench" / "results" / "learning.md"
DEPTH = 50  # results reranked per query
PAGE = 10  # what a simulated reader is shown
NOW = 1_800_000_000.0
SEED = 20261205


def baseline(name: str = "stackfaq") -> tuple[datasets.Dataset, dict[str, list[tuple[str, float]]], dict]:
    """(the set, query id -> top DEPTH (article id, fused score) without learning, query id -> vector), cached."""
    ds = datasets.load(name)
    cache = WORK / f"{name}.json"
    vec_cache = WORK / f"{name}.npy"
    if cache.exists() and vec_cache.exists():
        ranked = json.loads(cache.read_text())
        vecs = np.load(vec_cache)
        return ds, {k: [tuple(x) for x in v] for k, v in ranked.items()}, dict(zip(ranked, vecs))
    index = WORK / name / "index"
    evidence.index_with_shared_cache(datasets.write_articles(ds), index)
    searcher = Searcher(index, budget=Budget.unlimited(), correct_typos=False,
                        embedder=CachedEmbedder(get_embedder(), query_cache_size=100_000))
    gen, req = searcher.generation(), SearchRequest(k=PAGE).checked()
    fusion, _ = searcher.settings(gen)
    ranked, vecs = {}, []
    for start in range(0, len(ds.queries), 64):
        batch = ds.queries[start:start + 64]
        for q, (ev, _) in zip(batch, searcher.evidence([q["text"] for q in batch])):
            r = pipeline.fuse(gen, req, ev, fusion, frozenset(), {})
            ranked[q["id"]] = [(aid, float(r.fused[rows[0]])) for aid, rows in r.groups[:DEPTH]]
            vecs.append(np.asarray(ev.qvecs[0], dtype=np.float32))
    WORK.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(ranked))
    np.save(vec_cache, np.stack(vecs))
    return ds, ranked, dict(zip(ranked, vecs))


def split(ds: datasets.Dataset, seed: int = SEED) -> tuple[list[str], list[str]]:
    """(logged, never logged): half of each question's paraphrases each, chosen at random."""
    by_topic: dict[str, list[str]] = {}
    for q in ds.queries:
        topic = min(ds.qrels[q["id"]]).split("a", 1)[0]
        by_topic.setdefault(topic, []).append(q["id"])
    rng = random.Random(seed)
    logged, unlogged = [], []
    for ids in by_topic.values():
        rng.shuffle(ids)
        half = (len(ids) + 1) // 2
        logged += ids[:half]
        unlogged += ids[half:]
    return logged, unlogged


def examined(rank: int) -> float:
    """The simulated readers' own examination curve (not the model's 1/k)."""
    return 1.0 / (1.0 + 0.6 * (rank - 1))


def simulate(ds, ranked, logged: list[str], sessions: int, noise: float, seed: int = SEED):
    """(impressions, events) of `sessions` simulated readers, each searching one logged paraphrase."""
    rng = random.Random(seed)
    text = {q["id"]: q["text"] for q in ds.queries}
    impressions, events = [], []
    for s in range(sessions):
        qid = rng.choice(logged)
        query, shown, rel = text[qid], [a for a, _ in ranked[qid][:PAGE]], ds.qrels[qid]
        ts = NOW - rng.random() * 30 * 86_400
        origin = f"reader-{s}"
        impressions += [Impression(query, aid, k + 1, "public", ts) for k, aid in enumerate(shown)]
        for k, aid in enumerate(shown):
            if rng.random() >= examined(k + 1):
                continue
            relevant = aid in rel
            if rng.random() >= (0.8 if relevant else 0.05):
                continue
            if rng.random() < noise:
                k = rng.randrange(len(shown))
                aid, relevant = shown[k], shown[k] in rel
            ts += 5
            events.append(Event(query, aid, "click" if relevant else "bounce", origin, "public", ts, k + 1))
            ts += 120 if relevant else 10
            if rng.random() < 0.3:
                events.append(Event(query, aid, "helpful" if relevant else "unhelpful", origin, "public", ts, k + 1))
    return impressions, events


def fit(ds, vecs, impressions, events, quantile: float) -> Learner:
    by_text = {q["text"]: vecs[q["id"]] for q in ds.queries}
    learner = Learner(quantile=quantile)
    learner.fit(impressions, events, NOW, lambda texts: np.stack([by_text[t] for t in texts]))
    return learner


def score(ds, ranked, vecs, ids: list[str], learner: Learner | None) -> float:
    total = 0.0
    for qid in ids:
        order = ranked[qid]
        if learner is not None:
            order = [(m.article_id, m.score) for m in learner.rerank("public", vecs[qid], order)]
        total += ndcg([a for a, _ in order], ds.qrels[qid])
    return total / len(ids)


def stuffing(ds, ranked, vecs, logged, unlogged, impressions, events, origins: int,
             quantile: float) -> tuple[int, int, int, int]:
    """(rankings where a stuffed wrong article rose into or within the first three compared with no learning,
    compared with the same learning without the stuffing, where it was in them without learning, checked)."""
    rng = random.Random(SEED + origins)
    text = {q["id"]: q["text"] for q in ds.queries}
    topic_of = lambda qid: min(ds.qrels[qid]).split("a", 1)[0]  # noqa: E731
    targets, used = [], set()
    for qid in rng.sample(logged, len(logged)):
        wrong = ranked[qid][PAGE - 1][0]
        if topic_of(qid) in {t for t, _, _ in targets} or wrong in ds.qrels[qid] or wrong in used:
            continue
        used.add(wrong)
        targets.append((topic_of(qid), qid, wrong))
        if len(targets) == 100:
            break
    stuffed = list(events)
    for _, qid, wrong in targets:
        stuffed += [Event(text[qid], wrong, "helpful", f"attacker-{i % origins}", "public", NOW - i * 60, PAGE)
                    for i in range(1000)]
    learner, clean = fit(ds, vecs, impressions, stuffed, quantile), fit(ds, vecs, impressions, events, quantile)
    bad = worse = already = checked = 0
    rise = lambda order, was: wrong in order[:caps.TOP] and order.index(wrong) < was  # noqa: E731
    for topic, _, wrong in targets:
        for qid in [q for q in logged + unlogged if topic_of(q) == topic]:
            before = [a for a, _ in ranked[qid]]
            order = [m.article_id for m in learner.rerank("public", vecs[qid], ranked[qid])]
            honest = [m.article_id for m in clean.rerank("public", vecs[qid], ranked[qid])]
            was = before.index(wrong) if wrong in before else len(before)
            already += was < caps.TOP
            bad += rise(order, was)
            worse += rise(order, honest.index(wrong) if wrong in honest else len(honest))
            checked += 1
    return bad, worse, already, checked


def with_true_examination(ds, ranked, vecs, logged, unlogged, sessions, base) -> tuple[float, float]:
    """(never logged Δ, logged Δ) when the model knows the simulated readers' examination curve instead of
    assuming 1/k: whether estimating θ from the log could be worth it."""
    keep = model.theta
    model.theta = examined
    try:
        impressions, events = simulate(ds, ranked, logged, sessions, 0.0)
        learner = fit(ds, vecs, impressions, events, 0.98)
        return score(ds, ranked, vecs, unlogged, learner) - base[0], score(ds, ranked, vecs, logged, learner) - base[1]
    finally:
        model.theta = keep


def without_robust_rule(ds, ranked, vecs, logged, unlogged, impressions, events, base) -> tuple:
    """(never logged Δ, logged Δ, stuffing from 5 sessions) with the first three moved by the whole signal,
    not by what holds without its strongest nine readers (kb/learning/neighbours.without_strongest)."""
    keep = neighbours.without_strongest
    neighbours.without_strongest = lambda value, parts: value
    try:
        learner = fit(ds, vecs, impressions, events, 0.98)
        return (score(ds, ranked, vecs, unlogged, learner) - base[0],
                score(ds, ranked, vecs, logged, learner) - base[1],
                stuffing(ds, ranked, vecs, logged, unlogged, impressions, events, 5, 0.98))
    finally:
        neighbours.without_strongest = keep


def diagnosis(ds, ranked, vecs, unlogged, learner) -> tuple[int, dict[str, int]]:
    """Where the gain is lost: (never-logged paraphrases with an irrelevant answer in the first three and a
    relevant one at ranks 4-10 without learning, what the learned model says of those relevant answers)."""
    hood, queries, why = learner._hoods["public"], 0, dict.fromkeys(
        ("no lifting signal", "fewer than ten readers", "not without the strongest nine", "held"), 0)
    for qid in unlogged:
        order, rel = [a for a, _ in ranked[qid]], ds.qrels[qid]
        below = [a for a in order[caps.TOP:PAGE] if a in rel]
        if not below or all(a in rel for a in order[:caps.TOP]):
            continue
        queries += 1
        found = hood.borrowed(vecs[qid], order)
        for aid in below:
            b = found.get(aid)
            why["no lifting signal" if b is None or b.value <= 0
                else "fewer than ten readers" if b.support < caps.MIN_ORIGINS
                else "not without the strongest nine" if b.robust <= 0 else "held"] += 1
    return queries, why


def ablations(ds, ranked, vecs, logged, unlogged, impressions, events, base) -> list[tuple[str, float, float]]:
    """(what was taken out, never logged Δ, logged Δ) of the clean log, one part of kb/learning at a time."""
    def run(name, patch, restore):
        patch()
        try:
            learner = fit(ds, vecs, impressions, events, 0.98)
            return (name, score(ds, ranked, vecs, unlogged, learner) - base[0],
                    score(ds, ranked, vecs, logged, learner) - base[1])
        finally:
            restore()

    group, support, lift = questions.group, neighbours.Borrowed.support, caps.MAX_LIFT
    flat = property(lambda b: float(len(b.lifting if b.value > 0 else b.sinking)))
    return [
        run("questions: every neighbour pooled, whatever its readers found", lambda: setattr(
            questions, "group", lambda ends, sims, tau: [0] * len(ends)), lambda: setattr(questions, "group", group)),
        run("readers counted in full, not at their paraphrase's nearness (which lets five stuffing sessions and six "
            "readers of a paraphrase into the first three: tests/test_learning.py)", lambda: setattr(
            neighbours.Borrowed, "support", flat), lambda: setattr(neighbours.Borrowed, "support", support)),
        run("the lift cap (10 ranks) lifted", lambda: setattr(caps, "MAX_LIFT", DEPTH),
            lambda: setattr(caps, "MAX_LIFT", lift)),
    ]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sessions", type=int, default=5000)
    p.add_argument("--out", type=Path, default=RESULT)
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    ds, ranked, vecs = baseline()
    t_base = time.perf_counter() - t0
    logged, unlogged = split(ds)
    rows = []
    base = (score(ds, ranked, vecs, unlogged, None), score(ds, ranked, vecs, logged, None))
    for noise in (0.0, 0.3):
        impressions, events = simulate(ds, ranked, logged, args.sessions, noise)
        for quantile in (0.95, 0.98, 0.99):
            t = time.perf_counter()
            learner = fit(ds, vecs, impressions, events, quantile)
            fit_s = time.perf_counter() - t
            rows.append((noise, quantile, score(ds, ranked, vecs, unlogged, learner),
                         score(ds, ranked, vecs, logged, learner), fit_s, len(events)))
    seeds = []  # the same run under other splits and simulated readers: how much the gain moves by chance
    for seed in (1, 2, 3):
        lg, ul = split(ds, seed)
        impressions, events = simulate(ds, ranked, lg, args.sessions, 0.0, seed)
        learner = fit(ds, vecs, impressions, events, 0.98)
        seeds.append((score(ds, ranked, vecs, ul, learner) - score(ds, ranked, vecs, ul, None),
                      score(ds, ranked, vecs, lg, learner) - score(ds, ranked, vecs, lg, None)))
    true_theta = with_true_examination(ds, ranked, vecs, logged, unlogged, args.sessions, base)
    more = []  # how the gain grows with traffic, at the default quantile
    for sessions in (1000, 20_000):
        impressions, events = simulate(ds, ranked, logged, sessions, 0.0)
        learner = fit(ds, vecs, impressions, events, 0.98)
        more.append((sessions, score(ds, ranked, vecs, unlogged, learner) - base[0],
                     score(ds, ranked, vecs, logged, learner) - base[1]))
    clean_imp, clean_ev = simulate(ds, ranked, logged, args.sessions, 0.0)
    stuffed = {n: stuffing(ds, ranked, vecs, logged, unlogged, clean_imp, clean_ev, n, 0.98) for n in (1, 5)}
    ablation = without_robust_rule(ds, ranked, vecs, logged, unlogged, clean_imp, clean_ev, base)
    parts = ablations(ds, ranked, vecs, logged, unlogged, clean_imp, clean_ev, base)
    lost = diagnosis(ds, ranked, vecs, unlogged, fit(ds, vecs, clean_imp, clean_ev, 0.98))
    args.out.write_text(report(args.sessions, len(logged), len(unlogged), base, rows, seeds, true_theta, more,
                               stuffed, ablation, parts, lost, t_base, time.perf_counter() - t0), encoding="utf-8")
    print(args.out.read_text())


def report(sessions, n_logged, n_unlogged, base, rows, seeds, true_theta, more, stuffed, ablation, parts, lost,
           t_base, total) -> str:
    lines = [
        "# Learning from simulated readers (bench/learning.py)", "",
        f"{dt.date.today().isoformat()}. StackFAQ (../shared/bench/stackfaq): {n_logged} logged paraphrases, "
        f"{n_unlogged} never logged; {sessions:,} simulated sessions (one reader each) over 30 days on the logged "
        "half; every paraphrase's top 50 (polykb's hybrid ranking) reranked by the learned model. nDCG@10; "
        "\"quantile\" is the paraphrase threshold's quantile of the logged queries' similarities (0.98 is "
        "kb/learning's default).", "",
        f"Without learning: never logged {base[0]:.3f}, logged {base[1]:.3f}.", "",
        "| clicks | quantile | never logged | Δ | logged | Δ | events | fit (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for noise, quantile, unl, log, fit_s, n_events in rows:
        lines.append(f"| {'noisy (30% random)' if noise else 'clean'} | {quantile} | {unl:.3f} | {unl - base[0]:+.3f} "
                     f"| {log:.3f} | {log - base[1]:+.3f} | {n_events:,} | {fit_s:.1f} |")
    lines += ["", "Other seeds (another half of the paraphrases logged, other simulated readers; clean, 0.98): "
              + "; ".join(f"never logged {u:+.3f}, logged {g:+.3f}" for u, g in seeds) + "."]
    lines += ["", "The model's examination curve is 1/k; given the simulated readers' own, 1/(1 + 0.6(k-1)), "
              f"instead: never logged {true_theta[0]:+.3f}, logged {true_theta[1]:+.3f}. The click model's "
              "propensities are not what limits the gain (an EM estimate of θ from this log, tried outside the "
              "bench, gave +0.014)."]
    lines += ["", "Other amounts of traffic (clean clicks, quantile 0.98): " + "; ".join(
        f"{n:,} sessions: never logged {unl:+.3f}, logged {log:+.3f}" for n, unl, log in more) + "."]
    lines += ["", "Vote stuffing: 100 questions, an irrelevant answer at rank 10 of a logged paraphrase given 1,000 "
              "helpful votes, on top of the clean log; checked on every paraphrase of the question (logged or not):",
              ""]
    for n, (bad, worse, already, checked) in stuffed.items():
        lines.append(f"- from {n} {'address' if n == 1 else 'sessions'}: lifted into or within the first three in "
                     f"{bad} of {checked} rankings compared with no learning, in {worse} compared with learning "
                     f"from the same log without the stuffing (in them without learning, for another paraphrase: "
                     f"{already})")
    unl, log, (bad, worse, _, checked) = ablation
    lines += ["", "The price of the stuffing bound: with the first three moved by the whole signal, not only by what "
              "holds without its strongest nine readers, the clean log gives never logged "
              f"{unl:+.3f} and logged {log:+.3f}, and 5 stuffing sessions lift the wrong article into or within the "
              f"first three in {bad} of {checked} rankings ({worse} compared with learning without the stuffing)"
              + (": genuine readers of a neighbouring question had clicked it, and the stuffers' votes added to "
                 "theirs." if bad else ". Without questions (before this bench's last change) that was 1 of 999: "
                 "genuine readers of a neighbouring question had clicked the article, and the stuffers' votes added "
                 "to theirs; now a neighbouring question's readers are left out, and links only a few readers make "
                 "do not count for the first three. The rule stays: it is what the tests of the bound rely on.")]
    lines += where_lost(parts, lost)
    default = {noise: (unl - base[0], log - base[1]) for noise, q, unl, log, _, _ in rows if q == 0.98}
    stuffs = sum(v[0] for v in stuffed.values())
    lines += ["", f"Verdict at the default (0.98): never logged {default[0.0][0]:+.3f}: target +0.03 "
              f"{'met' if default[0.0][0] >= 0.03 else 'MISSED'}; noisy clicks {default[0.3][0]:+.3f} / "
              f"{default[0.3][1]:+.3f}: {'no loss' if min(default[0.3]) >= 0 else 'LOSS'}; stuffing "
              f"{'met (0)' if stuffs == 0 else f'MISSED ({stuffs})'}. KB_LEARNING stays off by default until the "
              "first target is met."]
    cached = ("read from bench/.work/learning; computing them took 148 to 529 s on the shared machine" if t_base < 5
              else "computed, then cached")
    lines += ["", f"Targets (issue #26): never logged +0.03 with 5,000 sessions; noisy: no loss; stuffing: 0. "
              f"Baseline rankings and query vectors: {t_base:.0f} s ({cached}); whole run {total:.0f} s.", ""]
    return "\n".join(lines)


# Designs measured with prototypes outside this bench (same log, split and simulated readers; seed 20261205),
# kept here so that the result file says what did not work.
TRIED = [
    "Before questions (every neighbour above the threshold, its signal averaged, weighted by nearness): never "
    "logged +0.015, logged +0.015. Without any cap (boost = 0.8 x signal x confidence): +0.029; with only the same "
    "question's paraphrases as neighbours (from the data set's labels, an oracle): +0.024, +0.051 without caps. "
    "The design kept, without any cap: +0.048.",
    "Pooling evidence rather than averaging signals, over every neighbour: +0.021 (similarity-weighted kernel); "
    "over every neighbour at full weight (a hard threshold): +0.013, and 1 of 999 stuffed rankings lifted. The "
    "kernel is both the gain and the safety: a far paraphrase's readers weigh little.",
    "Questions as transitive groups (union-find) whose whole pooled evidence a query borrows through any one of "
    "its members (nearness squared): +0.025 (linked when the endorsed sets' Jaccard >= 1/2) to +0.029 (when "
    "half of the smaller set is shared), but one stuffed query endorsing a neighbouring question's answer links "
    "the two questions, and every paraphrase of the first then borrows the second's readers through it: 1 of "
    "999 rankings lifted from 1 address; with the links read at a lower quantile (0.9), 10 of 999 from 5 "
    "sessions. Complete linkage with a group weighted by its members' mean nearness closes that hole but gives "
    "+0.020 to +0.023. The design kept groups only a query's own neighbours, so no query's evidence reaches a "
    "query it is not near; but a few readers still make a link among them (five sessions voting a neighbouring "
    "question's answer on one paraphrase lifted it to rank 1 for the whole question, in a test), so the first "
    "three move only on what holds without the links few readers alone make (tests/test_learning.py); that rule "
    "costs 0.001 here.",
    "Counting readers per question (a question's evidence moves the first three only if ten of its own readers "
    "back it): +0.011 (with the union of the neighbours' readers, as kept, the same grouping gave +0.024). "
    "Sharper kernels (nearness squared, cubed): within +-0.002. Letting articles with a negative signal leave the "
    "first three without ten readers against them (readers who only skip an article are not in the log): at "
    "most +0.003.",
]


def where_lost(parts, lost) -> list[str]:
    queries, why = lost
    lines = ["", f"Where the gain is lost (clean, 0.98): {queries} never-logged paraphrases have an irrelevant answer "
             "in the first three and a relevant one at ranks 4-10 without learning; of those relevant answers, "
             + ", ".join(f"{v} {k}" for k, v in why.items()) + " (the first three change only on ten readers and "
             "what holds without the strongest nine of them). One part of kb/learning taken out at a time:", ""]
    lines += [f"- {name}: never logged {unl:+.3f}, logged {log:+.3f}" for name, unl, log in parts]
    lines += ["", "Tried and dropped (prototypes outside the bench, clean log, seed 20261205, never logged Δ):", ""]
    return lines + [f"- {t}" for t in TRIED]


if __name__ == "__main__":
    main()
