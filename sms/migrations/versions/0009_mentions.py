"""Listen like a person: demands' mentions (named asks found inside a longer text) and longer menus

Revision ID: 0009_mentions
Revises: 0010_events
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_mentions"
down_revision = "0010_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing demands get no mentions until the next import-catalogue (or a console edit).
    with op.batch_alter_table("demands") as batch:
        batch.add_column(sa.Column("mentions", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("demands") as batch:
        batch.alter_column("mentions", existing_type=sa.JSON(), server_default=None)
    # A numbered choice remembers its keywords ("choice:1033,INSURRECTION").
    with op.batch_alter_table("conversations") as batch:
        batch.alter_column("menu", existing_type=sa.String(length=40), type_=sa.String(length=200))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.alter_column("menu", existing_type=sa.String(length=200), type_=sa.String(length=40))
    with op.batch_alter_table("demands") as batch:
        batch.drop_column("mentions")
