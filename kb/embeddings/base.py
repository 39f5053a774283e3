"""What every embedding backend provides.

Queries and passages are embedded differently on purpose: e5 models were
trained with `query: ` / `passage: ` prefixes and lose several points of
retrieval quality without them.
"""

from __future__ import annotations

import numpy as np


class Embedder:
    """A text embedder. Vectors are float32 and L2-normalised, so inner product is cosine."""

    #: Stable name recorded in the index manifest; a different name means incompatible vectors.
    name: str = ""
    dim: int = 0

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
