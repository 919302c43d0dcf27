"""data_refreshes.kind: the refresh log holds Congress's refreshes and the state officials' (flask refresh-states)

Revision ID: 0017d_refresh_kind
Revises: 0013_state_targets
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017d_refresh_kind"
down_revision = "0013_state_targets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every row logged so far is a Congress refresh or rollback.
    op.add_column("data_refreshes", sa.Column("kind", sa.String(length=10), nullable=False,
                                              server_default="congress"))


def downgrade() -> None:
    with op.batch_alter_table("data_refreshes") as batch:
        batch.drop_column("kind")
