"""Report rows as work items: assigned, resolved or snoozed, and back when the fact behind them changes.

A row is known by two fingerprints:

- its *item* key: which problem it is (the report, the article version, and
  what in it: the missing language, the other article of a duplicate pair,
  the broken link, the gap's first search). Assignment and state hang on it.
- its *fact*: the evidence the row shows (the drift found, the count of
  negative votes, of failed searches, the link's line). A resolved row stays
  hidden while its fact is the one it was resolved with; a new drift, a new
  failed query or a new negative vote makes a new fact, and the row returns.

Pure functions: the state itself is kept by `kb.storage` with the rest of
the activity data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from kb.storage.workitems import State


def _subject(report: str, row: dict) -> str:
    if report == "missing":
        return row.get("missing_lang") or ""
    if report == "duplicates":
        return f"{row.get('other_id')}/{row.get('other_lang')}"
    if report == "links":
        return f"{row.get('problem')}|{row.get('target')}#{row.get('anchor') or ''}"
    if report == "gaps":
        return (row.get("examples") or [""])[0].casefold()
    return ""


def _fact(report: str, row: dict) -> str:
    if report == "translations":  # the drift itself: which facts differ in which sections
        return f"{row.get('severity')}|{json.dumps(row.get('changes'), ensure_ascii=False, sort_keys=True)}"
    if report == "feedback":  # negative evidence only: a new helpful vote is no reason to reopen
        votes, share = row.get("votes") or 0, row.get("helpful_share")
        negative = round(votes * (1 - share)) if share is not None else 0
        return f"{negative}|{row.get('not_relevant')}"
    if report == "gaps":
        return f"{row.get('volume')}|{row.get('unanswered')}"
    if report == "missing":
        return ""  # the language is still missing: a resolved row stays resolved until it is written
    if report == "stale":
        return f"{row.get('due')}"
    if report == "links":
        return f"{row.get('line')}"
    if report == "duplicates":
        return f"{row.get('kind')}"
    return row.get("problem") or ""


def item_key(report: str, row: dict) -> str:
    raw = "\x1f".join([report, str(row.get("id") or ""), str(row.get("lang") or ""), _subject(report, row)])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:20]


def fact_key(report: str, row: dict) -> str:
    return hashlib.sha256(_fact(report, row).encode("utf-8")).hexdigest()[:20]


def keys_of(name: str, row: dict) -> tuple[str, str, str]:
    """(report, item, fact) of a row of report `name`; priority rows are keyed by the report they come from."""
    if "item" in row and "fact" in row:
        return row.get("report") or name, row["item"], row["fact"]
    return name, item_key(name, row), fact_key(name, row)


def hidden(state: State | None, fact: str, today: dt.date) -> bool:
    """Resolved with this very fact, or snoozed until a later day."""
    if state is None:
        return False
    if state.status == "resolved":
        return state.resolved_fact == fact
    if state.status == "snoozed":
        return state.snoozed_until is not None and state.snoozed_until > today
    return False


def apply(name: str, rows: list[dict], states: dict[str, State], today: dt.date,
          assignee: str | None = None) -> tuple[list[dict], int]:
    """Rows still to work on, each with `work`: {report, item, fact, assignee, status}; and how many were hidden.

    With `assignee`, only the rows assigned to that writer ("my queue").
    """
    shown, hidden_n = [], 0
    for row in rows:
        report, item, fact = keys_of(name, row)
        state = states.get(item)
        if hidden(state, fact, today):
            hidden_n += 1
            continue
        who = state.assignee if state else None
        if assignee is not None and who != assignee:
            continue
        shown.append({**row, "work": {"report": report, "item": item, "fact": fact, "assignee": who,
                                      "status": state.status if state else "open"}})
    return shown, hidden_n
