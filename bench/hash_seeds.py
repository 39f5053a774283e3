"""The same searches in processes with different hash seeds: how many queries get identical results.

Python salts the hash of every string per process (PYTHONHASHSEED), so code that
iterates a set of strings, or takes a max over one and meets a tie, can answer a
query one way in one process and another way in the next: issue 22 saw 20 of 125
queries of a Docusaurus knowledge base change results between two seeds. This
indexes an articles folder once, runs `kb search --queries` (the batch entry point,
unlimited budget) under each seed, and compares the output line for line: ids,
languages, anchors, sections, snippets, scores and `answered`.

    python bench/hash_seeds.py                                    # the sample and its queries
    python bench/hash_seeds.py --articles DIR --queries FILE --name adguard --index DIR
    python bench/hash_seeds.py --code /tmp/old-checkout ...       # the same measure on other code

The table goes to bench/results/hash_seeds.md (one row per knowledge base, replaced on each run).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.sample_outputs import REPO, kb_command, queries_file  # noqa: E402

RESULTS = REPO / "bench" / "results" / "hash_seeds.md"
HEADER = ["knowledge base", "code", "searches", "identical", "differ", "seeds", "modes"]


def search_lines(code: Path, index: Path, queries: Path, mode: str, seed: str, ui_lang: str | None) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(code), "HF_HUB_OFFLINE": "1", "PYTHONHASHSEED": seed}
    args = ["search", "--index", str(index), "--queries", str(queries), "--mode", mode]
    args += ["--ui-lang", ui_lang] if ui_lang else []
    out = subprocess.run(kb_command(code) + args, cwd=code, env=env, check=True, capture_output=True, text=True)
    return out.stdout.splitlines()


def differences(a: list[str], b: list[str]) -> list[tuple[dict, dict]]:
    """The searches whose output differs (same query order in both runs)."""
    return [(json.loads(x), json.loads(y)) for x, y in zip(a, b) if x != y]


def summary(row: dict) -> str:
    return " ".join(f"{r['id']}:{r['lang']}" for r in row["results"][:3]) + f" answered={row['answered']}"


def measure(code: Path, index: Path, queries: Path, seeds: list[str], modes: list[str], ui_lang: str | None):
    total, differ, examples = 0, 0, []
    for mode in modes:
        runs = [search_lines(code, index, queries, mode, seed, ui_lang) for seed in seeds]
        for other in runs[1:]:
            found = differences(runs[0], other)
            total += len(runs[0])
            differ += len(found) + abs(len(runs[0]) - len(other))
            examples += [(mode, x, y) for x, y in found]
    return total, differ, examples


def write_row(name: str, cells: list[str]):
    """Replace this knowledge base's row of the results table (other rows stay)."""
    rows = {}
    if RESULTS.exists():
        for line in RESULTS.read_text(encoding="utf-8").splitlines():
            parts = [p.strip() for p in line.strip("|").split("|")]
            if line.startswith("|") and len(parts) == len(HEADER) and parts[0] not in (HEADER[0], "---"):
                rows[(parts[0], parts[1])] = line
    rows[(name, cells[0])] = "| " + " | ".join([name, *cells]) + " |"
    text = ["# Identical results under different hash seeds", "",
            "`python bench/hash_seeds.py`: each knowledge base indexed once, its queries searched by `kb search "
            "--queries` in processes with different PYTHONHASHSEED; a search is identical when its whole output "
            "line is (ids, languages, sections, snippets, scores, answered).", "",
            "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER), *[rows[k] for k in sorted(rows)]]
    RESULTS.write_text("\n".join(text) + "\n", encoding="utf-8")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--code", type=Path, default=REPO, help="the checkout whose code runs the searches")
    ap.add_argument("--label", default="this checkout", help="what to call --code in the table")
    ap.add_argument("--articles", type=Path, default=REPO / "articles")
    ap.add_argument("--queries", type=Path, help="queries.jsonl; default: the sample's three query files")
    ap.add_argument("--index", type=Path, help="an index of --articles to reuse (built there if missing)")
    ap.add_argument("--name", default="sample")
    ap.add_argument("--seeds", nargs="+", default=["1", "2"])
    ap.add_argument("--modes", nargs="+", default=["hybrid"])
    ap.add_argument("--ui-lang", default=None)
    ap.add_argument("--no-table", action="store_true", help="print only; leave bench/results alone")
    args = ap.parse_args()
    code = args.code.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        index = args.index or Path(tmp) / "index"
        if not (index / "CURRENT").exists() and not any(index.glob("gen-*")):
            subprocess.run(kb_command(code) + ["index", "--articles", str(args.articles), "--index", str(index), "-q"],
                           cwd=code, env={**os.environ, "PYTHONPATH": str(code), "HF_HUB_OFFLINE": "1"}, check=True)
        queries = args.queries or queries_file(Path(tmp))
        total, differ, examples = measure(code, index, queries, args.seeds, args.modes, args.ui_lang)
    print(f"{args.name}: {total} searches compared, {total - differ} identical, {differ} differ")
    for mode, x, y in examples[:10]:
        print(f"  {mode} {x['id']}: {summary(x)}\n  {' ' * len(mode)} {' ' * len(x['id'])}  {summary(y)}")
    if not args.no_table:
        write_row(args.name, [args.label, str(total), str(total - differ), str(differ), " vs ".join(args.seeds),
                              ", ".join(args.modes)])


if __name__ == "__main__":
    main()
