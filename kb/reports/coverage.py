"""The writers' article manager: every article with each language's status, taken from the reports.

A version's status is what the reports already found, never a second opinion:
"outdated" if the translations report lists it, "overdue" if the stale report
does, "untranslated" for a language the missing-translations report says a
public article lacks, else "up-to-date". A version may be outdated and overdue
at once. Each cell also carries the work-item keys of the report rows behind
it (`workitems.keys_of`), so assigning from the manager assigns those very rows
and the reports show the same assignee.
"""

from __future__ import annotations

from collections import defaultdict

from kb.reports import content, usage, workitems
from kb.reports.context import Context

STATUSES = ("up-to-date", "outdated", "overdue", "untranslated")
AUDIENCES = ("public", "internal")
SORTS = ("id", "title", "owner", "status", "updated")  # the manager's sortable columns
URGENCY = {"outdated": 3, "overdue": 2, "untranslated": 1, "up-to-date": 0}  # "status" sorts the most urgent first


def coverage(ctx: Context) -> tuple[list[dict], list[str]]:
    """(articles, languages): one row per article id, its `cells` by language, and every language in the KB.

    A cell: {"lang", "status": [codes], "title", "owner", "items": [(report, item)], "severity"?}; a language the
    article has no version in and no report wants is absent from `cells`.
    """
    flagged: dict[tuple[str, str], list[tuple[str, dict]]] = defaultdict(list)
    for report, rows in (("translations", content.translations(ctx)), ("stale", content.stale(ctx))):
        for r in rows:
            flagged[(r["id"], r["lang"])].append((report, r))
    missing: dict[str, list[dict]] = defaultdict(list)
    for r in usage.missing(ctx):
        missing[r["id"]].append(r)
    groups: dict[str, dict] = {}
    for a in ctx.store.articles():
        groups.setdefault(a.id, {})[a.lang] = a
    rows = [_article(aid, versions, flagged, missing.get(aid, [])) for aid, versions in sorted(groups.items())]
    return rows, sorted({lang for v in groups.values() for lang in v})


def _article(aid: str, versions: dict, flagged: dict, missing: list[dict]) -> dict:
    best = versions.get("en") or next(iter(versions.values()))
    cells = {}
    for lang, a in versions.items():
        found = flagged.get((aid, lang), [])
        status = [{"translations": "outdated", "stale": "overdue"}[rep] for rep, _r in found] or ["up-to-date"]
        cell = {"lang": lang, "status": status, "title": a.title, "owner": a.owner, "path": a.path,
                "translated_from": a.translated_from,
                "items": [workitems.keys_of(rep, r)[:2] for rep, r in found]}
        for rep, r in found:
            if rep == "translations":
                cell["severity"] = r["severity"]
        cells[lang] = cell
    for r in missing:
        cells[r["missing_lang"]] = {"lang": r["missing_lang"], "status": ["untranslated"], "demand": r["demand"],
                                    "source": "en" if "en" in versions else best.lang,
                                    "items": [workitems.keys_of("missing", r)[:2]]}
    dates = [a.updated for a in versions.values() if a.updated]
    return {"id": aid, "title": best.title, "lang": best.lang, "owner": best.owner, "product": best.product,
            "visibility": best.visibility, "owners": sorted({a.owner for a in versions.values() if a.owner}),
            "titles": [a.title for a in versions.values()], "cells": cells,
            "updated": max(dates).isoformat() if dates else None}


def matches(row: dict, q: str = "", lang: str = "", status: str = "", owner: str = "", audience: str = "") -> bool:
    """Whether an article passes the manager's filters: `q` in its id or any title (case folded), `owner` of any
    version, `audience` its visibility, and `status` in a version of `lang` (any version without `lang`;
    "up-to-date" means every such version is)."""
    if q and q.casefold() not in row["id"].casefold() and not any(q.casefold() in t.casefold() for t in row["titles"]):
        return False
    if owner and owner not in row["owners"] and row["owner"] != owner:
        return False
    if audience and row["visibility"] != audience:
        return False
    cells = [row["cells"][lang]] if lang in row["cells"] else [] if lang else list(row["cells"].values())
    if lang and not cells:
        return False
    if status == "up-to-date":
        return all(c["status"] == ["up-to-date"] for c in cells)
    return not status or any(status in c["status"] for c in cells)


def sorted_rows(rows: list[dict], key: str, desc: bool = False, lang: str = "") -> list[dict]:
    """The manager's rows sorted by one of SORTS; ties (and rows without the value: no owner, no date) keep the id
    order, and rows without the value go last either way.

    "status" is the most urgent status of the row's versions (of `lang` only when the table shows one language),
    then how many versions have one: outdated before overdue before untranslated before up to date when
    descending, the writer's "what needs work" order. "updated" is the latest `updated:` of any version."""
    if key not in SORTS:
        raise ValueError(f"sort must be one of {list(SORTS)}, got {key!r}")

    def value(row):
        if key == "status":
            cells = [row["cells"][lang]] if lang in row["cells"] else [] if lang else list(row["cells"].values())
            ranks = [max(URGENCY[s] for s in c["status"]) for c in cells]
            return (max(ranks, default=-1), sum(r > 0 for r in ranks)) if ranks else None
        if key == "owner":
            return ", ".join(row["owners"]).casefold() or None
        v = row.get(key)
        return v.casefold() if isinstance(v, str) and key != "updated" else v

    by_id = sorted(rows, key=lambda r: r["id"])
    present = [r for r in by_id if value(r) is not None]
    present.sort(key=value, reverse=desc)  # stable: equal values stay in id order
    return present + [r for r in by_id if value(r) is None]


def items_to_assign(row: dict, lang: str = "", status: str = "") -> list[tuple[str, str, str]]:
    """(report, item, lang) of the report rows behind an article's cells, only those of `lang` and `status` when
    given: the rows a bulk "assign" hands to a writer."""
    out = []
    for code, cell in row["cells"].items():
        if lang and code != lang:
            continue
        for (report, item), st in zip(cell["items"], _statuses_of(cell)):
            if not status or status == st:
                out.append((report, item, code))
    return out


def _statuses_of(cell: dict) -> list[str]:
    """Each of a cell's items' status, in the order of `items`."""
    if cell["status"] == ["untranslated"]:
        return ["untranslated"]
    return [s for s in cell["status"] if s != "up-to-date"]
