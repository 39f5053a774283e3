"""Self-calibration: each knowledge base sets its own floor on the best cosine and its keyword weight, at index time.

A cut-off or a fusion weight fitted once across the dev sets does not
transfer: on knowledge bases polykb was never tuned on, one answered only 0.874
of its answerable questions and another refused only 0.236 of its unanswerable
ones, and the fusion lost to its own dense side on an unseen FAQ. What differs
between knowledge bases is the level of their cosines (a FAQ of short questions
scores any question higher than Wikipedia paragraphs do) and how much their
articles share words, so each knowledge base measures both on questions it
makes from its own articles (kb/search/self_questions.py), searched with the
article present and left out (kb/search/self_search.py).

Those questions quote the articles, so they are easier than real ones and
favour the keyword side. Calibration therefore reads positions, not levels:
RULE puts the floor at a quantile of the best cosine its own questions reach
with their article left out, FUSION_RULE the keyword weight by how often the
two sides agree on them; both were fitted on the dev knowledge bases with each
left out in turn (bench/calibration.py, numbers in bench/results/calibration.md).
A knowledge base with fewer than MIN_GROUPS articles keeps the dev defaults:
too small to learn from.

The result is stored in the generation's manifest (`calibration`), printed by
`kb index`, and read by the Searcher; `kb eval` reports rates with and without it.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, field

from kb.search import answerability
from kb.search import fusion as fusion_mod
from kb.search.query_text import prose

VERSION = 2  # 2: a floor on the best cosine placed by the knowledge base; the probability cut-off kept
MIN_GROUPS = 20  # fewer articles: too few questions to place a cut-off; the prior is kept
REFUSED = -50.0  # the logit of a search refused by the no-known-word rule
KINDS = ("title", "heading", "sentence")  # of own questions (kb/search/self_questions.py)


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
    top_cut: float | None = None  # the best article's cosine a search needs at least (answerability.Cut.floor)
    top_cut_cross: float | None = None  # ... for a question in another script than its best article
    fusion_power: float | None = None  # the keyword weight is adaptive, `weight · coverage^power` (FusionRule.power)
    stale: int = 0  # articles added, changed or removed since it was measured (kept while few: indexer/job.py)
    rules: str = ""  # which RULE and FUSION_RULE made it (`fingerprint()`): another pair measures again
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

    def cut(self) -> answerability.Cut | float | None:
        """What the answer model compares its probability (and the best cosine) with; None: its own threshold."""
        if self.threshold is None or self.top_cut is None:
            return self.threshold
        return answerability.Cut(self.threshold, self.threshold, self.top_cut, self.top_cut_cross)

    def fusion(self, base: fusion_mod.ConvexFusion = fusion_mod.DEFAULT) -> fusion_mod.ConvexFusion:
        if self.fusion_weight is None:
            return base
        adaptive = {"adaptive": True, "power": self.fusion_power} if self.fusion_power is not None else {}
        return fusion_mod.ConvexFusion(**{**asdict(base), "weight": self.fusion_weight, **adaptive})

    def lines(self) -> list[str]:
        """What `kb index` and `kb eval` print."""
        if self.method == "prior":
            return [f"calibration: {self.articles} articles, under {MIN_GROUPS}: too few to learn from; "
                    f"the dev-fitted cut-off ({PRIOR_THRESHOLD:.3f}) and keyword weight ({PRIOR_WEIGHT:.2f}) kept"]
        if self.method == "rule":
            return ["calibration: none (the answer model is fitted for the e5 model only); "
                    "a search is refused when no word of it is in the knowledge base"]
        m = self.measured
        head = [f"calibrated on {self.questions} of its own questions from {self.articles} articles "
                f"({self.seconds:.1f} s): keyword weight {self.fusion_weight:.2f} (dev prior {PRIOR_WEIGHT:.2f})"]
        if self.top_cut is None:
            return head + [f"  answered at p >= {self.threshold:.3f} (dev prior); too few questions left without "
                           "their article to place a cosine floor"]
        return head + [f"  answered at p >= {self.threshold:.3f} (dev prior) and a best cosine >= {self.top_cut:.3f} "
                       f"({self.top_cut_cross:.3f} across scripts)",
                       f"  at that floor {m['answered']:.0%} of its questions are answered with their article "
                       f"present, {m['refused']:.0%} refused with it left out"]


PRIOR_THRESHOLD = answerability.DEFAULT.threshold  # fitted once across the dev sets (bench/answers_fit.py)
PRIOR_WEIGHT = fusion_mod.DEFAULT.weight  # chosen once across the dev sets (bench/fusion_fit.py)


def prior(groups: int, questions: int, seconds: float, method: str = "prior") -> Calibration:
    """No calibration of its own: too few articles to learn from ("prior"), or an answer model that has no scale
    to place a cut-off on ("rule"); the search keeps the dev-fitted defaults."""
    return Calibration(None, None, method, questions, groups, {}, round(seconds, 2), rules=fingerprint())


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
class Own:
    """The answer model's log-odds of a knowledge base's own questions: with their article `present`, with it left
    out (`absent`), and `across`: with only versions in another script left (the question's own language's
    version left out), as a Chinese question to an English article."""

    present: list[float]
    absent: list[float]
    across: list[float]
    # the best article's cosine of the same questions in the script of their best article, not refused by rule
    present_top: list[float] = field(default_factory=list)
    absent_top: list[float] = field(default_factory=list)
    present_top_logit: list[float] = field(default_factory=list)  # the log-odds of each `present_top` question


@dataclass(frozen=True)
class Rule:
    """Where a knowledge base's own questions put its floor on the best article's cosine (fitted on the dev
    knowledge bases, each left out in turn: bench/calibration.py).

    The floor sits `offset` from the `share` quantile of the best cosine its own questions reach once their
    article is left out: the nearest thing a knowledge base has to questions it cannot answer, in its own words
    and at its own cosine level. A question in another script than its best article gets `cross_offset` less
    (e5's cosines across languages run lower for the same relevance). The answer model's probability threshold
    stays the dev-fitted one: its other signals (known words, keyword agreement, margins) mean the same in any
    knowledge base, the level of its cosines does not.

    Tried first and measured worse (bench/results/calibration.md, previous version): placing the model's
    probability threshold itself from the same questions; on a FAQ, off-topic questions reach the probability of
    real ones, and only the cosine level tells them apart.
    """

    share: float = 0.5
    offset: float = -0.03
    cross_offset: float = -0.03
    kinds: tuple[str, ...] = KINDS  # the own questions it reads (kb/search/self_questions.py)

    def floors(self, own: Own) -> tuple[float, float] | None:
        """(floor in the script of the best article, floor across scripts); None: too few questions."""
        if len(own.absent_top) < MIN_ABSENT:
            return None
        floor = quantile(own.absent_top, self.share) + self.offset
        return floor, floor + self.cross_offset


# Chosen on every dev knowledge base by bench/calibration.py (bench/results/calibration.md has it left out too).
RULE = Rule(share=0.5, offset=-0.03, cross_offset=-0.03, kinds=KINDS)
MIN_ABSENT = 20  # own questions searched without their article, at least, to place a floor


def quantile(values: list[float], share: float) -> float:
    """The `share` quantile, interpolated linearly between the sorted values (numpy's default, written out so
    that it is the same everywhere)."""
    v = sorted(values)
    pos = max(0.0, min(1.0, share)) * (len(v) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def own_logits(records: list[dict], kb_langs, model: answerability.AnswerModel, fusion=fusion_mod.DEFAULT,
               kinds=KINDS) -> Own:
    """Each own question of `kinds` judged with its article present, left out, and (where the article has a
    version in another script) answered across scripts only."""
    own = Own([], [], [])
    for rec in records:
        if rec["kind"] not in kinds:
            continue
        here = outcome(rec, kb_langs, model, fusion)
        gone = outcome(rec, kb_langs, model, fusion, drop="group")
        for o, logits, tops in ((here, own.present, own.present_top), (gone, own.absent, own.absent_top)):
            logits.append(o.logit)
            if o.logit != REFUSED and o.signals is not None and not o.signals.cross_script:
                tops.append(o.signals.top)
                if o is here:
                    own.present_top_logit.append(o.logit)
        if any(c[0] == rec["group"] and c[1] != rec["lang"] for c in rec["cands"]):
            other = outcome(rec, kb_langs, model, fusion, drop="version")
            if other.signals is not None and other.signals.cross_script:
                own.across.append(other.logit)
    return own


@dataclass(frozen=True)
class FusionRule:
    """The keyword side's weight from how often the two sides agree on the knowledge base's own questions (the
    same best article), fitted on the dev knowledge bases (bench/calibration.py).

    Where its articles are lexically distinct (Wikipedia paragraphs, a product's troubleshooting pages), the
    keyword side finds what the dense side finds on its own questions and adds precision on real ones; where
    many articles share their words (a FAQ about one topic, a setup guide per device), it disagrees, and on
    real questions its matches on shared words mislead: the AdGuard sites and COVID FAQ lost 0.002-0.014
    nDCG@10 to their own dense side at the dev-fitted 0.4, and gain at 0.1-0.2.
    """

    low: float = 0.2  # weight at `agree_low` and below
    high: float = 0.4  # weight at `agree_high` and above
    agree_low: float = 0.6
    agree_high: float = 0.7
    shrink: float = 0.0  # questions' worth of pull towards the dev prior
    # per query, the weight times the share of the query's information the best keyword hit holds, to this power
    # (kb/search/fusion.py ConvexFusion.adaptive): a paraphrase shares few of its rare words with its answer
    power: float | None = None

    def fusion(self, weight: float) -> fusion_mod.ConvexFusion:
        adaptive = {"adaptive": True, "power": self.power} if self.power is not None else {"adaptive": False}
        return fusion_mod.ConvexFusion(**{**asdict(fusion_mod.DEFAULT), "weight": weight, **adaptive})

    def weight(self, agree: float, questions: int) -> float:
        span = max(self.agree_high - self.agree_low, 1e-9)
        w = self.low + (self.high - self.low) * min(1.0, max(0.0, (agree - self.agree_low) / span))
        return PRIOR_WEIGHT + questions / (questions + self.shrink) * (w - PRIOR_WEIGHT) if questions else PRIOR_WEIGHT


# Chosen on every dev knowledge base by bench/calibration_fusion.py (bench/results/calibration.md).
FUSION_RULE = FusionRule(low=0.2, high=0.4, agree_low=0.65, agree_high=0.7)


def agreement(records: list[dict]) -> tuple[float, int]:
    """(share of own questions whose best article is the same on both sides, questions with both sides)."""
    both = same = 0
    for rec in records:
        dense = [c for c in rec["cands"] if c[2] is not None]
        kw = [c for c in rec["cands"] if c[3] is not None]
        if dense and kw:
            both += 1
            same += max(dense, key=lambda c: (c[2], c[0]))[0] == max(kw, key=lambda c: (c[3], c[0]))[0]
    return (same / both if both else 0.0), both


def fingerprint(rule: Rule | None = None, fusion_rule: FusionRule | None = None) -> str:
    """A short name for the rules a calibration was made by: a calibration made by others is measured again."""
    text = repr((rule or RULE, fusion_rule or FUSION_RULE, answerability.DEFAULT))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def fit(records: list[dict], kb_langs, groups: int, model: answerability.AnswerModel = answerability.DEFAULT,
        rule: Rule = RULE, fusion_rule: FusionRule = FUSION_RULE) -> Calibration:
    """The settings for a knowledge base from its own questions' records (kb.search.self_search.observe): first
    the fusion weight (the floor is placed on the ranking that weight makes)."""
    if groups < MIN_GROUPS or not any(r["kind"] in rule.kinds for r in records):
        return prior(groups, len(records), 0.0)
    agree, both = agreement(records)
    weight = round(fusion_rule.weight(agree, both), 4)
    own = own_logits(records, kb_langs, model, fusion_rule.fusion(weight), rule.kinds)
    floors = rule.floors(own)
    floors = tuple(round(f, 4) for f in floors) if floors else None  # as stored, so measured at what search uses
    measured = {"agree": round(agree, 4), "across": len(own.across)}
    if floors is not None:
        t = logit_of(model.threshold)
        kept = list(zip(own.present_top_logit, own.present_top))
        measured["answered"] = sum(z >= t and top >= floors[0] for z, top in kept) / max(1, len(kept))
        measured["refused"] = sum(top < floors[0] for top in own.absent_top) / len(own.absent_top)
    return Calibration(model.threshold, weight, "self", len(records), groups, measured,
                       top_cut=floors[0] if floors else None, top_cut_cross=floors[1] if floors else None, fusion_power=fusion_rule.power,
                       rules=fingerprint(rule, fusion_rule))
