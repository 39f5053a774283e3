"""The fake embedder: words hashed into 384 dimensions. Registered by tests/conftest.py for logic tests, and by
tests/fake_kb.py for `kb` processes the tests start (replicas, indexers)."""

from __future__ import annotations

import re
import zlib

import numpy as np

from kb.embeddings.base import Embedder, normalize_rows

FAKE_MODEL = "fake"  # its `--model` spec while registered
_WORD = re.compile(r"[\u3400-\u9fff]|[^\W_]+")


class HashEmbedder(Embedder):
    """Bag of hashed words, L2-normalised: deterministic, instant, and texts sharing words are near.

    For tests of logic, not of meaning: what a search finds with it is what the keywords find.
    """

    name = "fake-hash-384"
    dim = 384

    def embed_passages(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                h = zlib.crc32(word.encode("utf-8"))
                out[i, h % self.dim] += 1.0 if h & 1 else -1.0
            out[i, 0] += 0.01  # never the zero vector
        return normalize_rows(out)

    embed_queries = embed_passages
