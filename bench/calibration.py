"""Self-calibration per knowledge base, fitted on the dev knowledge bases and shown on each one left out.

Every dev knowledge base (bench/calibration_data.py) is calibrated from its own questions only, the way
`kb index` does it (kb/search/calibration.py), and scored on its real queries: answered (of answerable),
refused (of in-domain unanswerable, of off-domain). The rule that turns own questions into a cut-off
(kb.search.calibration.Rule: a quantile and two offsets, the same for every knowledge base) is chosen on the
other knowledge bases only, leave one KB out, by their total shortfall from the targets (answered ≥ 0.93,
in-domain refused ≥ 0.30, off-domain refused ≥ 0.98); the worst knowledge base is reported, not the mean.

    python bench/calibration.py        # writes bench/results/calibration.md
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import calibration_data, calibration_fusion  # noqa: E402
from kb.search import answerability, calibration  # noqa: E402
from kb.search import fusion as fusion_mod  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
METHOD = [
    "## Method", "",
    "- **Own questions** (kb/search/self_questions.py): up to 300 articles sampled by a hash of their id; per "
    "version (language) its title, one heading of three words or more, and the first 8 words (12 CJK characters) "
    "of one sentence; titles and headings several articles share are not asked. At most 600 questions.",
    "- **Searched three ways** (kb/search/self_search.py, then calibration.outcome on the record, checked against "
    "the Searcher itself in tests/test_calibration.py): with the article present (answerable), with all its "
    "versions left out (in-domain unanswerable: its versions taken out of the candidates and its words out of "
    "the words the index knows), and with only the question's own language version left out where a version in "
    "another script exists (answerable across scripts).",
    "- **A floor on the best cosine, placed by the knowledge base**: e5's cosine level is a property of the "
    "knowledge base (a FAQ of short questions scores any question higher than Wikipedia paragraphs do), and it is "
    "what separates off-topic questions from real ones there; the answer model's other signals mean the same "
    "everywhere. So a search is answered when the dev-fitted answer model says so (p ≥ 0.113, unchanged) *and* "
    "the best article's cosine reaches the knowledge base's floor: a quantile of the best cosine its own questions "
    "reach once their article is left out, plus an offset (another, lower, for a question in another script than "
    "its best article). Positions, not levels: own questions quote the articles, so only where they fall relative "
    "to one another is read. Under 20 articles, or 20 questions left out, no floor.",
    "- **Tried first, measured worse and replaced** (this file's previous version, commit 75b2767): placing the "
    "answer model's probability threshold itself from the same questions' log-odds; 4 of 14 knowledge bases met "
    "every target left out, fewer than today's 5, because on the FAQ sets off-topic questions reach the "
    "probability of real ones (the best cut on the probability meets 9; on the cosine floor, 12 of 14).",
    "- **Fusion weight**: how often the keyword and the dense side pick the same best article for the knowledge "
    "base's own questions (with the article present) sets the keyword weight of the convex fusion.",
    "- **Fitted leave one knowledge base out**: each rule is chosen on the other knowledge bases; the tables "
    "show every knowledge base left out and name the worst. The answer model itself (its weights) is the "
    "dev-fitted one (bench/answers_fit.py), unchanged.",
    "- Real queries: the dumps of bench/evidence.py (600-query even samples of ../shared/bench; the reduced index "
    "without a seeded 30% of its articles for answerable/unanswerable, 320 off-domain questions and keyboard "
    "mash), bench/fetch_faq.py's COVID FAQ the same way, and bench/kbsets.py's whole knowledge bases (the sample "
    "with tests/data's queries, the AdGuard sites with bench/kbs' queries).",
]
TARGETS = {"answered": 0.93, "refused_in": 0.30, "refused_off": 0.98}
GRID = {"share": (0.3, 0.4, 0.5, 0.6), "offset": tuple(round(-0.03 + 0.005 * i, 3) for i in range(11)),
        "cross_offset": (-0.02, -0.03, -0.04, -0.05, -0.06),
        "kinds": (("title", "heading", "sentence"), ("heading", "sentence"), ("sentence",))}
SLACK = 0.01  # answered below what the rule must keep on each training knowledge base (Table.choose)
WEIGHTS = {"answered": 2.0, "refused_in": 1.0, "refused_off": 1.0}  # a customer told "no answer" when there is one
# is the worse failure (issue 22: 12.6% of them on one held-out set)


NO_FLOOR = (-9.0, -9.0)


@dataclass
class Prepared:
    """One knowledge base's own questions (kb.search.calibration.Own, per kinds read) and its real queries (A, N,
    O): each with the answer model's verdict at the dev threshold, its best cosine and whether it is in another
    script than its best article."""

    name: str
    own: dict[tuple, calibration.Own]  # by the kinds of own questions read (Rule.kinds)
    said: dict[str, np.ndarray]  # the answer model says answered (p ≥ the dev threshold)
    top: dict[str, np.ndarray]
    cross: dict[str, np.ndarray]
    questions: int
    today: dict[str, float] | None = None  # the rates of today's search: the dev-fitted fusion and cut-off

    def answered(self, kind: str, floors: tuple[float, float]) -> np.ndarray:
        return self.said[kind] & (self.top[kind] >= np.where(self.cross[kind], floors[1], floors[0]))

    def rates(self, floors: tuple[float, float]) -> dict[str, float]:
        out = {}
        for key, kind in (("answered", "A"), ("refused_in", "N"), ("refused_off", "O")):
            if not len(self.said[kind]):
                out[key] = float("nan")
                continue
            said = self.answered(kind, floors)
            out[key] = float(np.mean(said if kind == "A" else ~said))
        return out

    def cut(self, rule: calibration.Rule, t0: float | None = None) -> tuple[float, float]:
        return rule.floors(self.own[rule.kinds]) or NO_FLOOR


def prepare(data: calibration_data.KBData, model=answerability.DEFAULT, fusion=fusion_mod.DEFAULT) -> Prepared:
    own = {kinds: calibration.own_logits(data.own, data.langs, model, fusion, kinds) for kinds in GRID["kinds"]}
    t0 = calibration.logit_of(model.threshold)
    outs = {k: [calibration.outcome(r, data.langs, model, fusion) for kk, r in data.answer if kk == k] for k in "ANO"}
    said = {k: np.array([o.logit >= t0 for o in v], dtype=bool) for k, v in outs.items()}
    top = {k: np.array([o.signals.top if o.signals else 0.0 for o in v]) for k, v in outs.items()}
    cross = {k: np.array([bool(o.signals and o.signals.cross_script) for o in v], dtype=bool) for k, v in outs.items()}
    today = {k: [calibration.outcome(r, data.langs, model, fusion_mod.DEFAULT).logit for kk, r in data.answer if kk == k]
             for k in "ANO"}
    rates = {key: (float(np.mean(np.array(today[k]) >= t0 if k == "A" else np.array(today[k]) < t0))
                   if today[k] else float("nan")) for key, k in (("answered", "A"), ("refused_in", "N"),
                                                                ("refused_off", "O"))}
    return Prepared(data.name, own, said, top, cross, len(data.own), rates)


def shortfall(rates: dict[str, float]) -> float:
    return sum(WEIGHTS[k] * max(0.0, TARGETS[k] - v) for k, v in rates.items() if v == v)


def meets(rates: dict[str, float]) -> bool:
    return all(v != v or v >= TARGETS[k] for k, v in rates.items())


RULES = [calibration.Rule(**dict(zip(GRID, values))) for values in itertools.product(*GRID.values())]


class Table:
    """Every rule's rates on every knowledge base, computed once: leaving one out only re-reads them."""

    def __init__(self, prepared: list[Prepared], t0: float):
        self.names = [p.name for p in prepared]
        self.cuts = [[p.cut(rule, t0) for p in prepared] for rule in RULES]
        self.rates = [[p.rates(c) for p, c in zip(prepared, row)] for row in self.cuts]
        self.best = [oracle(p)[0] for p in prepared]
        self.needed = [min(TARGETS["answered"], p.rates(NO_FLOOR)["answered"]) - SLACK for p in prepared]

    def regret(self, j: int, i: int) -> float:
        """How far rule j's shortfall on knowledge base i is above the least any pair of cuts gets there."""
        return shortfall(self.rates[j][i]) - self.best[i]

    def choose(self, train: set[str]) -> calibration.Rule:
        """The rule that answers enough on every training knowledge base (at least ANSWERED, or what the prior
        answers where that is less: never fewer answers than today), and among those the least total regret
        (then the first in grid order, so the choice is the same on every run).

        Answering first: a customer told "no answer" when there is one is the failure issue 22 found on a
        held-out set, and the dev sets' real questions are easier than their own questions by different amounts
        (+0.45 to +1.7 log-odds at the answered cut); the rule must hold where that gap is smallest. Regret, not
        shortfall, for the rest: on a knowledge base where no cut meets every target (the answer model's signals
        overlap there), a rule is judged by how close it comes to the best cut, and such a knowledge base
        cannot drown the others."""
        cols = [i for i, n in enumerate(self.names) if n in train]
        keys = [(round(sum(max(0.0, self.needed[i] - self.rates[j][i]["answered"]) for i in cols), 6),
                 round(sum(self.regret(j, i) for i in cols), 6), j) for j in range(len(RULES))]
        return RULES[min(keys)[2]]


ORACLE_CUTS = [(0.7 + t / 400, -off / 100) for t in range(0, 101) for off in (0, 2, 4, 6, 8)]


def oracle(p: Prepared) -> tuple[float, tuple[float, float], dict[str, float]]:
    """(least shortfall, its floors, its rates): the best any pair of floors does on this knowledge base's real
    queries, which no rule can beat: it sees the answers."""
    best = min(ORACLE_CUTS, key=lambda c: (shortfall(p.rates((c[0], c[0] + c[1]))), -c[0], c[1]))
    cuts = (best[0], best[0] + best[1])
    return shortfall(p.rates(cuts)), cuts, p.rates(cuts)


def fmt(rates: dict[str, float]) -> str:
    return " / ".join("-" if v != v else f"{v:.3f}" for v in rates.values())


def answer_section(prepared: list[Prepared], t0: float) -> list[str]:
    lines = ["## Answered or refused, each knowledge base left out", "",
             "Cells: answered (of answerable) / refused (in-domain unanswerable) / refused (off-domain). "
             "`today`: the dev-fitted fusion and cut-off; `prior`: the dev-fitted cut-off, no floor, on the ranking "
             "of the knowledge base's own keyword weight (the fusion section's, left out); `calibrated (LOKO)`: the "
             "knowledge base's own floors by the rule chosen on the other knowledge bases; `calibrated (all)`: by the "
             "rule chosen on every one (the product's, in-sample); `best cut`: the best pair of floors for this "
             "knowledge base, read off its real queries' answers (no rule can do better; where it misses a target, "
             "the signals overlap there and no floor can meet all three). Shortfall: "
             f"{' + '.join(f'{w:g}·miss({k})' for k, w in WEIGHTS.items())}.", "",
             "| knowledge base | own questions | today | prior | calibrated (LOKO) | calibrated (all) | best cut | "
             "LOKO shortfall (best) | rule chosen without it |", "|---|---|---|---|---|---|---|---|---|"]
    table = Table(prepared, t0)
    product = table.choose(set(table.names))
    worst = []
    for i, p in enumerate(prepared):
        rule = table.choose(set(table.names) - {p.name})
        loko = p.rates(p.cut(rule, t0))
        best, _, best_rates = oracle(p)
        worst.append((shortfall(loko) - best, shortfall(loko), p.name, loko))
        lines.append(f"| {p.name} | {p.questions} | {fmt(p.today)} | {fmt(p.rates(NO_FLOOR))} | **{fmt(loko)}** | "
                     f"{fmt(p.rates(p.cut(product, t0)))} | {fmt(best_rates)} | {shortfall(loko):.3f} ({best:.3f}) | "
                     f"{_rule(rule)} |")
    regret, short, name, rates = max(worst)
    meeting = sum(meets(r) for *_, r in worst)
    prior_meeting = sum(meets(p.rates(NO_FLOOR)) for p in prepared)
    lines += ["", f"Worst knowledge base left out (most above its best cut): **{name}** ({fmt(rates)}, shortfall "
              f"{short:.3f}, {regret:.3f} above its best cut). {meeting} of {len(worst)} meet every target left out "
              f"(today: {sum(meets(p.today) for p in prepared)}; the prior on the calibrated ranking: {prior_meeting}; "
              f"calibrated, the product's rule: {sum(meets(p.rates(p.cut(product, t0))) for p in prepared)}; the best "
              f"cuts: {sum(meets(oracle(p)[2]) for p in prepared)}).", "",
              f"The product's rule (chosen on all, `kb/search/calibration.py` RULE): {_rule(product)}.", ""]
    return lines


def sample_section(prepared: list[Prepared], t0: float) -> list[str]:
    """Issue 22's targets for the sample: its own queries and the README's typo examples answered ≥ 95%, the
    out-of-scope questions (tests/data/out_of_scope_queries.jsonl: about the product but unanswered, and
    off-domain) refused ≥ 90%."""
    p = next((p for p in prepared if p.name == "sample"), None)
    if p is None:
        return []
    rule = calibration.RULE
    lines = ["## The sample's own targets", "", "Answered: tests/data/sample_queries.jsonl and short_queries.jsonl (the "
             "README's typo examples, the issue's short queries); refused: out_of_scope_queries.jsonl (in-domain and "
             "off-domain together). Targets: answered ≥ 0.95, refused ≥ 0.90.", "",
             "| cut | answered | out of scope refused |", "|---|---|---|"]
    for label, floors in (("no floor (today)", NO_FLOOR), ("calibrated (the product's rule)", p.cut(rule)),
                          ("best floor for refusing ≥ 0.90", _cut_refusing(p, 0.90))):
        r = p.rates(floors)
        out = np.concatenate([~p.answered("N", floors), ~p.answered("O", floors)])
        shown = "none" if floors == NO_FLOOR else f"{floors[0]:.3f}"
        lines.append(f"| {label} (cosine ≥ {shown}) | {r['answered']:.3f} | {float(np.mean(out)):.3f} |")
    return lines + [""]


def _cut_refusing(p: Prepared, share: float) -> tuple[float, float]:
    """The lowest floor (the most answered) that refuses `share` of the sample's out-of-scope questions."""
    for t in sorted({c[0] for c in ORACLE_CUTS}):
        if np.mean(np.concatenate([~p.answered("N", (t, t)), ~p.answered("O", (t, t))])) >= share:
            return t, t
    return 1.0, 1.0


def cost_section(index: Path) -> list[str]:
    """Seconds `kb index` spends calibrating a knowledge base: its own questions embedded anew (the first index),
    and with their vectors cached (every later one: CachedEmbedder.embed_stored_queries), wall and CPU."""
    from kb.embeddings import CachedEmbedder, get_embedder
    from kb.search import self_search
    from kb.search.searcher import Searcher

    gen = Searcher(index).generation()
    embedder = CachedEmbedder(get_embedder(), query_cache_size=100_000)
    rows = []
    for label in ("first index (questions embedded)", "later index (question vectors cached)"):
        wall, cpu = time.perf_counter(), time.process_time()
        cal = self_search.calibrate(gen, embedder.embed_queries)
        rows.append(f"| {label} | {cal.questions} | {time.perf_counter() - wall:.1f} | {time.process_time() - cpu:.1f} |")
    return ["## What calibration adds to `kb index` (the sample)", "",
            f"{os.cpu_count()} cores, shared with other work while measured (wall time is an upper bound).", "",
            "| run | own questions | wall s | CPU s |", "|---|---|---|---|", *rows,
            "", "A writer's save re-indexes one article: the served calibration is kept until a tenth of the "
            "articles changed (indexer/job.py), so a save pays nothing.", ""]


def _rule(rule: calibration.Rule) -> str:
    return (f"quantile {rule.share:g} {rule.offset:+.3f} / across {rule.cross_offset:+.2f} / "
            f"{'+'.join(k[0] for k in rule.kinds)}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kbs", nargs="*", default=None)
    ap.add_argument("--out", type=Path, default=RESULTS / "calibration.md")
    ap.add_argument("--answered-weight", type=float, default=WEIGHTS["answered"])
    ap.add_argument("--cost", type=Path, default=None, help="an index (the sample's) to time calibration on")
    args = ap.parse_args(argv)
    WEIGHTS["answered"] = args.answered_weight
    t0 = calibration.logit_of(answerability.DEFAULT.threshold)
    datas = calibration_data.available(args.kbs)
    fusion_lines, weights = calibration_fusion.section(datas)
    prepared = [prepare(d, fusion=calibration.FusionRule(power=weights[d.name][1]).fusion(weights[d.name][0]))
                for d in datas]
    lines = ["# Self-calibration per knowledge base", "", __doc__.split("\n\n")[1], "", *METHOD, ""]
    lines += answer_section(prepared, t0) + sample_section(prepared, t0) + fusion_lines
    if args.cost:
        lines += cost_section(args.cost)
    text = "\n".join(lines) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
