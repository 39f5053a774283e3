"""Who gave feedback, and for which search (kb.storage.learning): the reader keys the learned ranking counts.

`origin` is a keyed hash of the reader (signed-in user or client address) made by the web layer: one
reader's clicks and votes count once per article and day however often they repeat. `feedback.search_id`
ties a vote to the search it came from, so a vote teaches about that query. `learned_articles` holds
the content hash each article's evidence was gathered under and since when: a changed article starts over.

Revision ID: 0006
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.add_column("clicks", sa.Column("origin", sa.Text))
    op.add_column("feedback", sa.Column("origin", sa.Text))
    op.add_column("feedback", sa.Column("search_id", RowId))
    op.create_table("learned_articles", sa.Column("article_id", sa.Text, primary_key=True),
                    sa.Column("content_hash", sa.Text, nullable=False), sa.Column("since", sa.Text, nullable=False))


def downgrade():
    op.drop_table("learned_articles")
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("search_id")
        batch.drop_column("origin")
    with op.batch_alter_table("clicks") as batch:
        batch.drop_column("origin")
