"""Models of the targets package (tables declared on ``sms.store.Base``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sms.store import Base, UTCDateTime, utcnow


class Legislator(Base):
    """A current member of Congress (one row per seat holder)."""

    __tablename__ = "legislators"
    __table_args__ = (Index("ix_legislators_seat", "chamber", "state", "district"),)

    bioguide: Mapped[str] = mapped_column(String(7), primary_key=True)
    chamber: Mapped[str] = mapped_column(String(6))  # house | senate
    title: Mapped[str] = mapped_column(String(12))  # Rep. | Sen. | Del. | Res. Comm.
    name: Mapped[str] = mapped_column(String(80))
    party: Mapped[str] = mapped_column(String(20), default="")
    state: Mapped[str] = mapped_column(String(2), index=True)
    district: Mapped[int | None] = mapped_column(Integer)
    phone: Mapped[str | None] = mapped_column(String(20))  # DC office, E.164
    term_start: Mapped[date | None] = mapped_column(Date)  # None: imported from a file without term dates
    term_end: Mapped[date | None] = mapped_column(Date)  # the term ends at noon Eastern that day
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DistrictOffice(Base):
    """A member's office back home (for routing around a busy DC line)."""

    __tablename__ = "district_offices"

    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    bioguide: Mapped[str] = mapped_column(String(7), index=True)
    city: Mapped[str] = mapped_column(String(60), default="")
    state: Mapped[str] = mapped_column(String(2), default="")
    zip: Mapped[str] = mapped_column(String(10), default="")
    phone: Mapped[str | None] = mapped_column(String(20))
    hours: Mapped[str] = mapped_column(String(200), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)


class ZipDistrict(Base):
    """One (ZIP/ZCTA, state, district) pair of the ZIP map in force from ``effective``; a split ZIP has several rows.

    Several maps may be loaded (the next Congress's ahead of time): a lookup uses the one
    with the latest ``effective`` that has begun (noon Eastern that day, like a term).
    """

    __tablename__ = "zip_districts"
    __table_args__ = (Index("ix_zip_districts_seat", "state", "district"),)

    effective: Mapped[date] = mapped_column(Date, primary_key=True)
    zip: Mapped[str] = mapped_column(String(5), primary_key=True)
    state: Mapped[str] = mapped_column(String(2), primary_key=True)
    district: Mapped[int] = mapped_column(Integer, primary_key=True)


class Dataset(Base):
    """One import of a public data set: where it came from, the Congress it describes, when it was loaded.

    Rows are kept (the newest of each kind is the one loaded), so a later refresh or rollback
    can tell what was loaded before; an import that changes nothing adds no row.
    """

    __tablename__ = "datasets"
    __table_args__ = (Index("ix_datasets_kind_imported", "kind", "imported_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # legislators | offices | zips
    source: Mapped[str] = mapped_column(String(300))  # where the file came from (repository and path, URL)
    upstream: Mapped[str] = mapped_column(String(80), default="")  # upstream commit, "" if not known
    upstream_date: Mapped[date | None] = mapped_column(Date)  # the date of the data upstream
    congress: Mapped[int | None] = mapped_column(Integer)  # e.g. 119; None if not known
    rows: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    effective: Mapped[date | None] = mapped_column(Date)  # zips: the first day the map is in force


class DataVersion(Base):
    """A counter every change to the Congress tables moves (in the change's transaction).

    Each process's member directory (``sms.targets.lookup.directory``) is rebuilt once the
    counter differs from the one it was built at, so a refresh is seen by every web
    process and worker at their next lookup, without a restart.
    """

    __tablename__ = "data_versions"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)  # congress
    version: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Refresh(Base):
    """One run of ``flask refresh-congress``, ``flask refresh-states`` or a daily job: its outcome, what changed,
    the data it replaced.

    ``snapshot`` holds the data as it was before an applied refresh (Congress: the members and
    district offices; states: the state officials; with their dataset records), so ``--rollback``
    can put it back; only the newest few of each kind are kept.
    """

    __tablename__ = "data_refreshes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), default="congress", server_default="congress")  # | states
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    trigger: Mapped[str] = mapped_column(String(10))  # cli | cron
    action: Mapped[str] = mapped_column(String(10))  # refresh | rollback
    source: Mapped[str] = mapped_column(String(300), default="")  # URL base or directory
    outcome: Mapped[str] = mapped_column(String(10))  # applied | unchanged | refused | failed
    message: Mapped[str] = mapped_column(Text, default="")  # why it was refused or failed, or what changed
    members_in: Mapped[int] = mapped_column(Integer, default=0)  # states: officials added, removed, changed
    members_out: Mapped[int] = mapped_column(Integer, default=0)
    members_changed: Mapped[int] = mapped_column(Integer, default=0)
    offices_changed: Mapped[int] = mapped_column(Integer, default=0)
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    rolled_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CustomTarget(Base):
    """An organizer-defined office (city council, district attorney...) in a named set."""

    __tablename__ = "custom_targets"
    __table_args__ = (UniqueConstraint("set_name", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    set_name: Mapped[str] = mapped_column(String(60), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(60), default="")
    phone: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(400), default="")
    verified_on: Mapped[date | None] = mapped_column(Date)
    """The day someone last called the number and checked it reaches the office (None: never)."""

    area: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    """Who a local official serves: ``{"states": [...], "counties": [...], "cities": [...], "zips": [...]}``;
    None: everyone. A county's or city's official: the texter's county/place from their address decides, else
    ``zips`` (no ZIP → county or city map is shipped)."""
    always: Mapped[bool] = mapped_column(Boolean, default=False)  # called every time when the set picks k at random


class CustomTargetSet(Base):
    """A custom set's rules, declared with it in data/demands.yaml: when its offices answer, who may call.

    A set with no row here (one started in the console) keeps Congress's office hours and takes
    calls from anyone.
    """

    __tablename__ = "custom_target_sets"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    title: Mapped[str] = mapped_column(String(120), default="")  # starts a sentence: "The Louisville Metro Council"
    opens: Mapped[int | None] = mapped_column(Integer)  # weekday hours in ``zone``; None: always open
    closes: Mapped[int | None] = mapped_column(Integer)
    zone: Mapped[str] = mapped_column(String(64), default="")
    who: Mapped[str] = mapped_column(String(120), default="")  # "Louisville residents"; "" = anyone may call
    states: Mapped[list[str]] = mapped_column(JSON, default=list)
    zips: Mapped[list[str]] = mapped_column(JSON, default=list)
    zip_prefixes: Mapped[list[str]] = mapped_column(JSON, default=list)
    others: Mapped[str] = mapped_column(String(40), default="")  # a Congress demand offered to everyone else
    pick: Mapped[int | None] = mapped_column(Integer)  # call the ``always`` targets + this many of the rest at random
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class StateDistrict(Base):
    """A state legislative district (Census SLD key without the state FIPS: ``7``, ``D01``, ``A-1``)."""

    __tablename__ = "state_districts"

    state: Mapped[str] = mapped_column(String(2), primary_key=True)
    chamber: Mapped[str] = mapped_column(String(5), primary_key=True)  # upper | lower
    district: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), default="")  # "Second Worcester District"


class StateZip(Base):
    """One (ZIP/ZCTA, state, chamber, district) pair: a ZIP that overlaps several districts has several rows."""

    __tablename__ = "state_zip_districts"
    __table_args__ = (Index("ix_state_zip_districts_seat", "state", "chamber", "district"),)

    zip: Mapped[str] = mapped_column(String(5), primary_key=True)
    state: Mapped[str] = mapped_column(String(2), primary_key=True)
    chamber: Mapped[str] = mapped_column(String(5), primary_key=True)
    district: Mapped[str] = mapped_column(String(20), primary_key=True)


class CensusArea(Base):
    """A county or incorporated place the geocoder named (public Census facts: GEOID, state, name).

    A texter keeps only the GEOID (``subscribers.county_fips`` / ``place_geoid``); the name is
    looked up here to match a mayor's or a local official's city on later calls."""

    __tablename__ = "census_areas"

    geoid: Mapped[str] = mapped_column(String(7), primary_key=True)  # county: 5 digits, place: 7
    kind: Mapped[str] = mapped_column(String(6))  # county | place
    state: Mapped[str] = mapped_column(String(2))
    name: Mapped[str] = mapped_column(String(100))


class StateOfficial(Base):
    """A current state legislator, governor, attorney general or mayor (Open States), one row per role held."""

    __tablename__ = "state_officials"
    __table_args__ = (Index("ix_state_officials_seat", "state", "role", "district"),)

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # "<ocd-person uuid>:<role>"
    state: Mapped[str] = mapped_column(String(2))
    role: Mapped[str] = mapped_column(String(20))  # state-upper | state-lower | governor | attorney-general | mayor
    seat: Mapped[str] = mapped_column(String(80), default="")  # the district as Open States names it
    district: Mapped[str | None] = mapped_column(String(20))  # the district key it joins to; None: not joined
    title: Mapped[str] = mapped_column(String(20), default="")  # Sen. | Rep. | Del. | Asm. | Gov. | AG | Mayor
    name: Mapped[str] = mapped_column(String(120))
    party: Mapped[str] = mapped_column(String(40), default="")
    phone: Mapped[str | None] = mapped_column(String(20))  # capitol (or primary) office, E.164
    city: Mapped[str] = mapped_column(String(80), default="")  # mayors: their city
    term_end: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
