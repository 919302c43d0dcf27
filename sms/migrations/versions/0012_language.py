"""Action Line en español: a language per subscriber and the catalogue's translations

Revision ID: 0012_language
Revises: 0009_mentions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_language"
down_revision = "0016_leftovers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing subscribers keep NULL: the default language, as before.
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))
    op.create_table(
        "catalogue_translations",
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("field", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("fold_accents", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("language", "kind", "key", "field"),
    )
    # A broadcast's and a reminder's text in other languages ({"es": "..."}); none for existing ones.
    for table in ("broadcasts", "reminders"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("translations", sa.JSON(), nullable=False, server_default="{}"))
        with op.batch_alter_table(table) as batch:
            batch.alter_column("translations", existing_type=sa.JSON(), server_default=None)


def downgrade() -> None:
    for table in ("reminders", "broadcasts"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("translations")
    op.drop_table("catalogue_translations")
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("language")
