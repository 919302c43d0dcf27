"""custom target sets: office hours and who may call, declared with the set

Revision ID: 0011_target_set_hours
Revises: 0007_optout_review
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sms.store import UTCDateTime

revision = "0011_target_set_hours"
down_revision = "0007_optout_review"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing sets get no row: they keep Congress's hours until the next flask import-targets.
    op.create_table(
        "custom_target_sets",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("opens", sa.Integer(), nullable=True),
        sa.Column("closes", sa.Integer(), nullable=True),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("who", sa.String(length=120), nullable=False),
        sa.Column("states", sa.JSON(), nullable=False),
        sa.Column("zips", sa.JSON(), nullable=False),
        sa.Column("zip_prefixes", sa.JSON(), nullable=False),
        sa.Column("others", sa.String(length=40), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("custom_target_sets")
