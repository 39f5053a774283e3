"""A second FAQ dev set: deepset's COVID-QA FAQs with human paraphrases, English and German.

    python bench/fetch_faq.py [--snapshot /work/.mirror/deepset-ai+COVID-QA/repo]

Source: github:deepset-ai/COVID-QA (Apache License 2.0), fetched with the search tool's `fetch`; nothing
of it enters this repository. Its `data/eval_question_similarity_{en,de}.csv` pair official FAQ questions
(question_1: WHO, CDC, ECDC, Robert Koch-Institut, German ministries...) with questions people wrote
for the same need (question_2, `similar` = 1; the 0 rows are random other questions and are not used).
The FAQ entries, with their answers, come from the crawls in `data/faqs/` (faq_covidbert.csv,
faq_200327.tsv, faq_200322_16.tsv): every English and German entry is a document, so the paraphrased
questions compete with all the others (a knowledge base, not a list of 200 matches). A paraphrase's
relevant document is its FAQ question's entry; questions of the pairs that no crawl holds are left out
(counted in meta.json).

Writes ../shared/bench's format (corpus.jsonl, queries.jsonl, qrels.tsv, meta.json) into
bench/.work/data/covid-faq/, which git ignores.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import datasets  # noqa: E402

NAME = "covid-faq"
REPO = "deepset-ai/COVID-QA"
DEFAULT_SNAPSHOT = Path("/work/.mirror") / REPO.replace("/", "+") / "repo"
LANGS = ("en", "de")
FAQ_FILES = ("data/faqs/faq_covidbert.csv", "data/faqs/faq_200327.tsv", "data/faqs/faq_200322_16.tsv")
PAIRS = "data/eval_question_similarity_{lang}.csv"


def _show(snapshot: Path, path: str) -> str:
    """A file of the snapshot at HEAD (a bare git directory, as `fetch` leaves it, or a checkout)."""
    if (snapshot / path).is_file():
        return (snapshot / path).read_text(encoding="utf-8")
    return subprocess.run(["git", "-C", str(snapshot), "show", f"HEAD:{path}"], capture_output=True, check=True,
                          text=True).stdout


def _key(question: str) -> str:
    return re.sub(r"\s+", " ", question).strip().lower()


def faq_entries(snapshot: Path) -> dict[tuple[str, str], dict]:
    """(lang, question key) → {"question", "answer"}, the first crawl that has it winning."""
    csv.field_size_limit(10**8)
    out: dict[tuple[str, str], dict] = {}
    for path in FAQ_FILES:
        delimiter = "\t" if path.endswith(".tsv") else ","
        for row in csv.DictReader(io.StringIO(_show(snapshot, path)), delimiter=delimiter):
            lang, question, answer = (row.get("lang") or "").strip(), (row.get("question") or "").strip(), \
                (row.get("answer") or "").strip()
            if lang in LANGS and question and answer:
                out.setdefault((lang, _key(question)), {"question": question, "answer": answer})
    return out


def doc_id(lang: str, question: str) -> str:
    return f"covid-{lang}-{hashlib.sha1(_key(question).encode()).hexdigest()[:10]}"


def build(snapshot: Path) -> tuple[list[dict], list[dict], list[tuple[str, str]], dict]:
    entries = faq_entries(snapshot)
    corpus = [{"id": doc_id(lang, e["question"]), "lang": lang, "title": e["question"], "text": e["answer"]}
              for (lang, _), e in sorted(entries.items())]
    queries: dict[tuple[str, str], dict] = {}
    qrels: list[tuple[str, str]] = []
    missing = 0
    for lang in LANGS:
        for row in csv.DictReader(io.StringIO(_show(snapshot, PAIRS.format(lang=lang)))):
            if row["similar"].strip() != "1":
                continue
            if (lang, _key(row["question_1"])) not in entries:
                missing += 1
                continue
            text = row["question_2"].strip()
            q = queries.setdefault((lang, _key(text)), {"id": f"covid-q-{lang}-{len(queries) + 1:04d}", "lang": lang,
                                                        "text": text})
            pair = (q["id"], doc_id(lang, row["question_1"]))
            if pair not in qrels:
                qrels.append(pair)
    return corpus, list(queries.values()), qrels, {"pairs_without_faq_entry": missing}


def commit_of(snapshot: Path) -> str:
    return subprocess.run(["git", "-C", str(snapshot), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()


def write(out: Path, corpus: list[dict], queries: list[dict], qrels: list[tuple[str, str]], meta: dict):
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("corpus.jsonl", corpus), ("queries.jsonl", queries)):
        (out / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    (out / "qrels.tsv").write_text("".join(f"{q}\t{d}\t1\n" for q, d in qrels), encoding="utf-8")
    (out / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True, ensure_ascii=False), encoding="utf-8")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--snapshot", type=Path, default=DEFAULT_SNAPSHOT,
                    help="the fetched snapshot of github:deepset-ai/COVID-QA (git directory or checkout)")
    ap.add_argument("--out", type=Path, default=datasets.WORK / "data" / NAME)
    args = ap.parse_args(argv)
    if not args.snapshot.exists():
        raise SystemExit(f"no snapshot at {args.snapshot}: fetch github:{REPO} with the search tool first")
    corpus, queries, qrels, counts = build(args.snapshot)
    by_lang = lambda rows: {lang: sum(r["lang"] == lang for r in rows) for lang in LANGS}  # noqa: E731
    meta = {"name": NAME, "source": f"github:{REPO}", "commit": commit_of(args.snapshot), "licence": "Apache-2.0",
            "construction": __doc__.split("\n\n")[1].replace("\n", " "),
            "docs": len(corpus), "docs_by_lang": by_lang(corpus), "queries": len(queries),
            "queries_by_lang": by_lang(queries), "qrels": len(qrels), **counts}
    write(args.out, corpus, queries, qrels, meta)
    print(json.dumps({k: v for k, v in meta.items() if k != "construction"}, ensure_ascii=False))


if __name__ == "__main__":
    main()
