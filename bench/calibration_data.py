"""Each dev knowledge base as calibration sees it (its own questions) and as it is scored (real queries).

Read from the dumps of bench/evidence.py (real queries, for the sets of ../shared/bench and the FAQ sets),
bench/self_evidence.py (the knowledge bases' own questions) and, for the whole knowledge bases of
bench/kbsets.py (the sample, the AdGuard sites), bench/self_evidence.py --kbs (both).

For a set of ../shared/bench, the knowledge base a customer asks is the `reduced` index (a seeded 30% of
its articles removed: their questions are the in-domain unanswerable ones) and its ranking is scored on
the `full` index; a whole knowledge base is one index for both.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import answers_fit, datasets, evidence, self_evidence  # noqa: E402

KINDS = {"answerable": "A", "in-domain": "N", "unanswerable": "N", "off-domain": "O", "offdomain": "O"}
WHOLE_KBS = ("sample", "adguard-dns", "adguard-adblocker")
FAQ_SETS = ("stackfaq", "covid-faq")


@dataclass
class KBData:
    name: str
    langs: set[str]
    answer: list[tuple[str, dict]]  # (A | N | O, record with "text") on the knowledge base as customers ask it
    ranking: list[tuple[dict, dict]]  # (record, qrels) of answerable queries on the whole knowledge base
    own: list[dict]  # its own questions on the knowledge base as customers ask it (calibration's input)
    own_full: list[dict]  # ... and on the whole knowledge base (for the fusion weight)
    groups: int = 0
    small: list[dict] = field(default_factory=list)  # own questions of a 70-article cut (when dumped)
    small_ranking: list[tuple[dict, dict]] = field(default_factory=list)

    @property
    def faq(self) -> bool:
        return self.name in FAQ_SETS


def load(name: str) -> KBData | None:
    """One dev knowledge base, None when its dumps are missing."""
    return (_whole if name in WHOLE_KBS else _dev_set)(name)


def _dev_set(name: str) -> KBData | None:
    reduced, off, full = (evidence.load(name, s) for s in ("reduced", "offdomain", "full"))
    own, own_full = self_evidence.load(name, "reduced"), self_evidence.load(name, "full")
    if None in (reduced, off, full, own, own_full):
        return None
    answers_fit.load_texts(name)
    text = answers_fit.TEXTS.get
    answer = [("A" if reduced["answerable"][r["id"]] else "N", dict(r, text=text(r["id"], "")))
              for r in reduced["records"] if reduced["qrels"].get(r["id"])]
    answer += [("O", dict(r, text=text(r["id"], ""))) for r in off["records"]]
    ranking = [(dict(r, text=text(r["id"], "")), full["qrels"][r["id"]]) for r in full["records"]
               if full["qrels"].get(r["id"])]
    small, small_own = evidence.load(name, "small"), self_evidence.load(name, "small")
    data = KBData(name, set(answers_fit.KB_LANGS[name]), answer, ranking, own["records"], own_full["records"],
                  own["groups"])
    if small and small_own:
        data.small = small_own["records"]
        data.small_ranking = [(dict(r, text=text(r["id"], "")), small["qrels"][r["id"]]) for r in small["records"]]
    return data


def _whole(name: str) -> KBData | None:
    real, own = evidence.load(name, "kbs"), self_evidence.load(name, "full")
    if real is None or own is None:
        return None
    texts = real["texts"]
    answer = [(KINDS[real["kinds"][r["id"]]], dict(r, text=texts[r["id"]])) for r in real["records"]]
    ranking = [(dict(r, text=texts[r["id"]]), real["qrels"][r["id"]]) for r in real["records"]
               if real["qrels"].get(r["id"])]
    return KBData(name, set(own["langs"]), answer, ranking, own["records"], own["records"], own["groups"])


def available(names=None) -> list[KBData]:
    out = []
    for name in names or [*datasets.DEV_SETS, "covid-faq", *WHOLE_KBS]:
        data = load(name)
        if data is not None:
            out.append(data)
    return out
