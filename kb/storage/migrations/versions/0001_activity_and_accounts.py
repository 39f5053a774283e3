"""Activity and accounts as the sqlite3-era code left them (its PRAGMA user_version 1).

A new database gets every table. A file written by that code (no alembic_version
table yet) is adopted in place: the tables it has are kept with their rows, and
a file from before user_version 1 gets the `searches.answered` column (NULL:
logged before answered was recorded).

Revision ID: 0001
Revises:
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Real = sa.Float().with_variant(sqlite.REAL(), "sqlite")

TABLES = {
    "searches": lambda: [
        sa.Column("id", RowId, primary_key=True), sa.Column("ts", sa.Text, nullable=False),
        sa.Column("query", sa.Text, nullable=False), sa.Column("lang", sa.Text), sa.Column("ui_lang", sa.Text),
        sa.Column("audience", sa.Text, nullable=False), sa.Column("route", sa.Text, nullable=False),
        sa.Column("results", sa.Integer, nullable=False), sa.Column("top_score", Real),
        sa.Column("top_id", sa.Text), sa.Column("answered", sa.Integer)],
    "shown": lambda: [
        sa.Column("search_id", RowId, nullable=False), sa.Column("article_id", sa.Text, nullable=False),
        sa.Column("lang", sa.Text), sa.Column("rank", sa.Integer, nullable=False)],
    "clicks": lambda: [
        sa.Column("id", RowId, primary_key=True), sa.Column("ts", sa.Text, nullable=False),
        sa.Column("search_id", RowId), sa.Column("article_id", sa.Text, nullable=False),
        sa.Column("lang", sa.Text), sa.Column("rank", sa.Integer)],
    "views": lambda: [
        sa.Column("id", RowId, primary_key=True), sa.Column("ts", sa.Text, nullable=False),
        sa.Column("article_id", sa.Text, nullable=False), sa.Column("lang", sa.Text, nullable=False),
        sa.Column("ui_lang", sa.Text), sa.Column("audience", sa.Text, nullable=False)],
    "feedback": lambda: [
        sa.Column("id", RowId, primary_key=True), sa.Column("ts", sa.Text, nullable=False),
        sa.Column("article_id", sa.Text, nullable=False), sa.Column("lang", sa.Text, nullable=False),
        sa.Column("helpful", sa.Integer, nullable=False), sa.Column("reason", sa.Text),
        sa.Column("source", sa.Text, nullable=False)],
    "agent_marks": lambda: [
        sa.Column("id", RowId, primary_key=True), sa.Column("ts", sa.Text, nullable=False),
        sa.Column("article_id", sa.Text, nullable=False), sa.Column("lang", sa.Text),
        sa.Column("mark", sa.Text, nullable=False), sa.Column("query", sa.Text), sa.Column("user", sa.Text)],
    "users": lambda: [
        sa.Column("name", sa.Text, primary_key=True), sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False), sa.Column("created", sa.Text, nullable=False)],
    "tokens": lambda: [
        sa.Column("id", RowId, primary_key=True), sa.Column("name", sa.Text, nullable=False),
        sa.Column("token_hash", sa.Text, nullable=False, unique=True), sa.Column("created", sa.Text, nullable=False),
        sa.Column("revoked", sa.Text)],
}
INDEXES = {"searches_ts": ("searches", "ts"), "shown_article": ("shown", "article_id"),
           "views_article": ("views", "article_id")}


def upgrade():
    inspector = sa.inspect(op.get_bind())
    existing = set(inspector.get_table_names())
    for name, columns in TABLES.items():
        if name not in existing:
            op.create_table(name, *columns())
    if "searches" in existing and "answered" not in {c["name"] for c in inspector.get_columns("searches")}:
        op.add_column("searches", sa.Column("answered", sa.Integer))  # a file from before user_version 1
    indexed = {i["name"] for t, _ in INDEXES.values() if t in existing for i in inspector.get_indexes(t)}
    for index, (table, column) in INDEXES.items():
        if index not in indexed:
            op.create_index(index, table, [column])


def downgrade():
    for index, (table, _) in INDEXES.items():
        op.drop_index(index, table_name=table)
    for name in reversed(TABLES):
        op.drop_table(name)
