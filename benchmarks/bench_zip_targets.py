"""ZIP → targets lookups per second, against two baselines measured in the same run.

    python -m benchmarks.bench_zip_targets [--seconds 2] [--database-url URL]

Loads the shipped legislators and ZIP table into a fresh SQLite file (or the given
database, default BENCH_DATABASE_URL), then times, over the same random sample of real ZIPs:
  1. a raw in-memory dict lookup ZIP → districts (the ceiling),
  2. a bare SQL query of the ZIP's districts (the database's floor cost),
  3. ``sms.targets.lookup`` end to end: ZIP → districts → House members + senators,
  4. the state level: a bare SQL query of the ZIP's state districts, and ``sms.targets.targeting``
     end to end for ``state`` (ZIP → state districts → state senators and representatives, every
     candidate of a split ZIP) and for ``state,governor,congress`` (every level, in order).
Printed: a table of lookups per second and a line of ratios to the bare SQL query.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import text

from benchmarks.support import table
from sms import store
from sms.targets import importer, lookup, states, targeting


def rate(fn: Callable[[str], object], zips: list[str], seconds: float) -> float:
    """Calls per second of ``fn`` cycling through ``zips`` for about ``seconds``."""
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for zip_code in zips[:200]:
            fn(zip_code)
        count += min(len(zips), 200)
        zips = zips[200:] + zips[:200]
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    args, _names = parser.parse_known_args()  # `python -m benchmarks zip_targets` passes names
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    store.upgrade(url)
    db = store.Database(url)
    with db.session() as session:
        importer.import_legislators(session, importer.read_rows(importer.LEGISLATORS_CSV, ()))
        importer.import_zips(session, importer.read_rows(importer.ZIPS_CSV, ()))
        states.import_districts(session, states.read_districts(states.DISTRICTS_CSV))
        states.import_officials(session, states.read_officials(states.OFFICIALS_CSV, time_date()))
    districts: dict[str, list[tuple[str, int]]] = {}
    for _line, row in importer.read_rows(importer.ZIPS_CSV, ()):
        districts.setdefault(row["zcta"], []).append((row["state_abbr"], int(row["cd"])))
    sample = random.Random(7).sample(sorted(districts), 2000)

    with db.session() as session:
        query = text("SELECT state, district FROM zip_districts WHERE zip = :zip")
        conn = session.connection()

        def full(zip_code: str) -> list[lookup.Target]:
            place = lookup.place_of(session, zip_code)
            seats = list(place.districts)
            return lookup.for_demand(session, "congress", ("house", "senate"), place.states[0], seats)

        state_query = text("SELECT state, chamber, district FROM state_zip_districts WHERE zip = :zip")

        def state_level(zip_code: str) -> list[lookup.Target]:
            return targeting.for_demand(session, "state", (), targeting.Where(zip_code))

        def every_level(zip_code: str) -> list[lookup.Target]:
            place = lookup.place_of(session, zip_code)
            where = targeting.Where(zip_code, place.states[0], list(place.districts))
            return targeting.for_demand(session, "state,governor,congress", (), where)

        results = {
            "dict lookup (baseline)": rate(districts.get, sample, args.seconds),
            "bare SQL query (baseline)": rate(lambda z: conn.execute(query, {"zip": z}).all(), sample,
                                              args.seconds),
            "ZIP -> targets (sms.targets.lookup)": rate(full, sample, args.seconds),
            "bare SQL query, state districts": rate(lambda z: conn.execute(state_query, {"zip": z}).all(), sample,
                                                    args.seconds),
            "ZIP -> state legislators (targeting, state)": rate(state_level, sample, args.seconds),
            "ZIP -> every level (state,governor,congress)": rate(every_level, sample, args.seconds),
        }
    db.dispose()
    sql = results["bare SQL query (baseline)"]
    print(f"database: {db.engine.dialect.name}; {len(sample)} real ZIPs, {args.seconds:.1f}s each")
    print(table(("lookup", "per second", "vs bare SQL"),
                [(name, f"{per_second:,.0f}", f"{per_second / sql:.2f}x") for name, per_second in results.items()]))
    ours, ceiling = results["ZIP -> targets (sms.targets.lookup)"], results["dict lookup (baseline)"]
    print(f"ratios: ZIP -> targets {ours / sql:.2f}x the bare SQL query, {ours / ceiling:.4f}x the dict lookup")
    state = results["ZIP -> state legislators (targeting, state)"]
    print(f"state: ZIP -> state legislators {state / results['bare SQL query, state districts']:.2f}x the bare SQL "
          f"query of state districts; every level {results['ZIP -> every level (state,governor,congress)'] / ours:.2f}x"
          " the Congress lookup")


def time_date() -> date:
    """The day the shipped officials' roles are read as of (their snapshot's)."""
    return date(2026, 8, 5)


if __name__ == "__main__":
    main()
