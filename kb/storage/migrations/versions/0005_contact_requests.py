"""Contact requests, their form sessions' events and the webhook outbox (kb.storage.contact).

A file where the raw-sqlite3 contact store of the first contact-form release already made these
tables keeps them with their rows.

Revision ID: 0005
Revises: 0004
"""

from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

TABLES = {
    "contact_requests": lambda: [
        sa.Column("id", RowId, primary_key=True), sa.Column("uid", sa.Text, nullable=False, unique=True),
        sa.Column("ts", sa.Text, nullable=False), sa.Column("lang", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False), sa.Column("message", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=False), sa.Column("name", sa.Text), sa.Column("article_id", sa.Text),
        sa.Column("form_id", sa.Text)],
    "contact_events": lambda: [
        sa.Column("id", RowId, primary_key=True), sa.Column("ts", sa.Text, nullable=False),
        sa.Column("form_id", sa.Text, nullable=False), sa.Column("kind", sa.Text, nullable=False),
        sa.Column("lang", sa.Text), sa.Column("article_id", sa.Text)],
    "outbox": lambda: [
        sa.Column("id", RowId, primary_key=True), sa.Column("request_id", RowId, nullable=False),
        sa.Column("payload", sa.Text, nullable=False), sa.Column("created", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_at", sa.Text, nullable=False), sa.Column("lease_until", sa.Text),
        sa.Column("delivered", sa.Text), sa.Column("last_error", sa.Text)],
}
INDEXES = {"contact_requests_ts": ("contact_requests", ["ts"]), "contact_events_form": ("contact_events", ["form_id"]),
           "contact_events_ts": ("contact_events", ["ts"]), "outbox_due": ("outbox", ["delivered", "next_at"])}


def upgrade():
    inspector = sa.inspect(op.get_bind())
    existing = set(inspector.get_table_names())
    for name, columns in TABLES.items():
        if name not in existing:
            op.create_table(name, *columns())
    indexed = {i["name"] for t, _ in INDEXES.values() if t in existing for i in inspector.get_indexes(t)}
    for index, (table, columns) in INDEXES.items():
        if index not in indexed:
            op.create_index(index, table, columns)


def downgrade():
    for index, (table, _) in INDEXES.items():
        op.drop_index(index, table_name=table)
    for name in reversed(TABLES):
        op.drop_table(name)
