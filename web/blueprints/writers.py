"""Content-health reports for writers: the priority queue first, then every report as a table.

Writers and admins only; agents and visitors get the same refusal as other
staff pages. Each request computes its report from the served index
generation and the activity log (`kb.reports`), so a re-index shows at once
and nothing is cached. `/writers/<name>` sorts (`?sort=col&dir=asc|desc`) and
filters (`?owner=&lang=&product=`) on the server; `/writers/<name>.csv` is the
same rows as CSV, the twin of `kb report NAME --format csv`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Blueprint, Response, abort, g, render_template, request, url_for
from flask_babel import format_percent
from flask_babel import gettext as _

from kb.articles import render
from kb import reports
from kb.reports import workitems
from kb.storage.accounts import EDITORS

from web.presentation.report_text import action_text, changes_note, link_target, problem_text, section_changes, values
from web.presentation.spreadsheet import BOM, safe_row
from web.services.resources import get_activity, get_audit, get_edits, get_searcher, get_workitems
from web.services.security import role_required

bp = Blueprint("writers", __name__, url_prefix="/writers")
ORDER = tuple(reports.REPORTS)  # the registry's order: the most urgent first
FILTERS = ("owner", "lang", "product")
WINDOW_DAYS = 90  # how far back usage counts, as `kb report --days`
PREVIEW = 10  # rows of the priority queue on the overview
# fields drawn inside another column (the article cell, the pair, the nearest article) or constant
MERGED = {"title", "path", "visibility", "window_days", "other_id", "other_lang", "other_title", "nearest_title",
          "nearest_lang", "item", "fact", "work"}
KINDS = {"lang": "lang", "source_lang": "lang", "missing_lang": "lang", "severity": "severity", "report": "report",
         "examples": "examples", "reasons": "list", "nearest_id": "nearest", "source_updated": "date", "reviewed": "date",
         "due": "date", "updated": "date", "helpful_share": "share", "action": "action", "langs": "langs",
         "have": "langs", "target": "target"}
# per report: fields drawn inside another cell (the translation's verdict and its changes, the priority problem
# from its facts, the action with its languages, a link's anchor with its target)
MERGED_IN = {"translations": {"change", "changes"}, "priority": {"facts"}, "gaps": {"action_langs", "example_langs"},
             "links": {"anchor"}}


@dataclass(frozen=True)
class Column:
    key: str  # the row field it shows and sorts by
    label: str
    kind: str  # how the template draws the cell: article, pair, nearest, lang, severity, changes, list, number, text
    numeric: bool = False
    wide: bool = False  # long text: gets room, and breaks anywhere (URLs, code)


@dataclass
class Table:
    """One report's rows after filtering and sorting, with what the page needs to draw them."""

    name: str
    rows: list[dict]
    total: int  # rows before filtering
    columns: list[Column]
    options: dict[str, list[str]]  # filter -> values found in the rows
    chosen: dict[str, str]
    sort: str | None
    desc: bool
    hidden: int = 0  # rows resolved (until their fact changes) or snoozed
    assignee: str | None = None  # "my queue": only the rows assigned to this writer

    def url(self, endpoint: str = "writers.report", **changes) -> str:
        args = {**self.chosen, "assignee": self.assignee, "sort": self.sort, "dir": ("desc" if self.desc else "asc") if self.sort else None}
        args.update(changes)
        return url_for(endpoint, name=self.name, **{k: v for k, v in args.items() if v})

    def sort_url(self, col: Column) -> str:
        desc = not self.desc if col.key == self.sort else col.numeric  # numbers: biggest first
        return self.url(sort=col.key, dir="desc" if desc else "asc")

    @property
    def filtered(self) -> bool:
        return any(self.chosen.values()) or bool(self.assignee)


bp.before_request(role_required(EDITORS, lambda: _("This page is for writers.")))


@bp.get("/")
def index():
    ctx = _context()
    states = get_workitems().states()
    rows = {name: work_rows(name, reports.run(name, ctx), states)[0] for name in ORDER}
    queue = rows["priority"][:PREVIEW]
    preview = Table("priority", queue, len(rows["priority"]), columns("priority", queue), {}, {}, None, False)
    mine = {name: sum(r["work"]["assignee"] == g.user for r in rs) for name, rs in rows.items() if name != "priority"}
    return render_template("writers/index.html", counts={n: len(r) for n, r in rows.items()}, preview=preview,
                           mine=mine, **_helpers())


@bp.get("/<name>")
def report(name):
    return render_template("writers/report.html", t=table(name), **_helpers())


@bp.get("/<name>.csv")
def report_csv(name):
    t = table(name)
    body = BOM + reports.render([safe_row({k: v for k, v in r.items() if k != "work"}) for r in t.rows], "csv")
    response = Response(body, content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{dt.date.today().isoformat()}.csv"'
    return response


@bp.get("/article/<article_id>")
def article(article_id):
    """Any article, internal ones included, as a writer checks it; not counted as a view in the usage reports."""
    searcher = get_searcher()
    found = searcher.article(article_id, request.args.get("lang") or None, "internal")
    if found is None:
        abort(404, _("We couldn't find that article. It may have been moved or removed."))
    row, body = found

    def resolve(target, anchor):
        if searcher.versions(target, "internal"):
            return url_for("writers.article", article_id=target, lang=row.lang, _anchor=anchor)
        return None

    html = render.render(body, resolve).html
    if row.visibility == "internal":
        get_audit().log("internal_read", g.user, f"{article_id} ({row.lang})")
    versions = searcher.versions(article_id, "internal")
    # the languages the help center serves that this public article lacks: the missing report's own rule
    translate_to = sorted(searcher.languages("public") - {v.lang for v in versions}) if row.visibility == "public" else []
    return render_template("writers/article.html", row=row, html=html, versions=versions, translate_to=translate_to,
                           **_helpers())


def table(name: str) -> Table:
    """The report's rows, filtered and sorted as the query string asks; 404 for an unknown report."""
    if name not in reports.REPORTS:
        abort(404, _("There is no report called “%(name)s”.", name=name[:80]))
    assignee = request.args.get("assignee", "").strip() or None
    rows, hidden = work_rows(name, reports.run(name, _context()), get_workitems().states(), assignee)
    chosen = {f: request.args.get(f, "").strip() for f in FILTERS}
    shown = reports.filter_rows(rows, **chosen)
    sort = request.args.get("sort") or None
    if sort not in {k for r in rows for k in r}:
        sort = None  # an unknown column: the report's own order
    desc = request.args.get("dir") == "desc"
    if sort:
        shown = sorted_rows(shown, sort, desc)
    return Table(name, shown, len(rows), columns(name, rows), options(rows), chosen, sort, desc, hidden, assignee)


def work_rows(name: str, rows: list[dict], states: dict, assignee: str | None = None) -> tuple[list[dict], int]:
    """The rows still to work on (resolved ones stay away until their fact changes), each with its `work` state."""
    return workitems.apply(name, rows, states, dt.date.today(), assignee)


def options(rows: list[dict]) -> dict[str, list[str]]:
    """Each filter's choices: the values the unfiltered rows hold."""
    langs = {r.get(k) for r in rows for k in ("lang", "missing_lang")}
    return {"owner": sorted({r.get("owner") for r in rows} - {None, ""}), "lang": sorted(langs - {None, ""}),
            "product": sorted({r.get("product") for r in rows} - {None, ""})}


def sorted_rows(rows: list[dict], key: str, desc: bool) -> list[dict]:
    """Rows by one field, numbers as numbers, text without case; empty cells last either way; ties keep order."""
    present = [r for r in rows if r.get(key) not in (None, "")]
    present.sort(key=lambda r: _sort_key(r[key]), reverse=desc)
    return present + [r for r in rows if r.get(key) in (None, "")]


def _sort_key(value):
    if isinstance(value, (int, float)):
        return (0, value, "")
    return (1, 0, str(value).casefold())


def columns(name: str, rows: list[dict]) -> list[Column]:
    """The table's columns: the article first, then the report's own fields in its order."""
    keys = [k for k in dict.fromkeys(k for r in rows for k in r) if not k.startswith("_")]
    labels = _labels()
    cols, merged = [], set(MERGED)
    if "id" in keys:
        pair = "other_id" in keys
        cols.append(Column("id", labels["pair" if pair else "id"], "pair" if pair else "article"))
        keys.sort(key=lambda k: k != "lang")  # the language next to the article (a pair shows both)
        merged |= {"id", "lang"} if pair else {"id"}
    merged |= MERGED_IN.get(name, set())
    for key in keys:
        if key in merged:
            continue
        numeric = any(isinstance(r.get(key), (int, float)) for r in rows)
        kind = "changes" if (name == "translations" and key == "sections") else KINDS.get(key, "text")
        if name == "priority" and key == "problem":
            kind = "problem"  # drawn from the row's facts in the UI language
        if numeric and kind == "text":
            kind = "number"
        wide = kind in ("changes", "list") or any(len(str(r.get(key) or "")) > 60 for r in rows)
        cols.append(Column(key, labels.get(key) or key.replace("_", " ").capitalize(), kind, numeric, wide))
    if rows:
        cols.append(Column("work", _("Work"), "work"))
    return cols


def _context() -> reports.Context:
    searcher = get_searcher()
    return reports.Context(store=searcher.store, activity=get_activity(), embedder=searcher.embedder,
                           searcher=searcher, window_days=WINDOW_DAYS, reviewed=get_edits().last_reviewed())


def fix_url(row: dict) -> str | None:
    """Where a writer fixes a row: the side-by-side view for a drifted translation, a pre-filled new translation
    for a missing one, a new article for a content gap, else the editor."""
    report = row.get("work", {}).get("report") or row.get("report")
    if report == "translations" and row.get("id") and row.get("lang"):
        return url_for("translating.side_by_side", article_id=row["id"], lang=row["lang"])
    if report == "missing" and row.get("missing_lang"):
        have = row.get("have") or []
        return url_for("translating.new", article_id=row["id"], lang=row["missing_lang"],
                       **{"from": "en" if "en" in have else have[0]})
    if report == "gaps":
        return url_for("editor.new")
    if row.get("id") and row.get("lang"):
        return url_for("editor.edit", article_id=row["id"], lang=row["lang"])
    return None


def _helpers() -> dict:
    return {"about": _about(), "order": ORDER, "value_label": values().get, "changes": section_changes,
            "changes_note": changes_note, "link_target": link_target, "fix_url": fix_url,
            "problem_text": problem_text, "action_text": action_text, "share": lambda v: format_percent(v, "#,##0%"),
            "filter_labels": {"owner": (_("Owner"), _("All owners")), "lang": (_("Language"), _("All languages")),
                              "product": (_("Product"), _("All products"))}}


def _about() -> dict[str, tuple[str, str]]:
    """Each report's title and one line on what it lists."""
    days = WINDOW_DAYS
    return {
        "priority": (_("Fix first"), _("One queue from every report, ranked by how serious the problem is and how "
                                       "many people read the article.")),
        "translations": (_("Outdated translations"), _("Translations whose source changed since they were made: "
                                                       "substantive if facts changed, cosmetic if only wording.")),
        "stale": (_("Overdue reviews"), _("Articles past their review date, or never reviewed.")),
        "links": (_("Broken links"), _("Links to missing articles, sections or images, and public articles that "
                                       "link to internal ones.")),
        "feedback": (_("Unhelpful articles"), _("Articles readers voted unhelpful or agents marked not relevant in "
                                                "the last %(days)d days.", days=days)),
        "missing": (_("Missing translations"), _("Public articles without a version in a language the help center "
                                                 "serves, most wanted first.")),
        "duplicates": (_("Duplicates"), _("Pairs of articles with the same content: merge them, or link them as "
                                          "translations.")),
        "gaps": (_("Content gaps"), _("What readers searched for and did not find in the last %(days)d days, "
                                      "grouped by meaning across languages.", days=days)),
        "unused": (_("Unused articles"), _("Public articles nobody opened and no search showed as a result "
                                           "in the last %(days)d days.", days=days)),
    }


def _labels() -> dict[str, str]:
    return {
        "id": _("Article"), "pair": _("Articles side by side"), "lang": _("Language"), "owner": _("Owner"),
        "product": _("Product"), "score": _("Score"), "report": _("Report"), "problem": _("Problem"),
        "traffic": _("Traffic"), "source_lang": _("Source"), "source_updated": _("Source updated"),
        "change": _("Change"), "severity": _("Verdict"), "sections": _("Changed sections"),
        "reviewed": _("Reviewed"), "due": _("Review due"), "overdue_days": _("Days overdue"), "status": _("Status"),
        "missing_lang": _("Missing language"), "have": _("Available in"), "demand": _("Demand"),
        "votes": _("Votes"), "helpful_share": _("Helpful share"), "not_relevant": _("Not relevant"),
        "solved": _("Solved"), "reasons": _("Readers' comments"), "updated": _("Updated"), "kind": _("Kind"),
        "evidence": _("Evidence"), "similarity": _("Similarity"), "line": _("Line"), "volume": _("Searches"),
        "unanswered": _("Not answered"),
        "examples": _("Example searches"), "langs": _("Languages"), "nearest_id": _("Nearest article"),
        "action": _("Suggested action"), "target": _("Link target"),
    }
