"""The state of report rows as work items (kb.reports.workitems): assignee, resolved with which fact, snoozed until."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from kb.storage.database import Database, now, upsert
from kb.storage.schema import work_items

STATUSES = ("open", "resolved", "snoozed")


@dataclass(frozen=True)
class State:
    item: str
    report: str
    article_id: str | None
    lang: str | None
    status: str = "open"
    assignee: str | None = None
    snoozed_until: dt.date | None = None
    resolved_fact: str | None = None
    updated_by: str | None = None
    updated_at: str | None = None


class WorkItems:
    def __init__(self, db: Database):
        self.db = db

    def states(self) -> dict[str, State]:
        """Every row's state by item key (a few per article at most: small enough to read whole per report)."""
        with self.db.read() as c:
            rows = c.execute(select(work_items)).all()
        return {r.item: _state(r) for r in rows}

    def save(self, state: State):
        values = {k: getattr(state, k) for k in ("item", "report", "article_id", "lang", "status", "assignee",
                                                 "resolved_fact", "updated_by")}
        values["snoozed_until"] = state.snoozed_until.isoformat() if state.snoozed_until else None
        values["updated_at"] = now()
        with self.db.write() as c:
            upsert(c, work_items, values, key=("item",))


def _state(r) -> State:
    return State(item=r.item, report=r.report, article_id=r.article_id, lang=r.lang, status=r.status,
                 assignee=r.assignee, snoozed_until=dt.date.fromisoformat(r.snoozed_until) if r.snoozed_until else None,
                 resolved_fact=r.resolved_fact, updated_by=r.updated_by, updated_at=r.updated_at)
