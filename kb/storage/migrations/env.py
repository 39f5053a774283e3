"""Alembic's environment: always run on a connection `kb.storage.migrate` passes in (no alembic.ini),
inside the transaction it has begun."""

from alembic import context

from kb.storage.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `kb db upgrade` (kb.storage.migrate), not the alembic command")
# render_as_batch: SQLite cannot ALTER most things, so revisions' alter_column etc. copy the table instead
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
