"""bench/results/kbs.md from the per-KB reports bench/kb_eval.py saves (bench/results/kbs/<kb>.json).

Each KB's numbers are kept in its own JSON file, so a run of one KB rewrites the table with the others'
last numbers; the page says when each was measured. The issue's targets are read off the table at the
end, KB by KB: the worst KB decides, not the mean.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

COLUMNS = [("answerable", "answerable", "{}"), ("ndcg@10", "nDCG@10", "{:.3f}"), ("recall@10", "R@10", "{:.3f}"),
           ("mrr@10", "MRR@10", "{:.3f}"), ("dense ndcg@10", "dense nDCG@10", "{:.3f}"),
           ("answered", "answered", "{:.3f}"), ("in-domain", "in-domain", "{}"),
           ("in-domain refused", "refused", "{:.3f}"), ("off-domain", "off-domain", "{}"),
           ("off-domain refused", "refused", "{:.3f}")]
ORDER = ("sample", "adguard-dns", "adguard-adblocker", "covid-faq-held-out", "stackfaq-held-out")


def save(report, folder: Path, command: str = "python bench/kb_eval.py"):
    folder.mkdir(parents=True, exist_ok=True)
    data = dataclasses.asdict(report) | {"date": dt.date.today().isoformat(), "command": command}
    (folder / f"{report.kb}.json").write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False),
                                              encoding="utf-8")


def summary_line(report) -> str:
    r = report.rows["all"]
    seeds = f", same under two seeds {report.seeds[0]}/{report.seeds[1]}" if report.seeds else ""
    return (f"  {report.kb}: nDCG@10 {_f(r['ndcg@10'])} (dense {_f(r['dense ndcg@10'])}), answered {_f(r['answered'])}, "
            f"in-domain refused {_f(r['in-domain refused'])}, off-domain refused {_f(r['off-domain refused'])}"
            f"{seeds} ({report.seconds:.0f} s)")


def _f(v) -> str:
    return "–" if v is None else f"{v:.3f}"


def _cell(row: dict, key: str, fmt: str) -> str:
    v = row.get(key)
    return "–" if v is None else fmt.format(v)


def table(saved: dict) -> list[str]:
    lines = ["| KB | language | " + " | ".join(h for _, h, _ in COLUMNS) + " | same under 2 seeds |",
             "|---|---|" + "---|" * (len(COLUMNS) + 1)]
    for name, rep in saved.items():
        for lang, row in rep["rows"].items():
            seeds = f"{rep['seeds'][0]}/{rep['seeds'][1]}" if rep.get("seeds") and lang == "all" else ""
            label = f"**{name}**" if lang == "all" else ""
            lines.append(f"| {label} | {lang} | " + " | ".join(_cell(row, k, f) for k, _, f in COLUMNS) + f" | {seeds} |")
    return lines


def _check(value, target, op=">=") -> str:
    if value is None:
        return "–"
    ok = value >= target if op == ">=" else value <= target
    return f"{value:.3f} {'✓' if ok else '✗'}"


def targets(saved: dict) -> list[str]:
    """The issue's targets, per KB they apply to."""
    lines = ["| KB | target | measured |", "|---|---|---|"]
    for name, rep in saved.items():
        a = rep["rows"]["all"]
        if name.startswith("adguard"):
            zh = rep["rows"].get("zh", {})
            lines += [f"| {name} | nDCG@10 ≥ 0.80 | {_check(a['ndcg@10'], 0.80)} |",
                      f"| {name} | nDCG@10 of Chinese queries ≥ 0.70 | {_check(zh.get('ndcg@10'), 0.70)} |",
                      f"| {name} | answered ≥ 0.90 | {_check(a['answered'], 0.90)} |",
                      f"| {name} | in-domain refused ≥ 0.5 | {_check(a['in-domain refused'], 0.5)} |",
                      f"| {name} | off-domain refused ≥ 0.5 | {_check(a['off-domain refused'], 0.5)} |"]
        elif name == "sample":
            lines += [f"| {name} | sample + typo/short queries answered ≥ 0.95 | {_check(a['answered'], 0.95)} |",
                      f"| {name} | out-of-scope (in-domain) refused ≥ 0.90 | {_check(a['in-domain refused'], 0.90)} |",
                      f"| {name} | out-of-scope (off-domain) refused ≥ 0.90 | {_check(a['off-domain refused'], 0.90)} |"]
        else:
            margin = None if a["ndcg@10"] is None else a["ndcg@10"] - a["dense ndcg@10"]
            lines += [f"| {name} | hybrid nDCG@10 ≥ dense − 0.005 | {_check(margin, -0.005)} (hybrid − dense) |",
                      f"| {name} | answered ≥ 0.93 | {_check(a['answered'], 0.93)} |",
                      f"| {name} | in-domain refused ≥ 0.30 | {_check(a['in-domain refused'], 0.30)} |",
                      f"| {name} | off-domain refused ≥ 0.98 | {_check(a['off-domain refused'], 0.98)} |"]
        if rep.get("seeds"):
            same, total = rep["seeds"]
            lines.append(f"| {name} | identical results under two hash seeds | {same}/{total} "
                         f"{'✓' if same == total else '✗'} |")
    return lines


def write(folder: Path, out: Path):
    saved = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")}
    saved = {n: saved[n] for n in [*ORDER, *sorted(set(saved) - set(ORDER))] if n in saved}
    lines = [f"# Search on whole knowledge bases ({dt.date.today().isoformat()})", "",
             "`python bench/kb_eval.py` (each KB's line below says how it was run). Every query through `Searcher` as the help center asks (public, ten results, no language given). "
             "Ranking: answerable queries only. *answered*: share of answerable queries answered; *refused*: share "
             "of in-domain (about the product, answered by no article) and off-domain queries not answered. "
             "A judged query whose articles are all outside an indexed sample counts as in-domain. "
             "Determinism: two subprocesses with PYTHONHASHSEED 1 and 2, identical ids, order and answered. "
             "KBs and query sets: bench/kbsets.py, bench/kbs/README.md.", ""]
    for name, rep in saved.items():
        lines.append(f"- **{name}** (`{rep.get('command', 'python bench/kb_eval.py')}`, {rep['date']}, "
                     f"{rep['seconds']:.0f} s): {rep['note']}"
                     + (f"; {rep['demoted']} judged queries count as in-domain here" if rep["demoted"] else ""))
    lines += ["", *table(saved), "", "## The issue's targets, KB by KB", "", *targets(saved), "",
              "The queries behind the misses (refused answerable, answered unanswerable, wrong first result) are "
              "listed per KB in bench/results/kbs/<kb>.json (`misses`).", ""]
    out.write_text("\n".join(lines), encoding="utf-8")
