"""The passage embedding cache in the shared database, so re-indexing on any machine embeds only what changed.

The same rows as the SQLite cache beside a single-host index (model, sha256 of
the text, float32 vector bytes); `kb index` uses this one when KB_DATABASE_URL
is PostgreSQL, so the writers' CI, a laptop and the indexer host share it.
"""

from __future__ import annotations

from sqlalchemy import select

from kb.storage.database import Database
from kb.storage.schema import embeddings

LOOKUP_BATCH = 500  # keys per IN (...) query


class EmbeddingCache:
    """`get` and `put` for kb.embeddings.CachedEmbedder (its `vectors=` store)."""

    def __init__(self, db: Database):
        self.db = db

    def get(self, model: str, keys: list[bytes]) -> dict[bytes, bytes]:
        found: dict[bytes, bytes] = {}
        with self.db.read() as c:
            for i in range(0, len(keys), LOOKUP_BATCH):
                part = keys[i:i + LOOKUP_BATCH]
                rows = c.execute(select(embeddings.c.key, embeddings.c.vector)
                                 .where(embeddings.c.model == model, embeddings.c.key.in_(part)))
                found.update((bytes(k), bytes(v)) for k, v in rows)
        return found

    def put(self, model: str, rows: list[tuple[bytes, bytes]]):
        """Store (key, vector bytes) pairs; a key another indexer stored meanwhile is left as it is."""
        if not rows:
            return
        if self.db.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        with self.db.write() as c:
            c.execute(insert(embeddings).on_conflict_do_nothing(index_elements=["model", "key"]),
                      [{"model": model, "key": k, "vector": v} for k, v in rows])

    def close(self):
        """The database belongs to whoever opened it."""
