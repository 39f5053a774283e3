"""Embeddings cached by content: re-indexing unchanged text embeds nothing.

Keyed by (model name, sha256 of the text), in SQLite beside the index,
shared by every generation of it, or in the shared database (kb.storage.
embedding_cache) when several machines index. Queries are cached in memory
too: help-center traffic repeats itself ("wifi password" a thousand times a day).
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from kb.embeddings.base import Embedder


def _key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class SqliteVectors:
    """The passage cache of one machine: a SQLite file beside the index (`get`/`put` as the shared one has)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS embeddings (model TEXT, key BLOB, vector BLOB, PRIMARY KEY (model, key))")

    def get(self, model: str, keys: list[bytes]) -> dict[bytes, bytes]:
        found = {}
        for j in range(0, len(keys), 500):
            part = keys[j:j + 500]
            q = f"SELECT key, vector FROM embeddings WHERE model=? AND key IN ({','.join('?' * len(part))})"
            found.update(self._db.execute(q, [model, *part]))
        return found

    def put(self, model: str, rows: list[tuple[bytes, bytes]]):
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)", [(model, k, v) for k, v in rows])

    def close(self):
        self._db.close()


class CachedEmbedder(Embedder):
    """Wraps an embedder with a persistent passage cache and an in-memory query LRU.

    The passage cache is the SQLite file at `path`, or any `vectors` store with
    `get(model, keys)`, `put(model, rows)` and `close()` (the shared database's).
    """

    def __init__(self, inner: Embedder, path: Path | None = None, query_cache_size: int = 4096, vectors=None):
        self.inner = inner
        self.name, self.dim = inner.name, inner.dim
        self._db = vectors if vectors is not None else SqliteVectors(path) if path is not None else None
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._qsize = query_cache_size
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def forget_queries(self):
        """Empty the query LRU (benchmarks measuring first requests)."""
        with self._lock:
            self._queries.clear()

    def embed_queries(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        todo = []
        with self._lock:
            for i, t in enumerate(texts):
                v = self._queries.get(t)
                if v is None:
                    todo.append(i)
                else:
                    self._queries.move_to_end(t)
                    out[i] = v
        if todo:
            vecs = self.inner.embed_queries([texts[i] for i in todo])
            with self._lock:
                for i, v in zip(todo, vecs):
                    out[i] = v
                    self._queries[texts[i]] = v
                while len(self._queries) > self._qsize:
                    self._queries.popitem(last=False)
        return out

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def has_queries(self, texts) -> bool:
        """Whether every one of these query texts is in the in-memory cache (embedding them costs nothing)."""
        with self._lock:
            return all(t in self._queries for t in texts)

    def embed_passages(self, texts, progress=None):
        """Embed passages, taking what the cache has; `progress(n)` is called as batches finish."""
        return self._stored(texts, self.name, self.inner.embed_passages, progress)

    def embed_stored_queries(self, texts):
        """Embed queries through the persistent cache, under their own key (e5 embeds a query and a passage of
        the same text differently): for the questions a knowledge base asks itself at every index
        (kb/search/self_search.py), which repeat from one run to the next."""
        return self._stored(texts, f"{self.name}#query", self.inner.embed_queries)

    def _stored(self, texts, model: str, embed, progress=None):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        keys = [_key(t) for t in texts]
        found = {}
        if self._db is not None and texts:
            stored = self._db.get(model, list(set(keys)))
            found = {k: np.frombuffer(blob, dtype=np.float32) for k, blob in stored.items()}
        todo = [i for i, k in enumerate(keys) if k not in found]
        self.hits += len(texts) - len(todo)
        self.misses += len(todo)
        for i, k in enumerate(keys):
            if k in found:
                out[i] = found[k]
        if progress and len(texts) > len(todo):
            progress(len(texts) - len(todo))
        for j in range(0, len(todo), 16):
            batch = todo[j:j + 16]
            vecs = embed([texts[i] for i in batch])
            for i, v in zip(batch, vecs):
                out[i] = v
            if self._db is not None:
                self._db.put(model, [(keys[i], out[i].tobytes()) for i in batch])
            if progress:
                progress(len(batch))
        return out

    def close(self):
        if self._db is not None:
            self._db.close()
            self._db = None
