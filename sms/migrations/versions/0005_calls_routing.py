"""calls routing: office coordinates, stances, call policies, scheduled call-backs, retry reminders

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sms.store import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("district_offices") as batch:
        batch.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("longitude", sa.Float(), nullable=True))
    with op.batch_alter_table("call_sessions") as batch:
        batch.add_column(sa.Column("retry_at", UTCDateTime(), nullable=True))
    op.create_table(
        "stances",
        sa.Column("bioguide", sa.String(length=7), nullable=False),
        sa.Column("demand", sa.String(length=40), nullable=False),
        sa.Column("stance", sa.String(length=8), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("bioguide", "demand"),
    )
    op.create_table(
        "call_policies",
        sa.Column("demand", sa.String(length=40), nullable=False),
        sa.Column("supporters", sa.String(length=8), nullable=False),
        sa.Column("thank_script", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("demand"),
    )
    op.create_table(
        "scheduled_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("demand", sa.String(length=40), nullable=False),
        sa.Column("run_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"]),
        sa.ForeignKeyConstraint(["session_id"], ["call_sessions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_scheduled_calls_subscriber_id", "scheduled_calls", ["subscriber_id"])
    op.create_index("ix_scheduled_calls_phone", "scheduled_calls", ["phone"])
    op.create_index("ix_scheduled_calls_run_at", "scheduled_calls", ["run_at"])
    op.create_index("ix_scheduled_calls_status", "scheduled_calls", ["status"])


def downgrade() -> None:
    op.drop_table("scheduled_calls")
    op.drop_table("call_policies")
    op.drop_table("stances")
    with op.batch_alter_table("call_sessions") as batch:
        batch.drop_column("retry_at")
    with op.batch_alter_table("district_offices") as batch:
        batch.drop_column("longitude")
        batch.drop_column("latitude")
