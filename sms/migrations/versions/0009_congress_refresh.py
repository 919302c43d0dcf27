"""Congress refreshes: ZIP maps with an effective date, a data version, the refresh log with its snapshots

Revision ID: 0009_congress_refresh
Revises: 0011_target_set_hours
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from alembic import op

from sms.store import UTCDateTime

revision = "0009_congress_refresh"
down_revision = "0011_target_set_hours"
branch_labels = None
depends_on = None

EARLIEST = date(1789, 3, 4)
"""The first Congress's first day: the effective date of a map whose Congress is unknown (in force always)."""
ZIP_KEY = ["effective", "zip", "state", "district"]

datasets = sa.table("datasets", sa.column("id", sa.Integer), sa.column("kind", sa.String),
                    sa.column("congress", sa.Integer), sa.column("effective", sa.Date))
zip_districts = sa.table("zip_districts", sa.column("effective", sa.Date))


def first_day(congress: int | None) -> date:
    """The day Congress ``congress`` began (as sms.targets.terms.congress_span says), or EARLIEST."""
    return date(1787 + 2 * congress, 1, 3) if congress else EARLIEST


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("datasets") as batch:
        batch.add_column(sa.Column("effective", sa.Date(), nullable=True))
    # A recorded ZIP map took effect when its Congress began; the rows loaded are the newest map's.
    maps = bind.execute(sa.select(datasets.c.id, datasets.c.congress).where(datasets.c.kind == "zips")
                        .order_by(datasets.c.id)).all()
    for row in maps:
        bind.execute(datasets.update().where(datasets.c.id == row.id).values(effective=first_day(row.congress)))
    loaded = first_day(maps[-1].congress if maps else None)
    if bind.dialect.name == "sqlite":  # a new key: SQLite can only copy the table
        _copy_zip_table(ZIP_KEY, f"'{loaded.isoformat()}' AS effective, zip, state, district")
    else:
        op.add_column("zip_districts", sa.Column("effective", sa.Date(), nullable=True))
        bind.execute(zip_districts.update().values(effective=loaded))
        op.alter_column("zip_districts", "effective", existing_type=sa.Date(), nullable=False)
        op.drop_constraint("zip_districts_pkey", "zip_districts", type_="primary")
        op.create_primary_key("zip_districts_pkey", "zip_districts", ZIP_KEY)
    op.create_table(
        "data_versions",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "data_refreshes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("trigger", sa.String(length=10), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("members_in", sa.Integer(), nullable=False),
        sa.Column("members_out", sa.Integer(), nullable=False),
        sa.Column("members_changed", sa.Integer(), nullable=False),
        sa.Column("offices_changed", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=True),
        sa.Column("rolled_back_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("data_refreshes")
    op.drop_table("data_versions")
    bind = op.get_bind()
    # Only the map in force today can stay: the older key cannot hold two maps.
    newest = bind.execute(sa.select(sa.func.max(zip_districts.c.effective))
                          .where(zip_districts.c.effective <= date.today())).scalar()
    bind.execute(zip_districts.delete().where(zip_districts.c.effective != newest))
    if bind.dialect.name == "sqlite":
        _copy_zip_table(ZIP_KEY[1:], "zip, state, district")
    else:
        op.drop_constraint("zip_districts_pkey", "zip_districts", type_="primary")
        op.drop_column("zip_districts", "effective")
        op.create_primary_key("zip_districts_pkey", "zip_districts", ZIP_KEY[1:])
    with op.batch_alter_table("datasets") as batch:
        batch.drop_column("effective")


def _copy_zip_table(key: list[str], selected: str) -> None:
    """SQLite: replace zip_districts by a copy keyed on ``key`` whose rows are ``SELECT selected``."""
    columns = [sa.Column("effective", sa.Date(), nullable=False)] if "effective" in key else []
    op.create_table(
        "zip_districts_copy", *columns,
        sa.Column("zip", sa.String(length=5), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("district", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*key, name="pk_zip_districts"),
    )
    op.execute(f"INSERT INTO zip_districts_copy ({', '.join(key)}) SELECT {selected} FROM zip_districts")
    op.drop_table("zip_districts")
    op.rename_table("zip_districts_copy", "zip_districts")
    op.create_index("ix_zip_districts_seat", "zip_districts", ["state", "district"], unique=False)
