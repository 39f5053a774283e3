"""The writers' edit history (`edits`) and the state of report rows (`work_items`).

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "edits",
        sa.Column("id", RowId, primary_key=True), sa.Column("ts", sa.Text, nullable=False),
        sa.Column("article_id", sa.Text, nullable=False), sa.Column("lang", sa.Text, nullable=False),
        sa.Column("path", sa.Text, nullable=False), sa.Column("user", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False), sa.Column("etag", sa.Text),
        sa.Column("diff", sa.Text, nullable=False), sa.Column("commit", sa.Text))
    op.create_index("edits_article", "edits", ["article_id", "lang"])
    op.create_table(
        "work_items",
        sa.Column("item", sa.Text, primary_key=True), sa.Column("report", sa.Text, nullable=False),
        sa.Column("article_id", sa.Text), sa.Column("lang", sa.Text), sa.Column("status", sa.Text, nullable=False),
        sa.Column("assignee", sa.Text), sa.Column("snoozed_until", sa.Text), sa.Column("resolved_fact", sa.Text),
        sa.Column("updated_by", sa.Text), sa.Column("updated_at", sa.Text, nullable=False))
    op.create_index("work_items_assignee", "work_items", ["assignee"])


def downgrade():
    op.drop_index("work_items_assignee", "work_items")
    op.drop_table("work_items")
    op.drop_index("edits_article", "edits")
    op.drop_table("edits")
