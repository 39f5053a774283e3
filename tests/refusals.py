"""Searches that come back not answered, on demand, so the surfaces around `Response.answered` are tested
apart from the decision itself (kb/search/answerability.py, tested with the search).

`refuse_searches(monkeypatch)` returns a set: a search for a text in it (outer spaces aside) is not answered, as the
decision rules for keyboard mash or a question the knowledge base does not cover; every other search that
finds something is answered, whatever the decision's model would say of it on the fake embedder. Everything
goes through `Searcher.search_many`: the help center, the API, agent assist, the CLI and the gaps report.
"""

from __future__ import annotations

import dataclasses

import pytest

from kb.search.searcher import Searcher


def refuse_searches(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    refused: set[str] = set()
    real = Searcher.search_many

    def search_many(self, queries, **kwargs):
        return [dataclasses.replace(r, answered=r.total > 0 and q.strip() not in refused)
                for q, r in zip(queries, real(self, queries, **kwargs))]

    monkeypatch.setattr(Searcher, "search_many", search_many)
    return refused
