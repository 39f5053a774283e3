"""Work on report rows: assign to a writer, resolve, snooze until a date (writers and admins, CSRF-checked forms).

A row is known by its item key and shown with its fact (`kb.reports.workitems`):
resolving stores the fact it was resolved with, so the row comes back by
itself when the fact changes (a new drift, a new failed query, a new negative
vote). The state lives in the shared database (`kb.storage.workitems`).
"""

from __future__ import annotations

import datetime as dt
import re

from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _

from kb.storage.accounts import EDITORS
from kb.storage.workitems import State

from web.services.resources import get_accounts, get_workitems
from web.services.security import role_required, safe_next

bp = Blueprint("workitems", __name__, url_prefix="/writers/items")
_ITEM = re.compile(r"^[0-9a-f]{20}$")
ACTIONS = ("assign_me", "assign", "unassign", "resolve", "reopen", "snooze")


bp.before_request(role_required(EDITORS, lambda: _("This page is for writers."), come_back=False))


@bp.post("/<item>")
def update(item):
    if not _ITEM.match(item):
        abort(400, _("That is not a report row."))
    f = request.form
    action = f.get("action", "")
    if action not in ACTIONS:
        abort(400, _("Unknown action."))
    old = get_workitems().states().get(item)
    state = old or State(item, f.get("report", "")[:40], f.get("article_id", "")[:128] or None,
                         f.get("lang", "")[:16] or None)
    changes = _changes(action, f, state)
    get_workitems().save(State(**{**state.__dict__, **changes, "updated_by": g.user}))
    return redirect(safe_next(f.get("next")) or url_for("writers.index"))


def _changes(action: str, f, state: State) -> dict:
    if action == "assign_me":
        flash(_("Assigned to you."))
        return {"assignee": g.user}
    if action == "assign":
        name = f.get("assignee", "").strip()
        if get_accounts().user_role(name) not in EDITORS:
            abort(400, _("There is no writer called “%(name)s”.", name=name[:80]))
        flash(_("Assigned to %(name)s.", name=name))
        return {"assignee": name}
    if action == "unassign":
        return {"assignee": None}
    if action == "resolve":
        flash(_("Resolved. The row comes back if what it reports changes."))
        return {"status": "resolved", "resolved_fact": f.get("fact", "")[:64], "snoozed_until": None}
    if action == "reopen":
        return {"status": "open", "resolved_fact": None, "snoozed_until": None}
    try:
        until = dt.date.fromisoformat(f.get("until", ""))
    except ValueError:
        abort(400, _("Choose the date to snooze the row until."))
    if until <= dt.date.today():
        abort(400, _("Choose a date after today."))
    flash(_("Snoozed until %(date)s.", date=until.isoformat()))
    return {"status": "snoozed", "snoozed_until": until}
