"""Retrieval quality: nDCG@10, Recall@10 and MRR@10 from queries and relevance judgements.

Queries are run without telling the engine their language, as real users
don't; the language in the queries file is only used to break the figures
down per language.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from kb.errors import KBError

CUTOFF = 10
OFF_DOMAIN = ("offdomain", "off-domain")  # bench/kbs and tests/data spell it with a hyphen


@dataclass(frozen=True)
class Query:
    id: str
    text: str
    lang: str | None
    relevant: tuple[str, ...] = ()  # optional inline judgements, instead of a qrels file
    kind: str | None = None  # "offdomain": not about this knowledge base at all (for the answered rates)


def read_queries(path: Path) -> list[Query]:
    """`{"id", "text", "lang"?}` per line; errors name the file and line."""
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                out.append(Query(str(obj["id"]), str(obj["text"]), obj.get("lang"), tuple(obj.get("relevant") or ()),
                                 obj.get("kind")))
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                raise KBError(f"{path}:{n}: not a query line ({e}); expected {{\"id\": ..., \"text\": ..., \"lang\"?: ...}}") from None
    return out


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """`query_id<TAB>article_id<TAB>relevance` per line."""
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3:
                raise KBError(f"{path}:{n}: expected query_id<TAB>article_id<TAB>relevance")
            try:
                qrels[parts[0]][parts[1]] = int(parts[2])
            except ValueError:
                raise KBError(f"{path}:{n}: relevance must be a whole number, got {parts[2]!r}") from None
    return dict(qrels)


def inline_qrels(queries: list[Query]) -> dict[str, dict[str, int]]:
    """Judgements written in the queries file itself (`"relevant": [ids]`)."""
    return {q.id: {d: 1 for d in q.relevant} for q in queries if q.relevant}


def ndcg(ranked: list[str], rel: dict[str, int], k: int = CUTOFF) -> float:
    dcg = sum(rel.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(rel.values(), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: list[str], rel: dict[str, int], k: int = CUTOFF) -> float:
    wanted = {d for d, r in rel.items() if r > 0}
    return len(wanted & set(ranked[:k])) / len(wanted) if wanted else 0.0


def mrr(ranked: list[str], rel: dict[str, int], k: int = CUTOFF) -> float:
    for i, d in enumerate(ranked[:k]):
        if rel.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


@dataclass
class Scores:
    n: int = 0
    ndcg: float = 0.0
    recall: float = 0.0
    mrr: float = 0.0

    def add(self, ranked, rel):
        self.n += 1
        self.ndcg += ndcg(ranked, rel)
        self.recall += recall(ranked, rel)
        self.mrr += mrr(ranked, rel)

    def mean(self) -> dict:
        n = max(self.n, 1)
        return {"queries": self.n, "ndcg@10": self.ndcg / n, "recall@10": self.recall / n, "mrr@10": self.mrr / n}


def evaluate(run: dict[str, list[str]], queries: list[Query], qrels: dict[str, dict[str, int]]) -> dict[str, dict]:
    """Mean scores overall ("all") and per query language, for the queries that have judgements."""
    by: dict[str, Scores] = defaultdict(Scores)
    for q in queries:
        rel = qrels.get(q.id)
        if not rel:
            continue
        ranked = run.get(q.id, [])
        by["all"].add(ranked, rel)
        if q.lang:
            by[q.lang].add(ranked, rel)
    return {k: v.mean() for k, v in sorted(by.items(), key=lambda kv: (kv[0] != "all", kv[0]))}


def answer_rates(answered: dict[str, bool], queries: list[Query], qrels: dict[str, dict[str, int]]) -> dict[str, dict]:
    """The "answered" decision per kind of query: queries with judgements should be answered; queries
    without (a topic the knowledge base lacks) and `"kind": "offdomain"` ones should be refused."""
    kinds: dict[str, list[bool]] = {"answerable": [], "unanswerable": [], "offdomain": []}
    for q in queries:
        if q.id not in answered:
            continue
        kind = "offdomain" if q.kind in OFF_DOMAIN else "answerable" if qrels.get(q.id) else "unanswerable"
        kinds[kind].append(answered[q.id] if kind == "answerable" else not answered[q.id])
    return {kind: {"queries": len(v), "rate": sum(v) / len(v) if v else None,
                   "measures": "answered" if kind == "answerable" else "refused"} for kind, v in kinds.items()}


BATCH = 64


def run_queries(searcher, queries: list[Query], mode: str, audience: str = "public"
                ) -> tuple[dict[str, list[str]], dict[str, bool]]:
    """(article ids ranked, answered or not) per query id, searched as the help center does: ten results, no
    language given."""
    run, answered = {}, {}
    for start in range(0, len(queries), BATCH):
        batch = queries[start:start + BATCH]
        for q, resp in zip(batch, searcher.search_many([q.text for q in batch], k=CUTOFF, mode=mode,
                                                      audience=audience)):
            run[q.id] = [r.id for r in resp.results]
            answered[q.id] = resp.answered
    return run, answered


UNCALIBRATED = "uncalibrated"  # the row of hybrid search with the dev-fitted defaults instead of the KB's own


def evaluate_modes(searcher, queries: list[Query], qrels: dict[str, dict[str, int]], modes, audience: str = "public"
                   ) -> tuple[dict[str, dict], dict[str, dict]]:
    """(retrieval scores, answered rates) per mode; with hybrid, an `uncalibrated` row too when the knowledge base
    calibrated itself at index time (kb/search/calibration.py), so both can be read side by side."""
    table, rates = {}, {}
    rows = [(mode, True) for mode in modes]
    cal = searcher.generation().calibration
    if "hybrid" in modes and cal is not None and cal.method == "self":
        rows.append((UNCALIBRATED, False))
    for row, calibrated in rows:
        searcher.calibrated = calibrated
        try:
            run, answered = run_queries(searcher, queries, "hybrid" if row == UNCALIBRATED else row, audience)
        finally:
            searcher.calibrated = True
        table[row] = evaluate(run, queries, qrels)
        rates[row] = answer_rates(answered, queries, qrels)
    return table, rates

