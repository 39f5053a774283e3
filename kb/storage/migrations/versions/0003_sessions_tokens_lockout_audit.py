"""Revocable sessions, token roles, expiry and last use, per-account login locks, the audit log, view windows.

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("sessions", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_login", sa.Text))
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("role", sa.Text, nullable=False, server_default="agent"))
        batch.add_column(sa.Column("expires", sa.Text))
        batch.add_column(sa.Column("last_used", sa.Text))
    op.create_table("login_failures",
                    sa.Column("name", sa.Text, primary_key=True), sa.Column("failures", sa.Integer, nullable=False),
                    sa.Column("last_failure", sa.Text, nullable=False), sa.Column("locked_until", sa.Text))
    op.create_table("audit_log",
                    sa.Column("id", RowId, primary_key=True), sa.Column("ts", sa.Text, nullable=False),
                    sa.Column("event", sa.Text, nullable=False), sa.Column("actor", sa.Text),
                    sa.Column("detail", sa.Text))
    op.create_index("audit_log_ts", "audit_log", ["ts"])
    op.create_table("view_seen", sa.Column("key", sa.Text, primary_key=True), sa.Column("ts", sa.Text, nullable=False))
    op.create_index("view_seen_ts", "view_seen", ["ts"])


def downgrade():
    op.drop_index("view_seen_ts", table_name="view_seen")
    op.drop_table("view_seen")
    op.drop_index("audit_log_ts", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("login_failures")
    with op.batch_alter_table("tokens") as batch:
        for column in ("last_used", "expires", "role"):
            batch.drop_column(column)
    with op.batch_alter_table("users") as batch:
        batch.drop_column("last_login")
        batch.drop_column("sessions")
