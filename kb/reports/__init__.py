"""Content-health reports for writers: what to fix first, ranked by evidence.

Every report is a function of a `Context` returning a list of rows (dicts),
so the CLI prints them as a table, CSV or JSON and the web page sorts and
filters the same rows. Rows hold codes, numbers, lists and facts, never
sentences: each edge words them in its reader's language (`text` for the
terminal, web/presentation/report_text.py for the pages).
"""

from __future__ import annotations

import csv
import io
import json
import math

from kb.errors import KBError
from kb.reports import content, gaps, text, usage, workitems
from kb.reports.context import Context, FolderArticles

# severity of each kind of problem, for the priority queue
SEVERITY = {
    ("translations", "substantive"): 3.0, ("translations", "unknown"): 1.0, ("translations", "cosmetic"): 0.0,
    "stale": 2.0, "feedback": 3.0, "links": 2.0, "duplicates": 1.0, "missing": 1.0, "no-owner": 1.0,
}


def priority(ctx: Context) -> list[dict]:
    """One queue from all reports: severity × log(2 + traffic), the first thing to open on Monday.

    `problem` is a code (a translation's verdict, a review's status, a link's lint code, "unhelpful",
    "missing-translation", "no-owner", ...) and `facts` its evidence, the fields the report it comes from
    found (days overdue, votes, the link's target), for each edge to word.
    """
    traffic = ctx.activity.traffic(ctx.since)
    items = []
    for report, row, weight, problem, facts in _problems(ctx):
        if weight <= 0:
            continue
        t = traffic.get(row["id"], 0)
        items.append({"score": round(weight * math.log(2 + t), 2), "report": report, "problem": problem,
                      "facts": facts, "id": row["id"], "lang": row.get("lang"), "title": row.get("title"),
                      "owner": row.get("owner"), "product": row.get("product"), "traffic": t,
                      "visibility": row.get("visibility"), "item": workitems.item_key(report, row),
                      "fact": workitems.fact_key(report, row)})
    items.sort(key=lambda r: (-r["score"], r["id"]))
    return items


def _problems(ctx: Context):
    """(report, row, severity, problem code, facts) of every row of every report the queue takes."""
    for r in content.translations(ctx):
        yield ("translations", r, SEVERITY[("translations", r["severity"])],
               r["severity"] if r["change"] == "source-changed" else r["change"],
               {"severity": r["severity"], "change": r["change"], "source_lang": r["source_lang"],
                "sections": len(r["changes"])})
    for r in content.stale(ctx):
        yield "stale", r, SEVERITY["stale"], r["status"], {"overdue_days": r["overdue_days"]}
    for r in usage.feedback(ctx):
        yield "feedback", r, SEVERITY["feedback"], "unhelpful", {
            "helpful_share": r["helpful_share"], "votes": r["votes"], "not_relevant": r["not_relevant"]}
    for r in content.links(ctx):
        yield "links", r, SEVERITY["links"], r["problem"], {"target": r["target"], "anchor": r["anchor"],
                                                            "line": r["line"]}
    for r in content.duplicates(ctx):
        yield "duplicates", r, SEVERITY["duplicates"], r["kind"], {"other_id": r["other_id"],
                                                                   "other_lang": r["other_lang"]}
    for r in usage.missing(ctx):
        if r["demand"]:
            yield ("missing", r, SEVERITY["missing"] * math.log(1 + r["demand"]), "missing-translation",
                   {"missing_lang": r["missing_lang"], "demand": r["demand"]})
    for a in ctx.store.articles():
        if not a.owner:
            yield "no-owner", {"id": a.id, "lang": a.lang, "title": a.title, "owner": None, "product": a.product,
                               "visibility": a.visibility}, SEVERITY["no-owner"], "no-owner", {}


# The registry of reports, in the order the writers' page lists them (the most urgent first): `kb report`'s
# choices and the page's sections come from it, so a new report is one line here (and its title in web/).
REPORTS = {
    "priority": priority,
    "translations": content.translations,
    "stale": content.stale,
    "links": content.links,
    "feedback": usage.feedback,
    "missing": usage.missing,
    "duplicates": content.duplicates,
    "gaps": gaps.gaps,
    "unused": usage.unused,
}
FORMATS = ("table", "csv", "json")
HIDDEN = ("path", "visibility", "item", "fact")  # in CSV and JSON for scripts, not in the terminal's table
LIST_SEPARATOR = " | "  # a list of words in a CSV cell or the table (JSON keeps the list)


def run(name: str, ctx: Context, owner: str | None = None, lang: str | None = None,
        product: str | None = None) -> list[dict]:
    if name not in REPORTS:
        raise KBError(f"unknown report {name!r}; expected one of {list(REPORTS)}")
    return filter_rows(REPORTS[name](ctx), owner, lang, product)


def filter_rows(rows: list[dict], owner: str | None = None, lang: str | None = None,
                product: str | None = None) -> list[dict]:
    """Rows of this owner, language (the row's own or the missing one) and product."""
    if owner:
        rows = [r for r in rows if (r.get("owner") or "") == owner]
    if lang:
        rows = [r for r in rows if r.get("lang") == lang or r.get("missing_lang") == lang]
    if product:
        rows = [r for r in rows if r.get("product") == product]
    return rows


def render(rows: list[dict], fmt: str, name: str | None = None) -> str:
    """Rows of report `name` as JSON (facts as they are), CSV (one cell a field: lists joined by " | ",
    nested facts as JSON) or a table in English (kb/reports/text.py)."""
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=1, default=str)
    if fmt == "table" and name:
        rows = [text.terminal_row(name, r) for r in rows]
    rows = [{k: _flat(v) for k, v in r.items()} for r in rows]
    columns = list(dict.fromkeys(k for r in rows for k in r))
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)
        return buf.getvalue()
    if fmt != "table":
        raise KBError(f"unknown format {fmt!r}; expected one of {list(FORMATS)}")
    if not rows:
        return "(no rows)"
    shown = [c for c in columns if c not in HIDDEN]
    cells = [[_cell(r.get(c)) for c in shown] for r in rows]
    widths = [min(60, max(len(c), *(len(row[i]) for row in cells))) for i, c in enumerate(shown)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(shown, widths))]
    lines += ["  ".join(v[:w].ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def _flat(v):
    """One cell's value: a list of words joined, anything nested as JSON, the rest as it is."""
    if isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v):
        return LIST_SEPARATOR.join(v)
    if isinstance(v, (list, tuple, dict)):
        return json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)
    return v


def _cell(v) -> str:
    return "" if v is None else str(v).replace("\n", " ")


__all__ = ["Context", "FolderArticles", "REPORTS", "FORMATS", "run", "render", "filter_rows"]
