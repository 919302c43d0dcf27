"""Web actions: call-backs asked for on the web, web opt-ins word for word, bookings without a subscriber

Revision ID: 0014_web_actions
Revises: 0009_mentions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sms.store import UTCDateTime

revision = "0014_web_actions"
down_revision = "0012_language"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handle", sa.String(length=32), nullable=False),
        sa.Column("demand", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("page", sa.String(length=300), nullable=False),
        sa.Column("ip_hash", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("scheduled_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["call_sessions.id"]),
        sa.ForeignKeyConstraint(["scheduled_id"], ["scheduled_calls.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("handle"),
    )
    op.create_index("ix_web_calls_demand", "web_calls", ["demand"])
    op.create_index("ix_web_calls_session_id", "web_calls", ["session_id"])
    op.create_index("ix_web_calls_scheduled_id", "web_calls", ["scheduled_id"])
    op.create_index("ix_web_calls_created_at", "web_calls", ["created_at"])
    op.create_table(
        "web_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consent_event_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("wording", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("page", sa.String(length=300), nullable=False),
        sa.Column("ip_hash", sa.String(length=32), nullable=False),
        sa.Column("number_confirmed", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["consent_event_id"], ["consent_events.id"]),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_web_consents_consent_event_id", "web_consents", ["consent_event_id"])
    op.create_index("ix_web_consents_subscriber_id", "web_consents", ["subscriber_id"])
    # A web booking by someone who is not a subscriber keeps where they call from itself.
    with op.batch_alter_table("scheduled_calls") as batch:
        batch.alter_column("subscriber_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("zip", sa.String(length=5), nullable=True))
        batch.add_column(sa.Column("state", sa.String(length=2), nullable=True))
        batch.add_column(sa.Column("district", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("timezone", sa.String(length=40), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM scheduled_calls WHERE subscriber_id IS NULL")
    with op.batch_alter_table("scheduled_calls") as batch:
        batch.drop_column("timezone")
        batch.drop_column("district")
        batch.drop_column("state")
        batch.drop_column("zip")
        batch.alter_column("subscriber_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table("web_consents")
    op.drop_table("web_calls")
