"""`kb report` in a terminal: the rows' codes and facts worded in English.

Reports hold codes and facts, never sentences (the writers' page words the
same rows in its reader's language, web/presentation/report_text.py). This
is the English edge, for the terminal's table only: CSV and JSON keep the
facts as fields, for scripts.
"""

from __future__ import annotations

WORDS = {
    # translations: the verdict and what changed
    "substantive": "substantive", "cosmetic": "cosmetic", "unknown": "unknown",
    "source-changed": "source changed", "source-missing": "source missing", "no-source-hash": "no source_hash",
    # stale
    "overdue": "overdue", "never-reviewed": "never reviewed", "no-review-date": "no review date; last update too old",
    # links
    "broken-link": "link to a missing article", "broken-anchor": "link to a missing section",
    "broken-image": "missing image", "path-link": "link by file path, not by article id",
    "internal-link": "public article links to an internal one",
    # duplicates
    "duplicate": "probable duplicate", "unlinked-translation": "probable unlinked translation",
    "same-facts": "same facts", "similar-meaning": "similar meaning",
    # priority
    "unhelpful": "unhelpful", "missing-translation": "missing translation", "no-owner": "no owner",
    # gaps
    "write_new": "write a new article", "translate": "translate the nearest article", "improve":
    "improve the nearest article", "publish": "publish a customer version of the internal article",
}
CODED = ("status", "change", "severity", "problem", "kind", "evidence", "action")  # fields whose values are codes


def section_changes(row: dict) -> str:
    """A translation row's changed sections, e.g. `§Limits: source has 10000; translation still has 2000`."""
    parts = []
    for c in row.get("changes") or []:
        what = []
        if c["source_only"]:
            what.append("source has " + ", ".join(c["source_only"]))
        if c["translation_only"]:
            what.append("translation still has " + ", ".join(c["translation_only"]))
        if c["source_steps"] != c["translation_steps"]:
            what.append(f"{c['source_steps']} steps in source vs {c['translation_steps']}")
        parts.append(f"§{c['section'] or '(intro)'}: " + "; ".join(what))
    if not parts and row.get("severity") == "cosmetic":
        return "wording only: numbers, code, links and steps agree"
    return " | ".join(parts)


def problem(row: dict) -> str:
    """A priority row's problem, from its code and facts."""
    f, code = row.get("facts") or {}, row.get("problem") or ""
    word = WORDS.get(code, code)
    if row.get("report") == "translations" and code not in ("source-missing", "no-source-hash"):
        return f"{word}: {f.get('sections', 0)} section(s) changed in the source"
    if code == "overdue" and f.get("overdue_days"):
        return f"review overdue by {f['overdue_days']} days"
    if code == "unhelpful":
        share = "no votes" if f.get("helpful_share") is None else \
            f"{f['helpful_share']:.0%} helpful of {f.get('votes')} votes"
        return f"{share}, {f.get('not_relevant', 0)} marked not relevant by agents"
    if row.get("report") == "links":
        target = f.get("target") or ""
        return f"{word}: {target}" + (f"#{f['anchor']}" if f.get("anchor") else "")
    if row.get("report") == "duplicates":
        return f"{word} of {f.get('other_id')} ({f.get('other_lang')})"
    if code == "missing-translation":
        return f"no {f.get('missing_lang')} version; wanted by {f.get('demand', 0)} searches or visits"
    return word


def terminal_row(name: str, row: dict) -> dict:
    """`row` as the terminal's table shows it: codes as words, facts as a sentence, lists joined."""
    out = dict(row)
    for key in CODED:
        if isinstance(out.get(key), str) and key in out:
            out[key] = WORDS.get(out[key], out[key])
    if name == "translations":
        out["changes"] = section_changes(row)
        out["sections"] = ", ".join(s or "(intro)" for s in row.get("sections") or [])
    if name == "priority":
        out["problem"] = problem(row)
        out.pop("facts", None)
    if "anchor" in out:  # the links report: one column, as the link is written
        anchor = out.pop("anchor")
        out["target"] = f"{row.get('target')}#{anchor}" if anchor else row.get("target")
    return out
