"""Report rows in the reader's language, for the writers' pages and the insights page.

The reports (kb/reports) hold codes, numbers, lists and facts, never sentences:
this module words them in the interface language, so no English leaks into a
Chinese or Russian page and nothing is read back out of a sentence. The
terminal's English is kb/reports/text.py, from the same rows.
"""

from __future__ import annotations

from flask_babel import format_percent, ngettext
from flask_babel import gettext as _

from web.presentation.i18n import lang_label


def language(code: str | None) -> str:
    """A language named in the interface's language: these names sit inside sentences."""
    return lang_label(code)


def values() -> dict[str, str]:
    """Report values that are codes from a fixed set (kb/reports: STALE, CHANGES, LINK_PROBLEMS, ...)."""
    return {
        "substantive": _("Substantive"), "cosmetic": _("Cosmetic"), "unknown": _("Unknown"),
        "source-changed": _("Source changed"), "source-missing": _("Source missing"),
        "no-source-hash": _("No source hash"), "overdue": _("Overdue"), "never-reviewed": _("Never reviewed"),
        "no-review-date": _("No review date; last update too old"),
        "duplicate": _("Probable duplicate"), "unlinked-translation": _("Probable unlinked translation"),
        "same-facts": _("Same facts"), "similar-meaning": _("Similar meaning"), "no-owner": _("No owner"),
        "broken-link": _("Broken link"), "broken-anchor": _("Broken section link"),
        "broken-image": _("Broken image"), "path-link": _("Link by file path"),
        "internal-link": _("Link to an internal article"), "unhelpful": _("Unhelpful"),
        "missing-translation": _("Missing translation"),
    }


def action_text(row: dict) -> str:
    """A content gap's suggested action (kb/reports/gaps.py `advise`), "—" for a group not advised."""
    langs = ", ".join(language(k) for k in row.get("action_langs") or [])
    texts = {"write_new": _("Write a new article: nothing answers these searches."),
             "translate": _("Translate the nearest article into %(languages)s.", languages=langs),
             "improve": _("Improve the nearest article: it answers, yet readers did not open it. Put the words "
                          "they searched for in its title and first lines."),
             "publish": _("Publish a customer version of this internal article.")}
    return texts.get(row.get("action") or "", "—")


def section_changes(row: dict) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """A translation row's changed sections: (heading, [(what differs, [facts]), ...]); "" heading: the intro."""
    out = []
    for c in row.get("changes") or []:
        what = []
        if c["source_only"]:
            what.append((_("the source has"), c["source_only"]))
        if c["translation_only"]:
            what.append((_("the translation still has"), c["translation_only"]))
        if c["source_steps"] != c["translation_steps"]:
            what.append((_("%(source)s steps in the source, %(translation)s in the translation",
                           source=c["source_steps"], translation=c["translation_steps"]), []))
        out.append((c["section"], what))
    return out


def changes_note(row: dict) -> str:
    """What a translation row says when it names no changed section."""
    notes = {"source-missing": _("The %(language)s version it was translated from no longer exists.",
                                 language=language(row.get("source_lang"))),
             "no-source-hash": _("No source hash recorded: add `kb hash` of the source to the front matter."),
             "source-changed": _("Wording only: numbers, code, links and steps agree.")}
    return notes.get(row.get("change") or "", "")


def link_target(row: dict) -> str:
    """A link row's target as the writer wrote it: `article-id#section`, or the path."""
    target, anchor = row.get("target") or "", row.get("anchor")
    return f"{target}#{anchor}" if anchor else target


def problem_text(row: dict) -> str:
    """A priority row's problem, from its code and the facts its report found."""
    f, code, report = row.get("facts") or {}, row.get("problem") or "", row.get("report")
    word = values().get(code, code)
    if report == "translations":
        if code in ("source-missing", "no-source-hash"):
            return word
        return ngettext("%(verdict)s: %(num)d section changed in the source",
                        "%(verdict)s: %(num)d sections changed in the source", f.get("sections") or 0, verdict=word)
    if code == "overdue" and f.get("overdue_days"):
        return ngettext("Review overdue by %(num)d day", "Review overdue by %(num)d days", f["overdue_days"])
    if code == "unhelpful":
        parts = [_("no votes") if f.get("helpful_share") is None else
                 ngettext("%(share)s found it helpful (%(num)d vote)", "%(share)s found it helpful (%(num)d votes)",
                          f.get("votes") or 0, share=format_percent(f["helpful_share"], "#,##0%"))]
        if f.get("not_relevant"):
            parts.append(ngettext("%(num)d agent marked it not relevant", "%(num)d agents marked it not relevant",
                                  f["not_relevant"]))
        return "; ".join(parts)
    if report == "links":
        return _("%(problem)s: %(target)s", problem=word, target=link_target(f))
    if report == "duplicates":
        return _("%(kind)s of “%(id)s” (%(language)s)", kind=word, id=f.get("other_id"),
                 language=language(f.get("other_lang")))
    if code == "missing-translation":
        return ngettext("No %(language)s version; %(num)d search or visit wanted it",
                        "No %(language)s version; %(num)d searches or visits wanted it", f.get("demand") or 0,
                        language=language(f.get("missing_lang")))
    return word
