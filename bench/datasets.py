"""The shared benchmark sets (../shared/bench), turned into knowledge bases polykb can index.

Each document becomes one article (its id lower-cased, its language, its
title); the data stays in ../shared and the articles are written to a work
folder outside git. XQuAD titles are English Wikipedia page names in every
language ("Super_Bowl_50"); we index them as titles, as a knowledge base
would, underscores turned into spaces.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "bench"
WORK = REPO / "bench" / ".work"
DEV_SETS = ["stackfaq", "xquad-mono-zh", "xquad-mono-ru", "xquad-mono-en", "xquad-cross-en", "xquad-cross-any",
            "xquad-mono-es", "xquad-mono-de", "xquad-mono-ar", "cmrc2018"]


@dataclass
class Dataset:
    name: str
    docs: list[dict]
    queries: list[dict]
    qrels: dict[str, dict[str, int]]


def _article_id(doc_id: str) -> str:
    return re.sub(r"[^a-z0-9._-]", "-", doc_id.lower())


# Sets whose documents are translations of one another: polykb indexes them as translation
# groups (same article id, one file per language), as its users would, and every system's
# results are scored per group ("found the paragraph, in some language").
GROUPED = {"xquad-cross-any"}


def group_of(doc_id: str) -> str:
    return doc_id.rsplit(".", 1)[0]


def load(name: str, max_queries: int | None = None, folder: Path | None = None) -> Dataset:
    """A set from ../shared/bench, or from `folder` in the same format (bench/fetch_faq.py writes such; by default
    bench/.work/data/<name> when ../shared/bench has no such set)."""
    folder = folder or (SHARED / name if (SHARED / name).is_dir() else WORK / "data" / name)
    if not folder.is_dir():
        raise SystemExit(f"benchmark set {folder} not found: the data lives in ../shared/bench beside the repo")
    docs = [json.loads(line) for line in open(folder / "corpus.jsonl", encoding="utf-8")]
    queries = [json.loads(line) for line in open(folder / "queries.jsonl", encoding="utf-8")]
    qrels: dict[str, dict[str, int]] = {}
    for line in open(folder / "qrels.tsv", encoding="utf-8"):
        q, d, r = line.rstrip("\n").split("\t")
        qrels.setdefault(q, {})[_article_id(group_of(d) if name in GROUPED else d)] = int(r)
    if max_queries and len(queries) > max_queries:
        step = len(queries) / max_queries  # an even spread over the file (it is grouped by language)
        queries = [queries[int(i * step)] for i in range(max_queries)]
    for d in docs:
        d["article_id"] = _article_id(group_of(d["id"]) if name in GROUPED else d["id"])
        d["file_id"] = _article_id(d["id"])
    return Dataset(name, docs, queries, qrels)


def write_articles(ds: Dataset) -> Path:
    """Write the corpus as Markdown articles (only files whose text changed are rewritten)."""
    root = WORK / ds.name / "articles"
    root.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for d in ds.docs:
        path = root / f"{d['file_id']}.md"
        wanted.add(path.name)
        title = (d.get("title") or "").replace("_", " ").strip() or d["article_id"]
        text = (f"---\nid: {d['article_id']}\nlang: {d['lang']}\ntitle: {json.dumps(title, ensure_ascii=False)}\n"
                f"owner: bench\n---\n{d['text'].strip()}\n")
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    for stale in root.glob("*.md"):
        if stale.name not in wanted:
            stale.unlink()
    return root
