"""Which section of an article to show for a query: the one a result links to, snippets and pastes.

Every section of the shown version is scored by the same mix of signals as
the ranking (dense cosine plus a small keyword bonus), and among those that
match about as well as the best, the one that answers wins (kb/section_roles:
the fix, not the restated symptom or the lead-in): a ticket that describes its
problem matches the "Symptoms" section best, but wants the steps.
"""

from __future__ import annotations

import numpy as np

from kb.search import section_roles
from kb.search.retrieve import Evidence
from kb.search.generation import Generation
from kb.index.store import ChunkRow

KEYWORD_BONUS = 0.1  # bm25 relative to the query's best keyword chunk, scaled into the cosine range


def section_to_show(gen: Generation, rowid: int, ev: Evidence) -> ChunkRow | None:
    """The section of one article version that answers the query best (None: the version has no chunk)."""
    chunks, ids, mat, plan = gen.sections(rowid)
    if not chunks:
        return None
    dense = {}
    if ev.qvecs is not None and len(ids):
        scores = (mat @ np.asarray(ev.qvecs).T).max(axis=1)
        dense = dict(zip(ids.tolist(), scores.tolist()))
    kw_max = max(ev.chunk_kw.values(), default=1.0) or 1.0
    kw = ev.chunk_kw
    return chunks[section_roles.pick(plan, [dense.get(c.rowid, 0.0) + KEYWORD_BONUS * kw.get(c.rowid, 0.0) / kw_max
                                            for c in chunks])]
