"""One learned model per audience, and what search asks of it.

Public readers' traffic trains the public model, agents' traffic the internal
one, and neither reads the other's: a customer's clicks never create a signal
about an internal article (the public model only keeps articles `allowed` for
the public), and a customer's search only ever consults the public model.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping

import numpy as np

from kb.learning import caps, model as model_mod
from kb.learning.events import Event, Impression
from kb.learning.neighbours import QUANTILE, Neighbourhood

AUDIENCES = ("public", "internal")


class Learner:
    """The models search reads; replaced whole by `fit`, so a search never sees half a rebuild."""

    def __init__(self, quantile: float = QUANTILE):
        self.quantile = quantile
        self.version = 0  # moves on with every fit: searches cached under an older model are not reused
        self._hoods: dict[str, Neighbourhood] = {}
        self._vectors: dict[str, np.ndarray] = {}  # logged query text -> its vector, kept between fits
        self._lock = threading.Lock()

    def fit(self, impressions: Iterable[Impression], events: Iterable[Event], now: float,
            embed: Callable[[list[str]], np.ndarray], since: Mapping[str, float] | None = None,
            public_ids: set[str] | None = None) -> dict[str, int]:
        """Rebuild every audience's model from the log; `public_ids`: the articles the public may learn about
        (None: all). Returns the logged queries per audience."""
        impressions, events = list(impressions), list(events)
        hoods = {}
        for audience in AUDIENCES:
            allowed = (lambda aid: aid in public_ids) if audience == "public" and public_ids is not None else None
            m = model_mod.build(impressions, events, audience, now, since, allowed)
            hoods[audience] = Neighbourhood(m, self._embedded([m.texts[k] for k in m.queries], embed), self.quantile)
        with self._lock:
            self._hoods = hoods
            self.version += 1
        return {a: len(h.keys) for a, h in hoods.items()}

    def strongest(self, audience: str, n: int = 10) -> list[tuple[str, str, float, int]]:
        """(logged query, article id, signal -1..1, readers behind it) of the strongest signals, lifts and sinks
        alike: what the loop is teaching search, for `kb learn` to show."""
        hood = self._hoods.get(audience)
        if hood is None:
            return []
        found = [(hood.model.texts[key], aid, s.value, len(s.lifting if s.value > 0 else s.sinking))
                 for key, arts in hood.model.signals.items() for aid, s in arts.items()]
        return sorted(found, key=lambda f: (-abs(f[2]) * f[3], f[0], f[1]))[:n]

    def _embedded(self, texts: list[str], embed) -> np.ndarray:
        """The texts' vectors, embedding only those no earlier fit embedded: a rebuild every few minutes costs
        the new queries' embeddings, not the whole log's."""
        new = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if new:
            self._vectors.update(zip(new, np.asarray(embed(new), dtype=np.float32)))
        if len(self._vectors) > 2 * max(1, len(texts)) + 1000:  # forget queries that left the log's window
            keep = set(texts)
            self._vectors = {t: v for t, v in self._vectors.items() if t in keep}
        return np.stack([self._vectors[t] for t in texts]) if texts else np.zeros((0, 1), dtype=np.float32)

    def rerank(self, audience: str, qvec: np.ndarray | None, ranked: list[tuple[str, float]]) -> list[caps.Moved]:
        """`ranked` ((article id, fused score), best first) with what this audience's readers taught applied."""
        hood = self._hoods.get(audience)
        if hood is None or qvec is None or not ranked:
            return [caps.Moved(aid, s, 0.0, i) for i, (aid, s) in enumerate(ranked)]
        found = hood.borrowed(qvec, [aid for aid, _ in ranked])
        return caps.rerank(ranked, {aid: (b.value, b.support, b.robust) for aid, b in found.items()})
