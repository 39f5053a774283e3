"""`kb import` on real public sites: what it imports, finds untranslated, converts and reports, per site.

    python bench/import_sites.py docusaurus:adguard-dns:/path/to/KnowledgeBaseDNS \\
        docusaurus:adguard-adblocker:/path/to/KnowledgeBase mkdocs:sing-box:/path/to/sing-box \\
        hugo:opentelemetry:/path/to/opentelemetry.io --keep adguard-dns --keep adguard-adblocker --keep-dir /work/kbs

Each SITE is FORMAT:NAME:PATH, a checkout (a fetched snapshot unpacked with `git archive`). Each is
imported twice into bench/.work/import/NAME (the second run shows what a re-run rewrites: nothing, if
the import is stable), then scanned as `kb lint` scans it. The table goes to bench/results/import.md;
`--keep` copies a site's articles to KEEP_DIR/NAME for others to index.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.job import scan  # noqa: E402
from kb.importing.run import import_site  # noqa: E402

WORK = ROOT / "bench" / ".work" / "import"
RESULTS = ROOT / "bench" / "results" / "import.md"
UNRENDERABLE = {"admonition-syntax", "html-comment", "html", "jsx", "mdx-import", "shortcode", "tabs",
                "snippet-include", "unclosed-fence", "github-alert"}


def run_site(fmt: str, name: str, path: Path) -> dict:
    out = WORK / name
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.monotonic()
    first = import_site(fmt, path, out)
    seconds = time.monotonic() - t0
    second = import_site(fmt, path, out)
    lint = scan(out)
    return {"fmt": fmt, "name": name, "report": first, "again": second, "seconds": seconds, "lint": lint}


def _counts(counter: Counter, limit: int = 12) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]) or "none"


def table(rows: list[dict]) -> list[str]:
    out = ["| site | format | articles imported | by language | untranslated copies found (per locale) | "
           "orphan translations | locales not imported | warnings at file:line | re-run rewrote | lint after import "
           "| seconds |", "|" + " --- |" * 11]
    for r in rows:
        rep, lint = r["report"], r["lint"]
        codes = Counter(p.code for p in lint.problems if p.severity == "warning" and p.code != "no-owner")
        skipped = ", ".join(f"{k} ({rep.skipped_locale_files[k]})" for k in sorted(rep.skipped_locales)) or "none"
        out.append(f"| {r['name']} | {r['fmt']} | {rep.imported} | {_counts(rep.written + rep.unchanged)} | "
                   f"{sum(rep.untranslated.values())}: {_counts(rep.untranslated)} | {sum(rep.orphans.values())} | "
                   f"{skipped} | {len(rep.notes)} | {sum(r['again'].written.values())} | {len(lint.errors)} errors, "
                   f"{sum(codes.values())} warnings ({_counts(codes, 6)}) | {r['seconds']:.0f} |")
    return out


def details(rows: list[dict]) -> list[str]:
    out = []
    for r in rows:
        rep, lint = r["report"], r["lint"]
        notes = Counter(n.code for n in rep.notes)
        left = Counter(p.code for p in lint.problems if p.code in UNRENDERABLE)
        out += [f"### {r['name']}", "",
                f"- constructs converted: {_counts(rep.converted, 20)}",
                f"- warnings by kind: {_counts(notes, 20)}",
                f"- constructs polykb still cannot render (kb lint): {_counts(left) if left else 'none'}",
                f"- images and attachments copied: {rep.assets}", ""]
        examples = [str(n) for n in rep.notes[:3]]
        if examples:
            out += ["  e.g. " + examples[0]] + [f"       {e}" for e in examples[1:]] + [""]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sites", nargs="+", help="FORMAT:NAME:PATH")
    ap.add_argument("--keep", action="append", default=[], help="a site NAME whose articles to copy to --keep-dir")
    ap.add_argument("--keep-dir", type=Path, default=Path("/work/kbs"))
    ap.add_argument("--note", action="append", default=[], help="a line for the results' notes (what was run, how)")
    args = ap.parse_args(argv)
    rows = []
    for spec in args.sites:
        fmt, name, path = spec.split(":", 2)
        print(f"importing {name} ({fmt}) from {path}", file=sys.stderr)
        rows.append(run_site(fmt, name, Path(path)))
        if name in args.keep:
            dest = args.keep_dir / name
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(WORK / name, dest)
            print(f"kept {name} in {dest}", file=sys.stderr)
    lines = ["# kb import on real sites", "",
             f"Run {dt.date.today().isoformat()} with `python bench/import_sites.py` (see its docstring). Articles "
             "imported = source documents plus real translations; untranslated copies are \"translations\" whose "
             "prose is mostly not in their locale's language (kb/importing/untranslated.py): reported, not imported. "
             "Warnings are each construct dropped or not converted (an iframe, an MDX import, a link to no "
             "document), at file:line. \"Re-run rewrote\" is the articles a second import of the same checkout "
             "wrote (0: stable, `kb index` afterwards re-embeds nothing). \"Lint after import\" is `kb lint` on the "
             "imported folder, missing owners not counted.", ""] + table(rows) + [""] + details(rows)
    if args.note:
        lines += ["## Notes on this run", ""] + [f"- {n}" for n in args.note] + [""]
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(table(rows)))


if __name__ == "__main__":
    main()
