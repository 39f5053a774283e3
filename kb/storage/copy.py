"""`kb db copy`: move a deployment's shared state from one database to another (SQLite to PostgreSQL).

Every table in schema.py is copied in one transaction on the target, in
batches, keys and all; the target's id sequences are moved past the copied
ids so new rows do not collide; then each table's row count is compared with
the source's before committing. Nothing is half-copied: a failure or a count
mismatch rolls the target back. The source is only read (stop the servers
first, or rows logged during the copy stay behind).
"""

from __future__ import annotations

from sqlalchemy import Connection, Table, delete, func, select, text

from kb.errors import KBError
from kb.storage import migrate
from kb.storage.database import Database
from kb.storage.schema import metadata

BATCH = 2000  # rows per INSERT ...
BATCH_BYTES = 32 << 20  # ... or fewer: generation files are stored in 4 MB parts


def copy_database(source: Database, target: Database, *, replace: bool = False) -> dict[str, int]:
    """Copy every table; returns table -> rows copied. Refuses a target that has rows unless `replace`, which
    empties the target's polykb tables first (in the same transaction)."""
    migrate.upgrade(source) if source.is_sqlite else migrate.check(source)
    migrate.upgrade(target)
    tables = metadata.sorted_tables
    with source.read() as src, target.write() as dst:
        if not replace:
            filled = {t.name: n for t in tables if (n := _count(dst, t))}
            if filled:
                raise KBError(f"the target {target.name} already holds rows ({_listing(filled)}); copy into an "
                              "empty database, or pass --replace to delete them first")
        for t in reversed(tables):
            dst.execute(delete(t))
        copied = {t.name: _copy_table(src, dst, t) for t in tables}
        if target.url.get_backend_name() == "postgresql":
            _advance_sequences(dst, tables)
        wrong = {t.name: (_count(src, t), _count(dst, t)) for t in tables}
        wrong = {name: counts for name, counts in wrong.items() if counts[0] != counts[1] or counts[0] != copied[name]}
        if wrong:  # raising rolls the target back
            raise KBError(f"row counts differ after copying ({', '.join(f'{k}: source {a}, target {b}' for k, (a, b) in wrong.items())}); "
                          f"nothing was written to {target.name}. Were the servers still writing to {source.name}?")
    return copied


def _copy_table(src: Connection, dst: Connection, table: Table) -> int:
    """Rows streamed from the source (a server-side cursor on PostgreSQL), inserted in batches of bounded size."""
    order = list(table.primary_key.columns) or list(table.columns)
    rows = src.execution_options(stream_results=True).execute(select(table).order_by(*order)).mappings()
    n, batch, size = 0, [], 0
    for row in rows:
        batch.append(dict(row))
        size += sum(len(v) for v in row.values() if isinstance(v, (bytes, str)))
        if len(batch) >= BATCH or size >= BATCH_BYTES:
            dst.execute(table.insert(), batch)
            n, batch, size = n + len(batch), [], 0
    if batch:
        dst.execute(table.insert(), batch)
        n += len(batch)
    return n


def _count(conn: Connection, table: Table) -> int:
    return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _advance_sequences(dst: Connection, tables: list[Table]):
    """Point each auto-numbered id's sequence after the largest copied id (PostgreSQL)."""
    quote = dst.dialect.identifier_preparer.quote
    for t in tables:
        auto = t.autoincrement_column
        if auto is not None:
            dst.execute(text(f"SELECT setval(pg_get_serial_sequence(:t, :c), coalesce(max({quote(auto.name)}), 0) + 1,"
                             f" false) FROM {quote(t.name)}"), {"t": t.name, "c": auto.name})


def _listing(counts: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in counts.items())
