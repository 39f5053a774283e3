"""A search as the activity log records it: searched, shown, logged in one place.

The five places that search for a reader (the help center, the search API, agent
assist, and the demo's customers and agents) all log what the reader was shown:
here the search, the choice of what is shown and the log row are one call, so
reports read the same facts whichever route a search came by.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kb.search.results import Response

if TYPE_CHECKING:
    from kb.search.searcher import Searcher
    from kb.storage.activity import Activity


@dataclass(frozen=True)
class Logged:
    response: Response
    shown: Sequence  # what the reader was shown, best first: each with .id, .lang and .score
    answered: bool  # False: `shown` are the closest articles, shown as such (a failed search in the reports)
    search_id: int


def as_answered(resp: Response) -> tuple[Sequence, bool]:
    """The default of what is shown: the page of results, answered as search judged."""
    return resp.results, resp.answered


def logged_search(searcher: Searcher, activity: Activity, query: str, *, route: str, audience: str,
                  ui_lang: str | None = None, show: Callable[[Response], tuple[Sequence, bool]] = as_answered,
                  **request) -> Logged:
    """Search `query`, let `show` pick what the reader sees (and whether that counts as answered), log it."""
    resp = searcher.search(query, ui_lang=ui_lang, audience=audience, **request)
    shown, answered = show(resp)
    search_id = activity.log_search(resp.query, resp.detected.lang, ui_lang, audience, route,
                                    [(r.id, r.lang, r.score) for r in shown], resp.total, answered=answered)
    return Logged(resp, shown, answered, search_id)
