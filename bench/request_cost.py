"""What one request costs: typical tickets and queries against adversarial inputs, before and after, in one run.

Issue 13 asks that no request cost more than 10x a typical ticket. Each tree
(the current one, and with --before a git ref checked out beside it) serves
the sample knowledge base in a child process of its own, through the Flask
test client; the parent sends the same requests to both, alternating, so a
change in the machine's load hits both alike. A request's cost is the CPU
time of its process (all threads: the embedder runs on its own), which a busy
machine changes far less than wall time (also shown).

Typical: the sample's customer queries wrapped as pasted tickets
(bench/tickets.py) for /api/suggest, the bare queries for /api/search.
Adversarial: what one client may send in one request. /api/search refuses
more than 500 characters, so it gets 500-character versions. And what one
writer may save (issue 24): articles at the edge of each limit of
kb/articles/limits.py, added to the sample before indexing, then read
uncached by anyone (the API, the page) and found by an agent's ticket.

    python bench/request_cost.py --before 934d255     # writes bench/results/request_cost.md
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench/results/request_cost.md"
TOKEN = "kb_bench_request_cost"


# --- inputs -----------------------------------------------------------------------------------------

def adversarial(n: int, seed: int) -> dict[str, str]:
    """Inputs of about n characters that have cost far more than their size (seeded: each repeat differs)."""
    rng = random.Random(seed)
    cyr = "абвгдежзийклмнопрстуфхцчшщэюя"
    words = []
    while sum(len(w) + 1 for w in words) < n:
        words.append(f"w{len(words)}z{rng.randint(0, 10**6)}")
    return {
        "[ repeated": "[" * (n - 3) + f" {seed % 100}",
        "random Cyrillic": "".join(rng.choice(cyr + " ") for _ in range(n)),
        "random CJK": "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(n)),
        "nested markdown": ("> " * (n // 8) + "- " * (n // 8) + "*" * (n // 8) + "[](" * (n // 12))[:n - 4]
                           + f" {seed}",
        "distinct tokens": " ".join(words)[:n],
        "one long token": "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n)),
        "a.a.a. (regex)": "a." * (n // 2 - 2) + f"{seed:02d}"[:2],
        "one line per word": "\n".join(rng.choice(["error", "cdn", "502", "upload", "502 error"])
                                       for _ in range(n // 6))[:n],
    }


WRITER_WORD = "zebrafishbench"  # in every writer-saved article, so a ticket finds them all


def writer_articles(max_bytes: int = 200_000) -> dict[str, str]:
    """id -> file text: public articles a writer may save, each as costly as one of the default limits allows."""
    def filled(id_: str, body: str, filler: str) -> str:
        head = (f"---\nid: {id_}\nlang: en\ntitle: {WRITER_WORD} {id_}\nproduct: cdn\nvisibility: public\n---\n"
                f"{WRITER_WORD} article.\n\n")
        room = max_bytes - len(head.encode()) - len(body.encode()) - 1
        return head + body + (filler * (room // len(filler) + 1))[:max(room, 0)] + "\n"

    prose = f"The {WRITER_WORD} cache refresh note for word number seven. "
    heading = "## {n} " + WRITER_WORD + "\n\n" + prose * 5 + "\n\n"
    headings = "".join(heading.format(n=n) for n in range(499))
    row = "|" + " x |" * 64 + "\n"
    table = "|" + " h |" * 64 + "\n|" + "---|" * 64 + "\n"
    return {
        "writer-references": filled("writer-references", "&#x41;" * 2_000 + "\n\n", prose),
        "writer-headings": filled("writer-headings", headings[:max_bytes - 300], prose),
        "writer-table": filled("writer-table", table + row * (10_000 // 64 - 2) + "\n", prose),  # 10,000 cells
        "writer-backticks": filled("writer-backticks", "", "`"),
        "writer-brackets": filled("writer-brackets", "", "["),
        "writer-nested": filled("writer-nested", "", "> - *[](" * 3 + "\n"),
        "writer-emphasis": filled("writer-emphasis", "", "*a _b "),
    }


def typical(limit: int) -> tuple[list[str], list[str]]:
    """(tickets for /api/suggest, queries for /api/search): the first `limit` of each, in file order."""
    sys.path.insert(0, str(REPO))
    from bench.tickets import tickets
    from kb.search.evaluation import read_queries

    return ([q.text for q in tickets()][:limit],
            [q.text for q in read_queries(REPO / "tests/data/sample_queries.jsonl")][:limit])


# --- the child: one tree, one app -------------------------------------------------------------------

def child(tree: Path, index: Path):
    """Serve requests read from stdin (one JSON object a line) with the app of `tree`; print their costs."""
    sys.path.insert(0, str(tree))
    os.chdir(tree)
    from web import create_app

    app = create_app({"TESTING": True, "INDEX": str(index), "RATELIMIT_ENABLED": False, "SECRET_KEY": "bench"})
    client = app.test_client()
    ext = app.extensions["polykb"]
    tokens = ext.get("accounts") or ext["activity"]  # accounts moved out of the activity log (kb/storage)
    token = tokens.add_token(f"bench-{os.getpid()}")
    for line in sys.stdin:
        ask = json.loads(line)
        for forget in (ext["searcher"].responses.clear, ext["searcher"].embedder.forget_queries, ext["rendered"].clear):
            forget()  # every request is a first one
        cpu, wall = time.process_time(), time.perf_counter()
        if ask["route"] == "article":
            r = client.get(f"/api/articles/{ask['text']}", query_string={"lang": "en"})
        elif ask["route"] == "page":
            r = client.get(f"/en/article/{ask['text']}")
        elif ask["route"] == "suggest":
            r = client.post("/api/suggest", json={"text": ask["text"], "k": ask.get("k", 5)},
                            headers={"Authorization": f"Bearer {token}"})
        else:
            r = client.get("/api/search", query_string={"q": ask["text"], "k": ask.get("k", 10)})
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        body = r.get_json(silent=True) or {}
        print(json.dumps({"cpu": cpu, "wall": wall, "status": r.status_code,
                          "results": len(body.get("results", [])) if isinstance(body, dict) else 0,
                          "degraded": body.get("degraded_stages", [])}), flush=True)
        time.sleep(0.05)  # let a degraded request's background embedding finish outside the next measurement


class Tree:
    """A child process serving one tree's app over a copy of the index."""

    def __init__(self, name: str, tree: Path, index: Path):
        self.name, self.tree = name, tree
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child", str(tree), str(index)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=tree,
                                     env=dict(os.environ, PYTHONPATH=str(tree)))

    def ask(self, route: str, text: str, k: int | None = None) -> dict:
        self.proc.stdin.write(json.dumps({"route": route, "text": text, **({"k": k} if k else {})}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"the {self.name} child stopped; see its errors above")
        return json.loads(line)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def build_index(tree: Path, source_index: Path, into: Path) -> Path:
    """The sample and the writer-saved articles indexed by `tree`'s own indexer (index layouts differ between
    versions), embeddings reused."""
    into.mkdir(parents=True)
    cache = source_index / "embeddings.sqlite"
    if cache.exists():
        shutil.copy(cache, into / "embeddings.sqlite")
    articles = into.parent / f"articles-{into.name}"
    shutil.copytree(tree / "articles", articles)
    for id_, text in writer_articles().items():
        (articles / "cdn" / f"{id_}.en.md").write_text(text, encoding="utf-8")
    subprocess.run([sys.executable, "-c", "from cli.main import cli; cli()", "index", "--articles", str(articles),
                    "--index", str(into), "--quiet"], cwd=tree, env=dict(os.environ, PYTHONPATH=str(tree)), check=True)
    return into


# --- the parent ---------------------------------------------------------------------------------------

def measure(trees: list[Tree], route: str, texts: list[str], k: int | None = None,
            limits: dict[str, int] | None = None) -> dict[str, list[dict]]:
    """Each text to each tree, alternating who goes first; `limits` caps the texts a tree gets (a slow before)."""
    out: dict[str, list[dict]] = {t.name: [] for t in trees}
    for i, text in enumerate(texts):
        for t in (trees if i % 2 == 0 else trees[::-1]):
            if i < (limits or {}).get(t.name, len(texts)):
                out[t.name].append(t.ask(route, text, k))
    return out


def cases(route: str, repeats: int, n_typical: int) -> list[tuple[str, list[str], int | None]]:
    if route in ("article", "page"):  # each writer-saved article read uncached, `repeats` times
        return [(f"{id_} (200,000 bytes)", [id_] * repeats, None) for id_ in writer_articles()]
    tickets, queries = typical(n_typical)
    n = 20_000 if route == "suggest" else 500
    rows = [("typical " + ("ticket" if route == "suggest" else "query"), tickets if route == "suggest" else queries,
             None)]
    variants = [adversarial(n, seed) for seed in range(repeats)]
    rows += [(f"{name} ({n:,} chars)", [v[name] for v in variants], None) for name in variants[0]]
    rows.append(("typical, k=50", (tickets if route == "suggest" else queries)[:repeats], 50))
    if route == "suggest":
        rows.append(("finding the writer-saved articles, k=50",
                     [f"Hello, the {WRITER_WORD} cache refresh note fails for word number {i}" for i in range(repeats)],
                     50))
    return rows


def table(results: dict, names: list[str]) -> list[str]:
    """Markdown rows: median CPU ms per tree and ratio to that tree's typical ticket."""
    base = {n: statistics.median(r["cpu"] for r in results[("suggest", "typical ticket")][n]) for n in names}
    head = "| route | request | " + " | ".join(f"{n} CPU ms | {n} ×ticket | {n} wall ms" for n in names) + " | notes |"
    lines = [head, "|" + "---|" * (3 + 3 * len(names))]
    worst = {n: 0.0 for n in names}
    for (route, case), per in results.items():
        cells, notes = [], set()
        for n in names:
            cpu = statistics.median(r["cpu"] for r in per[n])
            wall = statistics.median(r["wall"] for r in per[n])
            worst[n] = max(worst[n], cpu / base[n])
            cells.append(f"{cpu * 1000:,.0f} | {cpu / base[n]:.1f} | {wall * 1000:,.0f}")
            for r in per[n]:
                if r["status"] != 200:
                    notes.add(f"{n}: HTTP {r['status']}")
                if r["degraded"]:
                    notes.add(f"{n}: degraded {'+'.join(r['degraded'])}")
        path = {"article": "/api/articles/ID", "page": "/en/article/ID"}.get(route, f"/api/{route}")
        lines.append(f"| {path} | {case} | " + " | ".join(cells) + f" | {'; '.join(sorted(notes))} |")
    lines.append("| | **worst ratio to a typical ticket** | " + " | ".join(f"| **{worst[n]:.1f}** |" for n in names)
                 + " |")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", help="git ref to compare with (checked out into a temporary worktree)")
    ap.add_argument("--index", type=Path, default=REPO / ".kb-index",
                    help="an index of articles/ whose embeddings.sqlite seeds the indexes built here")
    ap.add_argument("--repeats", type=int, default=3, help="variants of each adversarial input")
    ap.add_argument("--before-repeats", type=int, help="variants of each adversarial input sent to the before tree "
                    "(default: --repeats; 20,000 `[` took 33 s there)")
    ap.add_argument("--typical", type=int, default=15, help="typical tickets and queries measured")
    ap.add_argument("--built", type=Path, help="an index this script built before (its index-after folder), to "
                    "measure again without indexing the writer-saved articles again")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(*args.child)
    work = Path(tempfile.mkdtemp(prefix="request-cost-"))
    specs = [("after", REPO)]
    if args.before:
        before = work / "before"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(before), args.before], check=True)
        specs.insert(0, ("before", before))
    try:
        trees = [Tree(name, tree, args.built if args.built and name == "after" else
                      build_index(tree, args.index, work / f"index-{name}")) for name, tree in specs]
        results = {}
        for route in ("suggest", "search", "article", "page"):
            for case, texts, k in cases(route, args.repeats, args.typical):
                limits = {"before": args.before_repeats} if args.before_repeats and not case.startswith("typical") \
                    else None
                results[(route, case)] = measure(trees, route, texts, k, limits)
                print(route, case, {n: round(statistics.median(r["cpu"] for r in v), 3)
                                    for n, v in results[(route, case)].items()}, flush=True)
        for t in trees:
            t.close()
    finally:
        if args.before:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(work / "before")])
    names = [n for n, _ in specs]
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    labels = ", ".join(f"{n} = {args.before if n == 'before' else commit}" for n in names)
    text = "\n".join([
        "# Cost of one request (bench/request_cost.py)", "",
        f"Trees: {labels}. "
        f"CPU time of the serving process per request (median; typical: {args.typical} tickets or queries, "
        f"adversarial: {args.repeats} seeded variants each, {args.before_repeats or args.repeats} on the before tree), measured side by side in one run, alternating. "
        f"×ticket: the request's CPU over the median typical ticket's (/api/suggest) of the same tree. "
        f"Machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end.", "",
        *table(results, names), ""])
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
