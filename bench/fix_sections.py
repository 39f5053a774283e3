"""Agent tickets: is the right article first, and is the section shown the one with the fix?

Runs every ticket of tests/data/agent-queries.jsonl the way the agent page
does (`audience="internal"`, hybrid, k=5) and reports three shares:

- **article first**: the first result is one of the ticket's `relevant` articles;
- **fix shown**: the first result whose id is relevant points at a section listed in
  the ticket's `fix_anchors` (keyed `"<id>"` or `"<id>/<lang>"`: anchors differ per
  language version, and the version shown is the one the search chose);
- **both problems found**: for tickets with `problems` (two problems in one message),
  every problem has one of its articles among the five results.

    python bench/fix_sections.py --index .kb-index [--out bench/results/answers-tickets.md]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb.search.budget import Budget  # noqa: E402
from kb.search.searcher import Searcher  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TICKETS = REPO / "tests/data/agent-queries.jsonl"
K = 5


@dataclass
class Outcome:
    id: str
    lang: str
    first: str  # "id/lang#anchor" of the first result
    article_first: bool
    shown: str  # "id/lang#anchor" of the first relevant result, "" when none is in the top K
    fix_shown: bool
    problems: list[bool] | None  # per problem: one of its articles in the top K


def read_tickets(path: Path = TICKETS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def fix_anchors(ticket: dict, article_id: str, lang: str) -> set[str]:
    fixes = ticket.get("fix_anchors", {})
    return set(fixes.get(article_id, ())) | set(fixes.get(f"{article_id}/{lang}", ()))


def run_ticket(searcher: Searcher, ticket: dict) -> Outcome:
    results = searcher.search(ticket["text"], audience="internal", k=K, mode="hybrid").results
    relevant = set(ticket["relevant"])
    where = [f"{r.id}/{r.lang}#{r.anchor}" for r in results]
    hit = next((r for r in results if r.id in relevant), None)
    problems = None
    if ticket.get("problems"):
        ids = {r.id for r in results}
        problems = [bool(ids & set(p)) for p in ticket["problems"]]
    return Outcome(
        id=ticket["id"], lang=ticket.get("lang", ""), first=where[0] if where else "",
        article_first=bool(results) and results[0].id in relevant,
        shown=f"{hit.id}/{hit.lang}#{hit.anchor}" if hit else "",
        fix_shown=hit is not None and hit.anchor in fix_anchors(ticket, hit.id, hit.lang),
        problems=problems)


def share(flags: list[bool]) -> str:
    return f"{sum(flags)}/{len(flags)} = {sum(flags) / len(flags):.2f}" if flags else "-"


def summary(outcomes: list[Outcome]) -> dict[str, str]:
    multi = [o for o in outcomes if o.problems is not None]
    out = {"tickets": str(len(outcomes)),
           "article first": share([o.article_first for o in outcomes]),
           "fix shown": share([o.fix_shown for o in outcomes]),
           "two-problem tickets, every problem in top 5": share([all(o.problems) for o in multi])}
    for lang in sorted({o.lang for o in outcomes}):
        mine = [o for o in outcomes if o.lang == lang]
        out[f"fix shown, {lang}"] = share([o.fix_shown for o in mine])
    return out


def table(outcomes: list[Outcome], label: str) -> str:
    lines = [f"### {label}", "", "| measure | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in summary(outcomes).items()]
    lines += ["", "| ticket | article first | fix shown | section shown (first relevant result) | problems in top 5 |",
              "|---|---|---|---|---|"]
    for o in outcomes:
        probs = " ".join("yes" if p else "NO" for p in o.problems) if o.problems is not None else ""
        lines.append(f"| {o.id} | {'yes' if o.article_first else 'NO'} | {'yes' if o.fix_shown else 'NO'} "
                     f"| `{o.shown or '(none in top 5)'}` | {probs} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, default=REPO / ".kb-index")
    ap.add_argument("--tickets", type=Path, default=TICKETS)
    ap.add_argument("--label", default="current code", help="heading of this run in the output")
    ap.add_argument("--out", type=Path, help="append the table to this Markdown file")
    args = ap.parse_args()
    searcher = Searcher(args.index, budget=Budget.unlimited())
    outcomes = [run_ticket(searcher, t) for t in read_tickets(args.tickets)]
    text = table(outcomes, args.label)
    print(text)
    if args.out:
        with args.out.open("a", encoding="utf-8") as f:
            f.write("\n" + text)


if __name__ == "__main__":
    main()
