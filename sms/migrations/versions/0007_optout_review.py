"""opt-out review: unclear texts waiting for a person in the console inbox

Revision ID: 0007_optout_review
Revises: 0008_terms
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sms.store import UTCDateTime

revision = "0007_optout_review"
down_revision = "0008_terms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "opt_out_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("rule", sa.String(length=160), nullable=False),
        sa.Column("hinted", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(length=254), nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"]),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("opt_out_reviews") as batch:
        batch.create_index(batch.f("ix_opt_out_reviews_created_at"), ["created_at"], unique=False)
        batch.create_index(batch.f("ix_opt_out_reviews_subscriber_id"), ["subscriber_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("opt_out_reviews") as batch:
        batch.drop_index(batch.f("ix_opt_out_reviews_subscriber_id"))
        batch.drop_index(batch.f("ix_opt_out_reviews_created_at"))
    op.drop_table("opt_out_reviews")
