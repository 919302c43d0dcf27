"""Congress data over time: members' term start and end, and a record of each dataset import

Revision ID: 0008_terms
Revises: 0006_abuse
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sms.store import UTCDateTime

revision = "0008_terms"
down_revision = "0006_abuse"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing rows get no dates: the data card says so until the next import-legislators.
    with op.batch_alter_table("legislators") as batch:
        batch.add_column(sa.Column("term_start", sa.Date(), nullable=True))
        batch.add_column(sa.Column("term_end", sa.Date(), nullable=True))
    op.create_table(
        "datasets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("upstream", sa.String(length=80), nullable=False),
        sa.Column("upstream_date", sa.Date(), nullable=True),
        sa.Column("congress", sa.Integer(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("imported_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_datasets_kind_imported", "datasets", ["kind", "imported_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_datasets_kind_imported", table_name="datasets")
    op.drop_table("datasets")
    with op.batch_alter_table("legislators") as batch:
        batch.drop_column("term_end")
        batch.drop_column("term_start")
