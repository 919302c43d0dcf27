"""calls: legislators, ZIP districts, district offices, custom targets, call sessions and legs, blocklist

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sms.store

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('call_blocklist',
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_at', sms.store.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('phone')
    )
    op.create_table('custom_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('set_name', sa.String(length=60), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('title', sa.String(length=60), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('note', sa.String(length=400), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('set_name', 'position')
    )
    with op.batch_alter_table('custom_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custom_targets_set_name'), ['set_name'], unique=False)

    op.create_table('district_offices',
    sa.Column('id', sa.String(length=60), nullable=False),
    sa.Column('bioguide', sa.String(length=7), nullable=False),
    sa.Column('city', sa.String(length=60), nullable=False),
    sa.Column('state', sa.String(length=2), nullable=False),
    sa.Column('zip', sa.String(length=10), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('hours', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('district_offices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_district_offices_bioguide'), ['bioguide'], unique=False)

    op.create_table('legislators',
    sa.Column('bioguide', sa.String(length=7), nullable=False),
    sa.Column('chamber', sa.String(length=6), nullable=False),
    sa.Column('title', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('party', sa.String(length=20), nullable=False),
    sa.Column('state', sa.String(length=2), nullable=False),
    sa.Column('district', sa.Integer(), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('updated_at', sms.store.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('bioguide')
    )
    with op.batch_alter_table('legislators', schema=None) as batch_op:
        batch_op.create_index('ix_legislators_seat', ['chamber', 'state', 'district'], unique=False)
        batch_op.create_index(batch_op.f('ix_legislators_state'), ['state'], unique=False)

    op.create_table('zip_districts',
    sa.Column('zip', sa.String(length=5), nullable=False),
    sa.Column('state', sa.String(length=2), nullable=False),
    sa.Column('district', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('zip', 'state', 'district')
    )
    with op.batch_alter_table('zip_districts', schema=None) as batch_op:
        batch_op.create_index('ix_zip_districts_seat', ['state', 'district'], unique=False)

    op.create_table('call_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('call_sid', sa.String(length=64), nullable=True),
    sa.Column('subscriber_id', sa.Integer(), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('demand', sa.String(length=40), nullable=True),
    sa.Column('zip', sa.String(length=5), nullable=True),
    sa.Column('seats', sa.JSON(), nullable=False),
    sa.Column('targets', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('call_status', sa.String(length=16), nullable=True),
    sa.Column('duration', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=200), nullable=True),
    sa.Column('summary_sent', sa.Boolean(), nullable=False),
    sa.Column('created_at', sms.store.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sms.store.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sms.store.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_sid'),
    sa.UniqueConstraint('token')
    )
    with op.batch_alter_table('call_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_sessions_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_sessions_demand'), ['demand'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_sessions_phone'), ['phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_sessions_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_sessions_subscriber_id'), ['subscriber_id'], unique=False)

    op.create_table('call_legs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('ref', sa.String(length=60), nullable=False),
    sa.Column('label', sa.String(length=140), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=True),
    sa.Column('dial_sid', sa.String(length=64), nullable=True),
    sa.Column('dial_status', sa.String(length=16), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('reported', sa.String(length=16), nullable=True),
    sa.Column('duration', sa.Integer(), nullable=True),
    sa.Column('started_at', sms.store.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sms.store.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['call_sessions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'position', 'attempt')
    )
    with op.batch_alter_table('call_legs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_legs_outcome'), ['outcome'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_legs_ref'), ['ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_legs_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_legs_started_at'), ['started_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('call_legs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_legs_started_at'))
        batch_op.drop_index(batch_op.f('ix_call_legs_session_id'))
        batch_op.drop_index(batch_op.f('ix_call_legs_ref'))
        batch_op.drop_index(batch_op.f('ix_call_legs_outcome'))

    op.drop_table('call_legs')
    with op.batch_alter_table('call_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_sessions_subscriber_id'))
        batch_op.drop_index(batch_op.f('ix_call_sessions_status'))
        batch_op.drop_index(batch_op.f('ix_call_sessions_phone'))
        batch_op.drop_index(batch_op.f('ix_call_sessions_demand'))
        batch_op.drop_index(batch_op.f('ix_call_sessions_created_at'))

    op.drop_table('call_sessions')
    with op.batch_alter_table('zip_districts', schema=None) as batch_op:
        batch_op.drop_index('ix_zip_districts_seat')

    op.drop_table('zip_districts')
    with op.batch_alter_table('legislators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legislators_state'))
        batch_op.drop_index('ix_legislators_seat')

    op.drop_table('legislators')
    with op.batch_alter_table('district_offices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_district_offices_bioguide'))

    op.drop_table('district_offices')
    with op.batch_alter_table('custom_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_custom_targets_set_name'))

    op.drop_table('custom_targets')
    op.drop_table('call_blocklist')
