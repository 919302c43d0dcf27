"""state legislators, governors, attorneys general, mayors; ZIP → state district; local officials' areas

Revision ID: 0013_state_targets
Revises: 0009_mentions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sms.store import UTCDateTime

revision = "0013_state_targets"
down_revision = "0014_web_actions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "state_districts",
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("chamber", sa.String(length=5), nullable=False),
        sa.Column("district", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("state", "chamber", "district"),
    )
    op.create_table(
        "state_zip_districts",
        sa.Column("zip", sa.String(length=5), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("chamber", sa.String(length=5), nullable=False),
        sa.Column("district", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("zip", "state", "chamber", "district"),
    )
    op.create_index("ix_state_zip_districts_seat", "state_zip_districts", ["state", "chamber", "district"])
    op.create_table(
        "state_officials",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("seat", sa.String(length=80), nullable=False),
        sa.Column("district", sa.String(length=20), nullable=True),
        sa.Column("title", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("party", sa.String(length=40), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("city", sa.String(length=80), nullable=False),
        sa.Column("term_end", sa.Date(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_state_officials_seat", "state_officials", ["state", "role", "district"])
    # A demand's targets: an ordered list of kinds ("state-upper,state-lower,house,senate,custom:da").
    with op.batch_alter_table("demands") as batch:
        batch.alter_column("targets", existing_type=sa.String(length=60), type_=sa.String(length=200))
    # Local officials (DAs, sheriffs, council members) serve an area; a set may call some always + k at random.
    with op.batch_alter_table("custom_targets") as batch:
        batch.add_column(sa.Column("area", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("always", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("custom_target_sets") as batch:
        batch.add_column(sa.Column("pick", sa.Integer(), nullable=True))
    # Stances of state officials too: an Open States person id (36 characters) where a bioguide was.
    with op.batch_alter_table("stances") as batch:
        batch.alter_column("bioguide", existing_type=sa.String(length=7), type_=sa.String(length=40))
    # The texter's state districts once known (chosen, or found from an address that is then forgotten).
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("state_upper", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("state_lower", sa.String(length=20), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM stances WHERE length(bioguide) > 7")
    with op.batch_alter_table("stances") as batch:
        batch.alter_column("bioguide", existing_type=sa.String(length=40), type_=sa.String(length=7))
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("state_lower")
        batch.drop_column("state_upper")
    with op.batch_alter_table("custom_target_sets") as batch:
        batch.drop_column("pick")
    with op.batch_alter_table("custom_targets") as batch:
        batch.drop_column("always")
        batch.drop_column("area")
    with op.batch_alter_table("demands") as batch:
        batch.alter_column("targets", existing_type=sa.String(length=200), type_=sa.String(length=60))
    op.drop_index("ix_state_officials_seat", table_name="state_officials")
    op.drop_table("state_officials")
    op.drop_index("ix_state_zip_districts_seat", table_name="state_zip_districts")
    op.drop_table("state_zip_districts")
    op.drop_table("state_districts")
