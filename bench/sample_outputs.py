"""Every sample query's search output, as JSON lines, so two versions of the code can be compared result for result.

A refactoring (issue 21's move into folders, the Searcher split into phases) must not
change what customers and agents see. This runs the sample's own queries (customers',
uncovered ones and agents' tickets) through `kb search --queries` of the checkout given,
in each mode and audience, and writes one line per search: ids, languages, anchors,
sections, scores (6 decimals), snippets and `answered`. It only uses the command line,
which both layouts share, so it runs on a checkout from before the move too.

Searches run without time budgets on both sides (a `sitecustomize` lifts every
stage's time limit at start): a batch of 64 queries waits on a pool of four
keyword threads, and on a loaded machine the old code's 3 s keyword budget emptied
57 of them, which is load, not a difference in code.

    python bench/sample_outputs.py --code . --out bench/.work/after.jsonl
    python bench/sample_outputs.py --code /tmp/old-checkout --out bench/.work/before.jsonl
    python bench/sample_outputs.py --compare bench/.work/before.jsonl bench/.work/after.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
QUERY_FILES = ["sample_queries.jsonl", "uncovered_queries.jsonl", "agent-queries.jsonl"]
MODES = ["hybrid", "dense", "keyword"]
AUDIENCES = ["public", "internal"]
VECTORS = REPO / "bench" / ".work" / "sample-outputs.sqlite"  # the shared database: its passage-vector cache


def queries_file(folder: Path) -> Path:
    """The sample's queries with an id each (the uncovered ones have none)."""
    out = folder / "queries.jsonl"
    with out.open("w", encoding="utf-8") as f:
        for name in QUERY_FILES:
            for i, line in enumerate((REPO / "tests" / "data" / name).read_text(encoding="utf-8").splitlines()):
                q = json.loads(line)
                f.write(json.dumps({"id": q.get("id") or f"{name}-{i}", "lang": q.get("lang"), "text": q["text"]},
                                   ensure_ascii=False) + "\n")
    return out


def kb_command(code: Path) -> list[str]:
    """`python -m cli` after the move, `python -m kb.cli` before it."""
    return [sys.executable, "-m", "cli" if (code / "cli" / "__main__.py").exists() else "kb.cli"]


UNBUDGETED = """
import importlib
for name in ("kb.search.budget", "kb.budget"):  # after the move, before it
    try:
        budget = importlib.import_module(name)
    except ImportError:
        continue
    init = budget.Budget.__init__
    init.__defaults__ = tuple(1e9 if isinstance(d, float) else d for d in init.__defaults__)  # seconds: no limit
    break
"""


def forget_published():
    """Each run's index starts at generation 1: the shared database keeps the passage vectors, not the last run's
    published generations."""
    if VECTORS.exists():
        with sqlite3.connect(VECTORS) as db:
            db.execute("DELETE FROM generation_files")
            db.execute("DELETE FROM generations")


def run(code: Path, out: Path, modes: list[str]):
    forget_published()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "sitecustomize.py").write_text(UNBUDGETED, encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": f"{tmp}{os.pathsep}{code}", "HF_HUB_OFFLINE": "1", "PYTHONHASHSEED": "0",
               "KB_DATABASE_URL": f"sqlite:///{VECTORS}"}  # both sides embed each passage once, into one cache
        index = Path(tmp) / "index"
        subprocess.run(kb_command(code) + ["index", "--articles", str(REPO / "articles"), "--index", str(index), "-q"],
                       cwd=code, env=env, check=True)
        queries = queries_file(Path(tmp))
        with out.open("w", encoding="utf-8") as f:
            for mode in modes:
                for audience in AUDIENCES:
                    args = ["search", "--index", str(index), "--queries", str(queries), "--mode", mode]
                    lines = subprocess.run(kb_command(code) + args + (["--internal"] if audience == "internal" else []),
                                           cwd=code, env=env, check=True, capture_output=True, text=True).stdout
                    for line in lines.splitlines():
                        f.write(json.dumps({"mode": mode, "audience": audience, **_rounded(json.loads(line))},
                                           ensure_ascii=False, sort_keys=True) + "\n")


def _rounded(row: dict) -> dict:
    for r in row["results"]:
        r["score"] = round(r["score"], 6)
    return row


def compare(a: Path, b: Path) -> int:
    left, right = a.read_text(encoding="utf-8").splitlines(), b.read_text(encoding="utf-8").splitlines()
    differ = [(x, y) for x, y in zip(left, right) if x != y]
    print(f"{len(left)} searches before, {len(right)} after; {len(differ)} differ")
    for x, y in differ[:5]:
        print("-", x[:300], "\n+", y[:300])
    return int(bool(differ) or len(left) != len(right))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--code", type=Path, default=REPO, help="the checkout whose code runs the searches")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    ap.add_argument("--modes", nargs="+", default=MODES, choices=MODES)
    args = ap.parse_args()
    if args.compare:
        sys.exit(compare(*args.compare))
    run(args.code.resolve(), args.out, args.modes)


if __name__ == "__main__":
    main()
