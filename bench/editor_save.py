"""How long from a writer's save in the editor to the change being searchable (the page's "Searchable since").

Copies the sample articles and an index of them to a temporary folder (the repository's articles/ are never
touched), signs a writer in, and saves one article N times through the editor's form, each save changing one
sentence, with the production path: `kb index` in a child process with the default model. Prints the
median and spread of save (request) and save-to-searchable times, and writes bench/results/editor_save.md.

    .venv/bin/python bench/editor_save.py [--index .kb-index] [--saves 5]
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kb.search.searcher import Searcher  # noqa: E402
from tests.editing_support import form_of  # noqa: E402
from tests.support import PASSWORD, accounts_at, copy_index, login  # noqa: E402
from web import create_app  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", default=str(ROOT / ".kb-index"), help="an index of articles/ (copied)")
    ap.add_argument("--saves", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "bench/results/editor_save.md"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        articles = Path(tmp) / "articles"
        shutil.copytree(ROOT / "articles", articles)
        index = copy_index(Path(args.index), Path(tmp) / "index")
        accounts_at(index / "activity.sqlite").add_user("bench-writer", PASSWORD, "writer")
        app = create_app({"INDEX": str(index), "ARTICLES": str(articles), "RATELIMIT_ENABLED": False,
                          "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
        client = app.test_client()
        login(client, "bench-writer")
        reindexer = app.extensions["polykb"]["reindexer"]
        request_s, searchable_s = [], []
        for i in range(args.saves):
            form = form_of(client, "/writers/edit/cdn-purge-cache/en")
            marker = f"benchmarker{i}zq"
            form["body"] = re.sub(r"benchmarker\d+zq|$", f" {marker}", form["body"], count=1)
            t0 = time.monotonic()
            r = client.post("/writers/edit/cdn-purge-cache/en", data=form)
            t1 = time.monotonic()
            ticket = int(re.search(r"ticket=(\d+)", r.headers["Location"]).group(1))
            state = reindexer.wait(ticket, timeout=300)
            t2 = time.monotonic()
            assert state["state"] == "done", state
            found = Searcher(index).search(marker, k=3)
            assert any(x.id == "cdn-purge-cache" for x in found.results), "the saved text is not searchable"
            request_s.append(t1 - t0)
            searchable_s.append(t2 - t0)
    rows = [("save request (lint, write, record, commit check)", request_s),
            ("save to searchable (kb index in a child process, default model)", searchable_s)]
    lines = [f"# Editor: save to searchable ({args.saves} saves of one article, sample knowledge base)", "",
             "| step | median s | min s | max s |", "|---|---|---|---|"]
    for name, xs in rows:
        lines.append(f"| {name} | {statistics.median(xs):.2f} | {min(xs):.2f} | {max(xs):.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
