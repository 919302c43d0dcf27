"""call-back retries: attempts and the time of the next attempt on call sessions

Revision ID: 0006_abuse
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sms.store import UTCDateTime

revision = "0006_abuse"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_sessions") as batch:
        batch.add_column(sa.Column("place_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("place_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call_sessions") as batch:
        batch.drop_column("place_at")
        batch.drop_column("place_attempts")
