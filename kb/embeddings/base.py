"""What every embedding backend provides.

Queries and passages are embedded differently on purpose: e5 models were
trained with `query: ` / `passage: ` prefixes and lose several points of
retrieval quality without them.
"""

from __future__ import annotations

import re

import numpy as np

# One token per CJK character, symbol or short run of letters: most tokenizers make at least that many.
_TOKENISH = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]|[^\W_]+|\S")


class Embedder:
    """A text embedder. Vectors are float32 and L2-normalised, so inner product is cosine."""

    #: Stable name recorded in the index manifest; a different name means incompatible vectors.
    name: str = ""
    dim: int = 0

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def count_tokens(self, text: str) -> int:
        """The tokens the model would be given for a query (roughly, unless the backend knows): the query
        side cuts what it embeds by this, since embedding costs grow with the tokens (kb/query_text.clip)."""
        return sum(1 if len(m) == 1 else -(-len(m) // 3) for m in _TOKENISH.findall(text))


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
