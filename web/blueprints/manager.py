"""The writers' article manager (`/writers/articles`): every article and its translations in one table.

Each language's status (up to date, outdated, overdue review, untranslated) is
the reports' own finding (`kb.reports.coverage`), so the manager and the
reports never disagree; filters by language, status, owner and audience, a
search in ids and titles, and a bulk "assign" that assigns the report rows
behind the chosen articles (the same work items the reports' "Assign" sets).
Edit, Translate and New article lead to the editor. Columns sort
(`?sort=id|title|owner|status|updated&dir=asc|desc`); `/writers/articles/export.csv`
is the same filtered and sorted view as CSV, internal articles included (this is a
staff page). Writers and admins only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext

from kb import reports
from kb.reports import coverage
from kb.storage.accounts import EDITORS
from kb.storage.workitems import State

from web.presentation.spreadsheet import BOM, safe_cell
from web.services.resources import get_accounts, get_activity, get_edits, get_searcher, get_workitems
from web.services.security import role_required

bp = Blueprint("manager", __name__, url_prefix="/writers/articles")
FILTERS = ("q", "lang", "status", "owner", "audience")

bp.before_request(role_required(EDITORS, lambda: _("This page is for writers.")))


@bp.get("")
def index():
    v = _view()
    return render_template("writers/articles.html", rows=v["rows"], total=v["total"], langs=v["langs"],
                           chosen=v["chosen"], owners=v["owners"], assignees=v["assignees"],
                           status_labels=status_labels(), sort=v["sort"], desc=v["desc"], sort_url=_sort_url(v),
                           editable=bool(current_app.config.get("ARTICLES")))


@bp.get("/export.csv")
def export():
    """The view on screen (filters and order) as CSV: one row per article, a status column per language shown
    (codes, "+" between two: "outdated+overdue"; empty where it has no version and none is wanted)."""
    v = _view()
    langs = [code for code in v["langs"] if not v["chosen"]["lang"] or code == v["chosen"]["lang"]]
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["id", "title", "visibility", "product", "owners", "updated", "assigned", *langs])
    for r in v["rows"]:
        w.writerow([safe_cell(x) for x in (r["id"], r["title"], r["visibility"], r["product"] or "",
                                          " | ".join(r["owners"]), r["updated"] or "",
                                          " | ".join(v["assignees"][r["id"]]))]
                   + ["+".join(r["cells"][code]["status"]) if code in r["cells"] else "" for code in langs])
    response = Response(BOM + out.getvalue(), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="articles-{dt.date.today().isoformat()}.csv"'
    return response


def _view() -> dict:
    """The articles the query string asks for: filtered, sorted, with their assignees."""
    rows, langs = coverage.coverage(_context())
    chosen = {f: request.args.get(f, "").strip()[:200] for f in FILTERS}
    if chosen["status"] not in coverage.STATUSES:
        chosen["status"] = ""
    sort = request.args.get("sort", "")  # a column, or "status-<lang>": the status in that language
    key, _sep, by_lang = sort.partition("-") if sort.startswith("status-") else (sort, "", "")
    if key not in coverage.SORTS or (by_lang and by_lang not in langs):
        sort = key = by_lang = ""
    desc = bool(sort) and request.args.get("dir") == "desc"
    shown = [r for r in rows if coverage.matches(r, **chosen)]
    if sort:
        shown = coverage.sorted_rows(shown, key, desc, by_lang or chosen["lang"])
    states = get_workitems().states()
    assignees = {r["id"]: sorted({states[item].assignee for c in r["cells"].values() for _rep, item in c["items"]
                                  if item in states and states[item].assignee}) for r in shown}
    return {"rows": shown, "total": len(rows), "langs": langs, "chosen": chosen, "sort": sort, "desc": desc,
            "owners": sorted({o for r in rows for o in r["owners"]}), "assignees": assignees}


def _sort_url(v: dict):
    """url(column) -> the page sorted by it: ascending first, the other way when it is the current order
    ("status" and "updated" start with the most urgent and the newest)."""
    def url(col: str) -> str:
        first_desc = col.startswith("status") or col == "updated"
        desc = not v["desc"] if col == v["sort"] else first_desc
        args = {k: x for k, x in v["chosen"].items() if x}
        return url_for(".index", **args, sort=col, dir="desc" if desc else "asc")
    return url


@bp.post("/assign")
def assign():
    """Assign the report rows of the chosen articles (only the filter's language and status, if any) to a writer."""
    f = request.form
    name = g.user if f.get("action") == "assign_me" else f.get("assignee", "").strip()
    if get_accounts().user_role(name) not in EDITORS:
        abort(400, _("There is no writer called “%(name)s”.", name=name[:80]))
    ids = set(f.getlist("id"))
    if not ids:
        abort(400, _("Choose at least one article to assign."))
    lang, status = f.get("lang", ""), f.get("status", "")
    rows, _langs = coverage.coverage(_context())
    states = get_workitems().states()
    done = 0
    for row in rows:
        if row["id"] not in ids:
            continue
        for report, item, code in coverage.items_to_assign(row, lang, status):
            old = states.get(item) or State(item, report, row["id"], code)
            get_workitems().save(State(**{**old.__dict__, "assignee": name, "updated_by": g.user}))
            done += 1
    if done:
        flash(ngettext("Assigned %(num)d report row to %(name)s.", "Assigned %(num)d report rows to %(name)s.",
                       done, name=name))
    else:
        flash(_("Nothing to assign: the chosen articles are up to date in every language shown."))
    back = {k: f.get(k) for k in (*FILTERS, "sort", "dir") if f.get(k)}
    return redirect(url_for(".index", **back))


def status_labels() -> dict[str, str]:
    return {"up-to-date": _("Up to date"), "outdated": _("Outdated"), "overdue": _("Review overdue"),
            "untranslated": _("Untranslated")}


def _context() -> reports.Context:
    searcher = get_searcher()
    return reports.Context(store=searcher.store, activity=get_activity(), embedder=searcher.embedder,
                           searcher=searcher, reviewed=get_edits().last_reviewed())
