"""Self-calibration: each knowledge base sets its own "answered" cut-off and keyword weight, at index time.

A cut-off or a fusion weight fitted once across the dev sets does not
transfer: on knowledge bases polykb was never tuned on, one answered only 0.874
of its answerable questions and another refused only 0.236 of its unanswerable
ones, and the fusion lost to its own dense side on an unseen FAQ. What differs
between knowledge bases is where their questions land on the answer model's
scale, so each knowledge base measures that on questions it makes from its own
articles (kb/search/self_questions.py), searched with the article present and
left out (kb/search/self_search.py).

Those questions quote the articles, so they are easier than real ones and
favour the keyword side. Calibration therefore reads positions, not levels:
RULE maps quantiles of the KB's own questions to a cut-off, and was fitted on
the dev sets with each set left out in turn (bench/calibration.py, numbers in
bench/results/calibration.md). The result is shrunk towards the dev-fitted
prior by the number of questions, and a knowledge base with fewer than
MIN_GROUPS articles keeps the prior: too small to learn from.

The result is stored in the generation's manifest (`calibration`), printed by
`kb index`, and read by the Searcher; `kb eval` reports rates with and without it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from kb.search import answerability
from kb.search import fusion as fusion_mod
from kb.search.query_text import prose

VERSION = 1
MIN_GROUPS = 20  # fewer articles: too few questions to place a cut-off; the prior is kept
SHRINK_QUESTIONS = 100  # questions at which the KB's own estimate and the prior weigh the same
REFUSED = -50.0  # the logit of a search refused by the no-known-word rule


@dataclass(frozen=True)
class Calibration:
    """What one knowledge base measured on its own questions, and the settings it chose from that."""

    threshold: float | None  # the answer model's probability at which a search counts as answered; None: its own
    fusion_weight: float | None  # the keyword side's weight in the convex fusion (kb/search/fusion.py); None: default
    # "self": fitted on its own questions; "prior": too small to learn from, the dev fit kept; "rule": the answer
    # model is fitted for another embedder (kb.search.answerability.model_for), there is no scale to place a cut-off on
    method: str
    questions: int = 0
    articles: int = 0
    measured: dict = field(default_factory=dict)  # the positions it was fitted from (answer-model logits)
    seconds: float = 0.0
    stale: int = 0  # articles added, changed or removed since it was measured (kept while few: indexer/job.py)
    version: int = VERSION

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data) -> Calibration | None:
        """The stored calibration; None for a generation without one, or from another version of the rule."""
        if not isinstance(data, dict) or data.get("version") != VERSION:
            return None
        try:
            return cls(**data)
        except TypeError:
            return None

    def fusion(self, base: fusion_mod.ConvexFusion = fusion_mod.DEFAULT) -> fusion_mod.ConvexFusion:
        if self.fusion_weight is None:
            return base
        return fusion_mod.ConvexFusion(**{**asdict(base), "weight": self.fusion_weight})

    def lines(self) -> list[str]:
        """What `kb index` and `kb eval` print."""
        if self.method == "prior":
            return [f"calibration: {self.articles} articles, under {MIN_GROUPS}: too few to learn from; "
                    f"the dev-fitted cut-off ({PRIOR_THRESHOLD:.3f}) and keyword weight ({PRIOR_WEIGHT:.2f}) kept"]
        if self.method == "rule":
            return ["calibration: none (the answer model is fitted for the e5 model only); "
                    "a search is refused when no word of it is in the knowledge base"]
        m = self.measured
        return [f"calibrated on {self.questions} of its own questions from {self.articles} articles "
                f"({self.seconds:.1f} s):",
                f"  answered at p >= {self.threshold:.3f} (dev prior {PRIOR_THRESHOLD:.3f}); keyword weight "
                f"{self.fusion_weight:.2f} (dev prior {PRIOR_WEIGHT:.2f})",
                f"  at that cut-off {m['answered']:.0%} of its questions are answered with their article present, "
                f"{m['refused']:.0%} refused with it left out"]


PRIOR_THRESHOLD = answerability.DEFAULT.threshold  # fitted once across the dev sets (bench/answers_fit.py)
PRIOR_WEIGHT = fusion_mod.DEFAULT.weight  # chosen once across the dev sets (bench/fusion_fit.py)


def prior(groups: int, questions: int, seconds: float, method: str = "prior") -> Calibration:
    """No calibration of its own: too few articles to learn from ("prior"), or an answer model that has no scale
    to place a cut-off on ("rule"); the search keeps the dev-fitted defaults."""
    return Calibration(None, None, method, questions, groups, {}, round(seconds, 2))


@dataclass(frozen=True)
class Outcome:
    ranked: list[str]  # article ids, best first
    signals: answerability.Signals | None
    logit: float  # the answer model's log-odds; REFUSED when its rule refuses

    def rank_of(self, group: str) -> int | None:
        return self.ranked.index(group) if group in self.ranked else None


def outcome(rec: dict, kb_langs, model: answerability.AnswerModel, fusion=fusion_mod.DEFAULT,
            drop: str | None = None) -> Outcome:
    """What the search makes of a record: its ranking, signals and answer logit, as kb/search/searcher.py
    computes them. `drop`: "group" leaves the question's article out, "version" only the version in the
    question's language (the answer then exists in other languages only), None keeps everything."""
    cands = rec["cands"]
    if drop == "group":
        cands = [c for c in cands if c[0] != rec["group"]]
    elif drop == "version":
        cands = [c for c in cands if not (c[0] == rec["group"] and c[1] == rec["lang"])]
    known = rec["known"] if drop is None else rec["known_without"][drop]
    ranked, top_version = _fused(rec, cands, fusion)
    if not ranked:
        return Outcome([], None, REFUSED)
    raw = _raw(cands)
    kw = {i: c[3] for i, c in enumerate(cands) if c[3] is not None}
    kw_best = cands[max(kw, key=kw.get)][0] if kw else None
    centred = max((c[2] for c in cands if c[0] == ranked[0] and c[2] is not None), default=0.0)
    text = prose(rec["text"])
    s = answerability.signals(ranked, raw, kw_best, rec["coverage"], known,
                              answerability.cross_script(text, cands[top_version][1]), centred,
                              answerability.script_in(text, kb_langs))
    if s is None or (s.known <= 0.0 and s.script_in_kb):
        return Outcome(ranked, s, REFUSED)
    z = model.bias + sum(w * x for w, x in zip(model.weights, s.vector()))
    return Outcome(ranked, s, z)


def _fused(rec: dict, cands: list, fusion) -> tuple[list[str], int | None]:
    dense = {i: c[2] for i, c in enumerate(cands) if c[2] is not None}
    kw = {i: c[3] for i, c in enumerate(cands) if c[3] is not None}
    own = {c[0] for c in cands if c[1] == rec["det"]}
    foreign = frozenset(i for i in dense if cands[i][0] not in own)
    evidence = fusion_mod.KeywordEvidence(kw, rec["coverage"], rec["n_tokens"], bool(rec.get("ticket")), foreign)
    fused = fusion.combine(dense, evidence) if fusion is not None else dense
    order = sorted(fused, key=lambda i: (-fused[i], cands[i][0], cands[i][1]))
    ranked = list(dict.fromkeys(cands[i][0] for i in order))
    return ranked, (order[0] if order else None)


def _raw(cands: list) -> dict[str, float]:
    """Article id → best raw cosine among the ten best versions by dense score (what the searcher computes)."""
    with_dense = sorted((c for c in cands if c[2] is not None), key=lambda c: -c[2])
    out: dict[str, float] = {}
    for c in with_dense[:answerability.RAW_CANDIDATES]:
        if c[4] is not None and c[4] > out.get(c[0], -9.0):
            out[c[0]] = c[4]
    return out


def probability(logit: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logit))))


def logit_of(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))


@dataclass(frozen=True)
class Rule:
    """How a knowledge base's own questions place its cut-off (fitted on the dev sets, each left out in turn:
    bench/calibration.py).

    On the answer model's log-odds scale: `t_unanswerable` refuses `refuse_share` of its own questions once their
    article is left out; `t_answerable` sits `answer_margin` below the `answer_share` quantile of the same
    questions with their article present. The cut is the lower of the two (answering a customer who has an
    answer comes first), pulled towards the dev prior by `shrink` questions' worth of weight.
    """

    refuse_share: float = 0.5
    answer_share: float = 0.1
    answer_margin: float = 0.0
    shrink: float = SHRINK_QUESTIONS
    cross: bool = True  # questions answered only by another language's version count as answerable

    def cut(self, present: list[float], absent: list[float], prior_logit: float) -> float:
        if not present or not absent:
            return prior_logit
        t_unanswerable = quantile(absent, self.refuse_share)
        t_answerable = quantile(present, self.answer_share) + self.answer_margin
        own = min(t_unanswerable, t_answerable)
        weight = len(present) / (len(present) + self.shrink)
        return prior_logit + weight * (own - prior_logit)


RULE = Rule()


def quantile(values: list[float], share: float) -> float:
    """The `share` quantile, interpolated linearly between the sorted values (numpy's default, written out so
    that it is the same everywhere)."""
    v = sorted(values)
    pos = max(0.0, min(1.0, share)) * (len(v) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def own_logits(records: list[dict], kb_langs, model: answerability.AnswerModel, fusion=fusion_mod.DEFAULT,
               cross: bool = True) -> tuple[list[float], list[float]]:
    """(present, absent): the answer model's log-odds of each own question with its article present (and, with
    `cross`, with only its own language's version left out, where the article has another) and left out."""
    present, absent = [], []
    for rec in records:
        present.append(outcome(rec, kb_langs, model, fusion).logit)
        absent.append(outcome(rec, kb_langs, model, fusion, drop="group").logit)
        if cross and any(c[0] == rec["group"] and c[1] != rec["lang"] for c in rec["cands"]):
            present.append(outcome(rec, kb_langs, model, fusion, drop="version").logit)
    return present, absent


def fit(records: list[dict], kb_langs, groups: int, model: answerability.AnswerModel = answerability.DEFAULT,
        rule: Rule = RULE, fusion=fusion_mod.DEFAULT) -> Calibration:
    """The settings for a knowledge base from its own questions' records (kb.search.self_search.observe)."""
    if groups < MIN_GROUPS or not records:
        return prior(groups, len(records), 0.0)
    present, absent = own_logits(records, kb_langs, model, fusion, rule.cross)
    t0 = logit_of(model.threshold)
    t = rule.cut(present, absent, t0)
    measured = {"answered": sum(z >= t for z in present) / len(present),
                "refused": sum(z < t for z in absent) / len(absent),
                "present_q10": round(quantile(present, 0.1), 4), "present_q50": round(quantile(present, 0.5), 4),
                "absent_q50": round(quantile(absent, 0.5), 4)}
    return Calibration(probability(t), PRIOR_WEIGHT, "self", len(records), groups, measured)
