"""Ticket-sized queries: the sample's customer queries as an agent would paste them.

Each query is wrapped, deterministically (seeded), in what real tickets carry
around the question: a greeting in the customer's language, context lines,
10-40 lines of logs that have nothing to do with the answer, and a signature.
Together with the hand-written tickets in tests/data/agent-queries.jsonl
this measures how search holds up against noise: the wrapper is the same
kind of noise for every query, so nothing here is tuned to one query.
Whether the section shown for those tickets is the fix: bench/fix_sections.py.

    python bench/tickets.py --index .kb-index
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb.search.evaluation import Query, evaluate, inline_qrels, read_queries  # noqa: E402
from kb.search.budget import Budget  # noqa: E402
from kb.search.searcher import Searcher  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
GREETING = {"en": ["Hello team,", "Hi,", "Good morning!"], "zh": ["您好，", "你好，", "客服您好！"],
            "ru": ["Здравствуйте!", "Добрый день.", "Привет!"]}
CONTEXT = {"en": ["We are a video platform with about 50k daily users.", "This started after yesterday's deploy.",
                  "Our account id is 778812."],
           "zh": ["我们是一家在线教育平台，日活大约五万。", "昨天发布新版本之后开始出现。", "账号 ID 是 778812。"],
           "ru": ["Мы онлайн-кинотеатр, около 50 тысяч пользователей в день.", "Началось после вчерашнего релиза.",
                  "Наш ID аккаунта 778812."]}
SIGN = {"en": ["Thanks, Alex", "Best regards,\nMaria, DevOps"], "zh": ["谢谢！", "辛苦了，王工"],
        "ru": ["Спасибо, Дмитрий", "С уважением,\nОльга, техподдержка"]}
LOG = ["{ts} INFO  worker-{n} heartbeat ok uptime={n}s", "{ts} DEBUG http GET /api/v1/items?page={n} 200 {n}ms",
       "{ts} WARN  gc pause {n}ms heap=512MB", "{ts} INFO  scheduler job sync-{n} finished in {n}ms",
       "{ts} DEBUG cache hit ratio 0.{n} keys={n}", "at com.example.app.Service.handle(Service.java:{n})",
       "{ts} INFO  user session created sid={n}"]


def ticket(q: Query, rng: random.Random) -> str:
    lang = q.lang if q.lang in GREETING else "en"
    lines = [rng.choice(GREETING[lang]), rng.choice(CONTEXT[lang]), q.text, ""]
    for _ in range(rng.randint(10, 40)):
        n = rng.randint(1, 999)
        lines.append(rng.choice(LOG).format(ts=f"2026-11-2{rng.randint(0, 9)}T0{rng.randint(0, 9)}:1{n % 10}:22Z", n=n))
    lines += ["", rng.choice(SIGN[lang])]
    return "\n".join(lines)


def tickets(seed: int = 7) -> list[Query]:
    rng = random.Random(seed)
    sample = read_queries(REPO / "tests/data/sample_queries.jsonl")
    wrapped = [Query(q.id, ticket(q, rng), q.lang, q.relevant) for q in sample]
    return wrapped + read_queries(REPO / "tests/data/agent-queries.jsonl")


def score(searcher: Searcher, queries: list[Query], mode: str) -> dict:
    run = {q.id: [r.id for r in searcher.search(q.text, audience="internal", k=10, mode=mode).results] for q in queries}
    return evaluate(run, queries, inline_qrels(queries))["all"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, default=REPO / ".kb-index")
    args = ap.parse_args()
    s = Searcher(args.index, budget=Budget.unlimited())
    qs = tickets()
    for mode in ("keyword", "dense", "hybrid"):
        print(mode, json.dumps({k: round(v, 3) for k, v in score(s, qs, mode).items()}))


if __name__ == "__main__":
    main()
