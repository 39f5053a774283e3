"""The keyword weight per knowledge base (kb.search.calibration.FusionRule), fitted leave one KB out.

Each knowledge base's weight comes from how often the two retrieval sides agree on its own questions; the rule
that maps agreement to a weight is chosen on the other knowledge bases by its worst margin over their own
dense side (hybrid − dense nDCG@10), not the mean: a fusion that wins on average and loses on one kind of data
is what failed on a held-out FAQ before. Each set's 70-article cut counts as a knowledge base of its own.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from bench import answers_fit, calibration_data
from kb.search import calibration
from kb.search import fusion as fusion_mod

# `high` is today's dev-fitted weight: where the sides agree the knowledge base keeps it (no dev set loses what
# it had); `power` (a weight adaptive per query to keyword coverage) was tried: without covid-faq the other
# knowledge bases do not choose it, and with it every XQuAD set loses 0.01-0.02 (see the section's text).
GRID = {"low": (0.1, 0.15, 0.2, 0.25, 0.3), "high": (0.4,), "agree_low": (0.5, 0.55, 0.6, 0.65),
        "agree_high": (0.6, 0.65, 0.7, 0.75), "shrink": (0.0,), "power": (None,)}
RULES = [calibration.FusionRule(**dict(zip(GRID, v))) for v in itertools.product(*GRID.values())
         if v[3] > v[2] and v[1] >= v[0]]


@dataclass
class Ranking:
    """One knowledge base's real answerable queries (on the whole KB) and its own questions' agreement."""

    name: str
    records: list[tuple[dict, dict]]
    agree: float
    both: int
    faq: bool
    _ndcg: dict

    def ndcg(self, weight: float | None, power: float | None = None) -> float:
        """Mean nDCG@10 with the convex fusion at `weight` (adaptive to `power` if given); None: dense alone."""
        key = None if weight is None else (round(weight, 3), power)
        if key not in self._ndcg:
            fuse = None if key is None else calibration.FusionRule(power=power).fusion(key[0])
            self._ndcg[key] = float(np.mean([answers_fit.ndcg(calibration._fused(r, r["cands"], fuse)[0], rel)
                                             for r, rel in self.records]))
        return self._ndcg[key]

    def weight(self, rule: calibration.FusionRule) -> float:
        return rule.weight(self.agree, self.both)

    def score(self, rule: calibration.FusionRule) -> float:
        return self.ndcg(self.weight(rule), rule.power)

    def margin(self, rule: calibration.FusionRule) -> float:
        return self.score(rule) - self.ndcg(None)


def rankings(datas: list[calibration_data.KBData]) -> list[Ranking]:
    out = []
    for d in datas:
        agree, both = calibration.agreement(d.own_full)
        out.append(Ranking(d.name, d.ranking, agree, both, d.faq, {}))
        if d.small and d.small_ranking:
            agree, both = calibration.agreement(d.small)
            out.append(Ranking(f"{d.name} (70 articles)", d.small_ranking, agree, both, d.faq, {}))
    return out


TOLERANCE = 0.005  # the target: hybrid at most this far below its own dense side
NEAR_MEAN = 0.0005  # mean margins this close count as equal


def choose(train: list[Ranking]) -> calibration.FusionRule:
    """The rule with the least total loss beyond TOLERANCE to the training knowledge bases' own dense sides; then
    the least total loss to today's weight (issue 22: no regression on the dev sets); among those whose mean
    margin is within NEAR_MEAN of the best, the one that gives keywords the least weight over them (then grid
    order; then the highest agreement thresholds). Least weight among near-equals: the dev knowledge bases leave
    a range of agreement unconstrained, and a held-out FAQ that falls in it is safer with less keyword weight (it
    lost 0.044 at 0.4)."""
    stats = []
    prior = calibration.PRIOR_WEIGHT
    for j, rule in enumerate(RULES):
        margins = [r.margin(rule) for r in train]
        loss = sum(max(0.0, -TOLERANCE - m) for m in margins)
        regress = sum(max(0.0, r.ndcg(prior) - r.score(rule)) for r in train)
        stats.append((round(loss, 6), round(regress, 3), float(np.mean(margins)), sum(r.weight(rule) for r in train), j))
    first = min(s[:2] for s in stats)
    best_mean = max(s[2] for s in stats if s[:2] == first)
    near = [s for s in stats if s[:2] == first and s[2] >= best_mean - NEAR_MEAN]
    # then the highest agreement thresholds: where no training knowledge base falls, the lower weight
    return RULES[min(near, key=lambda s: (round(s[3], 6), -RULES[s[4]].agree_low - RULES[s[4]].agree_high, s[4]))[4]]


def section(datas: list[calibration_data.KBData]) -> tuple[list[str], dict[str, float]]:
    """The markdown section, and each knowledge base's weight by the rule chosen without it (for the answered
    section, which judges each knowledge base on the ranking its own weight makes)."""
    rows = rankings(datas)
    product = choose(rows)
    prior = calibration.PRIOR_WEIGHT
    lines = ["## Fusion: the keyword weight, each knowledge base left out", "",
             "nDCG@10 of answerable queries on the whole knowledge base. `today`: the dev-fitted weight "
             f"{prior:g} everywhere; `calibrated (LOKO)`: the weight from the knowledge base's own questions by the "
             "rule chosen on the others (its 70-article cut left out with it); `all`: by the product's rule; margin: "
             "hybrid − its own dense side (target: ≥ −0.005 on every FAQ set). Own agreement: the share of its own "
             "questions (present, whole knowledge base) whose best article is the same on both sides, (questions).",
             "", "| knowledge base | own agreement | dense | today | margin today | weight (LOKO) | calibrated (LOKO) "
             "| margin (LOKO) | weight (all) | margin (all) |", "|---|---|---|---|---|---|---|---|---|---|"]
    loko = {}
    worst = []
    for r in rows:
        rule = choose([o for o in rows if o.name.split(" (")[0] != r.name.split(" (")[0]])
        w = r.weight(rule)
        loko[r.name] = (w, rule.power)
        dense, today, mine = r.ndcg(None), r.ndcg(prior), r.score(rule)
        worst.append((mine - dense, r.name))
        name = f"**{r.name}** (FAQ)" if r.faq else r.name
        lines.append(f"| {name} | {r.agree:.2f} ({r.both}) | {dense:.3f} | {today:.3f} | {today - dense:+.3f} | "
                     f"{w:.2f}{'' if rule.power is None else f' · coverage^{rule.power:g}'} | {mine:.3f} | "
                     f"{mine - dense:+.3f} | {r.weight(product):.2f} | {r.margin(product):+.3f} |")
    margin, name = min(worst)
    today_worst = min((r.ndcg(prior) - r.ndcg(None), r.name) for r in rows)
    lines += ["", f"Worst margin left out: **{name}** {margin:+.3f} (today: {today_worst[1]} "
              f"{today_worst[0]:+.3f}); median margin {np.median([m for m, _ in worst]):+.3f} (today "
              f"{np.median([r.ndcg(prior) - r.ndcg(None) for r in rows]):+.3f}).", "",
              f"The product's rule (chosen on all, `kb/search/calibration.py` FUSION_RULE): weight {product.low:g} at "
              f"agreement ≤ {product.agree_low:g}, {product.high:g} at ≥ {product.agree_high:g}, linear between"
              + ("" if product.power is None else f", times the query's keyword coverage to the power {product.power:g}")
              + ".", ""]
    return lines, loko
