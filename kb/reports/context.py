"""What every report reads: the served index, the activity log, and the settings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from kb.storage.activity import Activity
from kb.index.store import Store


@dataclass
class Context:
    store: Store
    activity: Activity
    today: dt.date = field(default_factory=dt.date.today)
    review_every_default: int = 180  # days, for articles without `review_every`
    window_days: int = 90  # how far back usage counts
    min_votes: int = 3  # feedback report: fewer votes say nothing
    max_helpful: float = 0.5  # feedback report: helpful share at or below this is poor
    duplicate_margin: float = 1.1  # duplicates report: margin over the 5 nearest neighbours
    embedder: object = None  # gaps report: embeds failed queries (a CachedEmbedder)
    searcher: object = None  # gaps report: nearest existing article
    # (id, lang) -> a review recorded since the index was built (the editor's "Mark reviewed"): the stale report
    # counts it at once instead of after the background index
    reviewed: dict = field(default_factory=dict)

    @property
    def since(self) -> str:
        return (self.today - dt.timedelta(days=self.window_days)).isoformat()


@dataclass
class FolderArticles:
    """A store holding only the articles of a folder (kb/articles/lint.py's `lint_folder`), for the reports that
    read nothing but front matter (`kb report stale --articles DIR`): no index to build or wait for."""

    items: list

    def articles(self) -> list:
        return list(self.items)
