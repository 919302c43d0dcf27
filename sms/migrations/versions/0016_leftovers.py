"""demands: retired, ask as of, console edits kept; service texts' edits; custom targets' verification date

Revision ID: 0016_leftovers
Revises: 0009_mentions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sms.store import UTCDateTime

revision = "0016_leftovers"
down_revision = "0009_mentions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing rows: not retired, no as-of date, no console edits known, never verified (so flagged).
    op.add_column("demands", sa.Column("retired_at", UTCDateTime(), nullable=True))
    op.add_column("demands", sa.Column("ask_as_of", sa.Date(), nullable=True))
    op.add_column("demands", sa.Column("edited_fields", sa.JSON(), nullable=True))
    op.add_column("demands", sa.Column("edited_at", UTCDateTime(), nullable=True))
    op.add_column("catalogue_texts", sa.Column("edited_at", UTCDateTime(), nullable=True))
    op.add_column("custom_targets", sa.Column("verified_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("custom_targets") as batch:
        batch.drop_column("verified_on")
    with op.batch_alter_table("catalogue_texts") as batch:
        batch.drop_column("edited_at")
    with op.batch_alter_table("demands") as batch:
        for name in ("edited_at", "edited_fields", "ask_as_of", "retired_at"):
            batch.drop_column(name)
