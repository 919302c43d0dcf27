"""Console dashboard and CSV export on a campaign-sized database (BENCH_DATABASE_URL, default a SQLite file).

Seeds BENCH_SUBSCRIBERS subscribers (default 100,000) with 3 messages, 1 consent event
and 1 interest each, then times ``dashboard.compute`` (30 days, every series) and the
full opted-in subscribers CSV and the inbox's first page, against a baseline measured in the same run: one
``SELECT count(*)`` over each table the dashboard reads. Printed: a table of seconds and a line of ratios.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from datetime import timedelta

from sqlalchemy import func, insert, select

from benchmarks.support import table
from sms import store
from sms.console import dashboard, exports, inbox
from sms.store import ConsentEvent, Interest, Message, Subscriber, utcnow

N = int(os.environ.get("BENCH_SUBSCRIBERS", "100000"))
KEYWORDS = ["CHOKEHOLD", "DEFUND", "UNIONS", "NOKNOCK", "1033", "FORCE"]


def seed(db: store.Database) -> None:
    now = utcnow()
    rng = random.Random(1)
    with db.engine.begin() as conn:
        subs, consent, interests, messages = [], [], [], []
        for i in range(1, N + 1):
            at = now - timedelta(days=rng.randrange(60), seconds=rng.randrange(86400))
            phone = f"+1617{i:07d}"
            subs.append({"id": i, "phone": phone, "status": "opted_out" if i % 20 == 0 else "active",
                         "tier": "normal", "created_at": at, "last_active_at": at})
            consent.append({"subscriber_id": i, "action": "opt_in", "source": "sms", "created_at": at})
            interests.append({"subscriber_id": i, "keyword": rng.choice(KEYWORDS), "times": 1,
                              "first_at": at, "last_at": at})
            for direction, kind, status in (("in", "inbound", "received"), ("out", "reply", "replied"),
                                            ("out", "followup", "sent")):
                messages.append({"subscriber_id": i, "direction": direction, "kind": kind, "phone": phone,
                                 "body": "CHOKEHOLD", "status": status, "created_at": at, "segments": 1,
                                 "media_count": 0, "attempts": 0})
        for model, rows in ((Subscriber, subs), (ConsentEvent, consent), (Interest, interests), (Message, messages)):
            conn.execute(insert(model), rows)


def timed(fn) -> float:  # noqa: ANN001
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
        store.upgrade(url)
        db = store.Database(url)
        print(f"database {db.engine.dialect.name}; seeding {N:,} subscribers, {3 * N:,} messages ...", flush=True)
        seed(db)
        with db.session() as session:
            baseline = timed(lambda: [session.scalar(select(func.count()).select_from(m))
                                      for m in (Subscriber, ConsentEvent, Interest, Message)])
            results = {
                "dashboard.compute (30 days)": timed(lambda: dashboard.compute(session, 30)),
                "opted-in subscribers CSV": timed(
                    lambda: sum(len(chunk) for chunk in exports.subscribers_csv(session))),
                "inbox first page": timed(lambda: inbox.threads(session, 1)),
            }
        db.dispose()
    rows = [("baseline: count(*) of 4 tables", f"{baseline:.3f}", "1.0x")]
    rows += [(name, f"{seconds:.3f}", f"{seconds / baseline:.1f}x") for name, seconds in results.items()]
    print(table(("console", "seconds", "vs baseline"), rows))
    print("ratios (vs count(*) x4): " + ", ".join(f"{name} {s / baseline:.1f}x" for name, s in results.items()))


if __name__ == "__main__":
    main()
