"""Answered or not: does anything the search found answer the query?

Every search returns a ranking, even for keyboard mash or a question the
knowledge base never covered; showing it as an answer hides the contact link
from the customer and fills the writers' gaps report with noise. The decision
uses signals that mean the same in any knowledge base, so it transfers without
tuning per KB:

- `top`: the model's own cosine between the query and the best section of the
  best-ranked article (e5's cosines are comparable across corpora; the FAISS
  scores are not, being centred per language);
- `margin`: how far that article stands out from the best other one;
- `known`: the share of the query's words the knowledge base has at all
  (mash and off-topic jargon: none or few);
- `coverage`: the share of the query's information the best keyword hit holds;
- `agree`: whether the keyword side's best article is the same one;
- `lift`: how far the best article's cosine stands above the median of the ten
  best (an off-topic query finds everything equally unrelated);
- `cross_script`: whether the query is written in another script than the
  best article (a Chinese question, an English article): cosines across
  languages run lower for the same relevance;
- `centred`: the best article's score with each language's mean vector
  removed (the index's own score): how much closer it is than the knowledge
  base's average text in its language, which holds across languages where
  raw cosines do not.

A logistic model over them, fitted on the dev sets (bench/answers_fit.py,
numbers in bench/results/answers.md), gives a probability; a search counts as
answered at or above `threshold` (the KB_MIN_ANSWER_SCORE setting).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kb.search import novelty
from kb.text import languages

FEATURES = ("top", "margin", "known", "coverage", "agree", "lift", "cross_script", "centred")
NEUTRAL_COVERAGE = 0.5  # about what answered same-script queries have (bench/results/answerability.md)
RAW_CANDIDATES = 10  # article versions, best by dense score, whose cosine is computed from the model's vectors


@dataclass(frozen=True)
class Signals:
    top: float
    margin: float
    known: float
    coverage: float
    agree: float
    lift: float
    cross_script: float
    centred: float
    script_in_kb: bool = True  # the query's script is one the knowledge base is written in

    def vector(self) -> tuple[float, ...]:
        return tuple(getattr(self, f) for f in FEATURES)


@dataclass(frozen=True)
class Cut:
    """What a knowledge base measured on its own questions (kb/search/calibration.py): the answer model's
    probability thresholds, and floors on the best article's cosine (`top`), each for a query in the script of
    its best article and for one in another script (a Chinese question, an English article), whose cosines run
    lower for the same relevance.

    The floor is there because e5's cosine level is a property of the knowledge base (a FAQ of short questions
    scores every question higher than Wikipedia paragraphs do), and the model's weights, fitted across
    knowledge bases, cannot know it: on a FAQ an off-topic question reaches the probability of a real one."""

    same: float
    cross: float
    top_same: float | None = None
    top_cross: float | None = None

    def of(self, s: Signals) -> float:
        return self.cross if s.cross_script else self.same

    def floor(self, s: Signals) -> float | None:
        return self.top_cross if s.cross_script else self.top_same


@dataclass(frozen=True)
class AnswerModel:
    """P(answered) = logistic(bias + Σ weight · signal); answered when P ≥ threshold."""

    weights: tuple[float, ...]
    bias: float
    threshold: float = 0.5
    # how far a question's vector moves without the words the index lacks before they carry it
    # (kb/search/novelty.py): a share of e5's cosine, so None for another model
    novel_share: float | None = None

    def probability(self, s: Signals) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, s.vector()))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def answered(self, s: Signals | None, threshold: float | Cut | None = None) -> bool:
        """No word of the query in the knowledge base (after typo correction) is a refusal whatever the
        cosines say: a linear model lets a high cosine outvote `known` = 0, and mash has high cosines.
        Unless the knowledge base has no text in the query's script at all: a Chinese question to an
        English-only knowledge base has no known word either, and may well be answered."""
        if s is None or (s.known <= 0.0 and s.script_in_kb):
            return False
        if isinstance(threshold, Cut):
            floor = threshold.floor(s)
            if floor is not None and s.top < floor:
                return False
            threshold = threshold.of(s)
        return self.probability(s) >= (self.threshold if threshold is None else threshold)


# Fitted on all ten dev sets by bench/answers_fit.py (features top, lift, centred, agree; the others weigh 0):
# bench/results/answerability.md has the rates, left-out and in-sample.
DEFAULT = AnswerModel(weights=(15.104, 0.0, 0.0, 0.0, 1.2696, -6.403, 0.0, 42.7371), bias=-17.1702,
                      threshold=0.1133, novel_share=novelty.NOVEL_SHARE)
FITTED_FOR = "e5:"  # cosines of another embedding model mean other things: only the no-known-word rule holds
RULE_ONLY = AnswerModel(weights=(0.0,) * len(FEATURES), bias=50.0, threshold=0.5)


def model_for(embedder_name: str) -> AnswerModel:
    """The fitted model for the embedder it was fitted on; for any other, the rule alone (every search that
    has a known word counts as answered unless KB_MIN_ANSWER_SCORE says otherwise of its probability 1)."""
    return DEFAULT if embedder_name.startswith(FITTED_FOR) else RULE_ONLY


def signals(top_groups: list[str], raw: dict[str, float], keyword_best: str | None, coverage: float,
            known: float, cross_script: bool, centred: float, script_in_kb: bool = True) -> Signals | None:
    """Signals from the ranked article ids (best first), each article's raw cosine (its best section;
    missing = not among the dense candidates), the keyword side's best article and its trust, whether
    the query's script differs from the best article's, and the best article's centred score."""
    if not top_groups:
        return None
    best = top_groups[0]
    top = raw.get(best, min(raw.values(), default=0.0))
    others = [v for g, v in raw.items() if g != best]
    margin = top - max(others) if others else 0.1
    lift = top - float(np.median(list(raw.values()))) if raw else 0.0
    if cross_script:  # no word of the query can be in the article: coverage says nothing either way
        coverage = NEUTRAL_COVERAGE
    return Signals(top=top, margin=margin, known=known, coverage=coverage,
                   agree=1.0 if keyword_best is not None and keyword_best == best else 0.0, lift=lift,
                   cross_script=1.0 if cross_script else 0.0, centred=centred, script_in_kb=script_in_kb)


def raw_cosines(qvecs, chunk_vectors: dict[int, np.ndarray], chunk_group: dict[int, str]) -> dict[str, float]:
    """article id → best cosine of the query's vectors with its given chunks, as the model made them."""
    out: dict[str, float] = {}
    if qvecs is None:
        return out
    q = np.asarray(qvecs)
    for cid, vec in chunk_vectors.items():
        s = float((q @ vec).max())
        g = chunk_group[cid]
        if s > out.get(g, -9.0):
            out[g] = s
    return out


def cross_script(query: str, doc_lang: str) -> bool:
    """Is the query mostly in another script than the article's language is written in?"""
    script = _main_script(query)
    return script is not None and script != languages.SCRIPT_OF.get(doc_lang, "latin")


def script_in(query: str, langs) -> bool:
    """Is the query's main script one that some of these languages are written in?"""
    script = _main_script(query)
    return script is None or script in {languages.SCRIPT_OF.get(lang, "latin") for lang in langs}


def _main_script(text: str) -> str | None:
    counts = languages.script_counts(text)
    return max(counts, key=counts.get) if counts else None
