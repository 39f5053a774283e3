"""Report values that both the writers' pages and the insights page write out in the UI language.

The reports (kb/reports) hold codes and numbers, never sentences, so no English leaks into a
Chinese or Russian page: this module turns a content gap's action code into advice.
"""

from __future__ import annotations

from flask_babel import gettext as _

from kb.text.languages import NAMES


def action_text(row: dict) -> str:
    """A content gap's suggested action (kb/reports/gaps.py `advise`), "—" for a group not advised."""
    langs = ", ".join(NAMES.get(k.strip(), k.strip()) for k in (row.get("action_langs") or "").split(",") if k.strip())
    texts = {"write_new": _("Write a new article: nothing answers these searches."),
             "translate": _("Translate the nearest article into %(languages)s.", languages=langs),
             "improve": _("Improve the nearest article: it answers, yet readers did not open it. Put the words "
                          "they searched for in its title and first lines."),
             "publish": _("Publish a customer version of this internal article.")}
    return texts.get(row.get("action") or "", "—")
