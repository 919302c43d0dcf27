"""the texter's county and incorporated place (GEOIDs found from an address, never the address); their names

Revision ID: 0017e_local_areas
Revises: 0017d_refresh_kind
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017e_local_areas"
down_revision = "0017d_refresh_kind"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("county_fips", sa.String(length=5), nullable=True))
        batch.add_column(sa.Column("place_geoid", sa.String(length=7), nullable=True))
    op.create_table(
        "census_areas",
        sa.Column("geoid", sa.String(length=7), nullable=False),
        sa.Column("kind", sa.String(length=6), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("geoid"),
    )


def downgrade() -> None:
    op.drop_table("census_areas")
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("place_geoid")
        batch.drop_column("county_fips")
