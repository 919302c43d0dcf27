"""flask refresh-congress: the 120th Congress fetched from a local server playing upstream, checked, applied,
seen by other processes, rolled back; bad refreshes that change nothing; the daily job.

The server (tests/support/upstream.py) publishes files built from the shipped ones
(tests/targets/congress_future.py): members in and out, a changed phone, a vacancy, a changed
office. Who a texter is connected to is checked through signed webhooks (CALL, then the ZIP).
"""

from __future__ import annotations

import html
import os
import subprocess
import sys
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from sms import cron, tasks
from sms.errors import ConfigError
from sms.settings import Settings
from sms.targets import datasets, importer, lookup
from sms.targets.models import Dataset, DistrictOffice, Legislator, Refresh
from tests.conftest import REDIS_URL, ROOT, TOKEN
from tests.support.calls import tune
from tests.support.console import login_as, make_organizer
from tests.support.upstream import Upstream
from tests.targets.congress_future import (
    MA_SENATOR_PHONE,
    MARKEY,
    MCGOVERN,
    MCGOVERN_NEW,
    NEWCOMER,
    SWORN_IN,
    TODAY,
    WARREN,
    congress_120,
    connect,
    freeze,
    load,
    member_rows,
    members_yaml,
    offices_120,
)

MEMBERS, OFFICES = "legislators-current.yaml", "legislators-district-offices.csv"
BOSTON_BEFORE = "Rep. James P. McGovern, Sen. Edward J. Markey, Sen. Elizabeth Warren"
DIFF = [
    "New data: 100 of 100 senators, 430 of 435 House seats filled (5 vacant: CA-14, FL-1, FL-20, GA-13, TX-23), "
    "6 of 6 delegates.",
    "Changes: 3 members in, 4 out, 1 phone changed, 0 moved, 467 with other changes (terms, names, parties); "
    "district offices: 1 added, 11 removed, 1 changed.",
    "  in:      Rep. Pat Newcomer (NY-12)", "  in:      Sen. Pat Successor (FL)", "  in:      Sen. Sam Senator (MA)",
    "  out:     Rep. Jerrold Nadler (NY-12)", "  out:     Rep. Jimmy Patronis (FL-1)",
    "  out:     Sen. Ashley Moody (FL)", "  out:     Sen. Edward J. Markey (MA)",
    "  phone:   Rep. James P. McGovern (MA-2): +12022256101 -> +12022256102",
    "  offices: Rep. Joyce Beatty (OH-3): 1 changed",
]


@pytest.fixture
def config(config: dict[str, Any], upstream: Upstream) -> dict[str, Any]:
    """The app fetches from the local server, and gives up on a silent one quickly."""
    return {**config, "CONGRESS_DATA_URL": upstream.url, "CONGRESS_DATA_TIMEOUT": "0.5"}


@pytest.fixture
def congress(svc, monkeypatch, upstream: Upstream):  # noqa: ANN001, ANN201
    """The shipped members, offices and test ZIPs loaded on 2026-12-01; upstream publishes the 120th Congress."""
    freeze(monkeypatch, TODAY)
    load(svc)
    with svc.db.session() as session:
        importer.import_offices(session, importer.read_rows(importer.OFFICES_CSV, importer.OFFICE_COLUMNS),
                                origin=datasets.origin("offices", importer.OFFICES_CSV))
    upstream.publish(MEMBERS, members_yaml(congress_120(member_rows())))
    upstream.publish(OFFICES, offices_120())
    return svc


def snapshot(svc) -> dict[str, Any]:  # noqa: ANN001
    """Everything a refresh may change, to compare before and after one that must change nothing."""
    with svc.db.session() as session:
        return {
            "members": {m.bioguide: (m.phone, m.term_end) for m in session.scalars(select(Legislator))},
            "offices": session.scalar(select(func.count()).select_from(DistrictOffice)),
            "datasets": session.scalar(select(func.count()).select_from(Dataset)),
            "version": lookup.data_version(session),
        }


def refreshes(svc) -> list[tuple[str, str, str]]:  # noqa: ANN001
    with svc.db.session() as session:
        return [(r.trigger, r.action, r.outcome) for r in session.scalars(select(Refresh).order_by(Refresh.id))]


def test_a_refresh_from_upstream_connects_texters_to_the_new_members_and_a_rollback_undoes_it(
        congress, runner, client, run_jobs, transport, monkeypatch, upstream) -> None:  # noqa: ANN001
    freeze(monkeypatch, SWORN_IN)
    assert connect(client, "+16175550201", "01060", run_jobs, transport) == (
        f"Calling you now to connect you with {BOSTON_BEFORE}.", [MCGOVERN, MARKEY, WARREN])

    result = runner.invoke(args=["refresh-congress"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"Congress data from {upstream.url}"
    assert lines[1:len(DIFF) + 1] == DIFF
    assert lines[-1].startswith("Applied (refresh #") and "--rollback puts the previous data back" in lines[-1]
    assert upstream.requests == [f"/congress-legislators/{MEMBERS}", f"/congress-legislators/{OFFICES}"]

    assert connect(client, "+16175550202", "01060", run_jobs, transport) == (
        "Calling you now to connect you with Rep. James P. McGovern, Sen. Elizabeth Warren, Sen. Sam Senator.",
        [MCGOVERN_NEW, WARREN, MA_SENATOR_PHONE])
    reply, numbers = connect(client, "+16175550203", "32501", run_jobs, transport)
    assert reply == "Calling you now to connect you with Sen. Rick Scott, Sen. Pat Successor. (FL-1 is vacant.)"
    assert len(numbers) == 2 and numbers[1] == "+12022243121"  # nobody for FL-1; the senators
    with congress.db.session() as session:
        members = datasets.latest(session)["legislators"]
        assert (members.source, members.congress, members.rows) == (upstream.url + MEMBERS, 120, 536)
        assert members.upstream_date.isoformat() == "2027-01-04"  # the server's Last-Modified
        assert session.get(DistrictOffice, f"{NEWCOMER}-new_york").phone == "+12123677351"
    status = runner.invoke(args=["data-status"]).output
    assert "Last refresh: refresh applied 2027-01-04 15:00 UTC (cli) from http://127.0.0.1:" in status
    assert "536 members; none ended; 0 end within 45 days." in status

    undo = runner.invoke(args=["refresh-congress", "--rollback"])
    assert undo.exit_code == 0, undo.output
    with congress.db.session() as session:  # ids, not 1 and 2: PostgreSQL's run on across tests
        applied = session.scalar(select(Refresh.id).where(Refresh.action == "refresh"))
    assert undo.output.startswith(f"Rolled back (#{applied + 1}): restored the data of before refresh #{applied} "
                                  "(2027-01-04 15:00 UTC): "
                                  "4 members in, 3 out, 1 phone changed")
    assert connect(client, "+16175550204", "01060", run_jobs, transport) == (
        f"Calling you now to connect you with {BOSTON_BEFORE}.", [MCGOVERN, MARKEY, WARREN])
    with congress.db.session() as session:
        assert datasets.latest(session)["legislators"].upstream_date.isoformat() == "2026-06-15"  # the shipped file's
        assert session.scalar(select(func.count()).select_from(DistrictOffice)) == 1312
    assert refreshes(congress) == [("cli", "refresh", "applied"), ("cli", "rollback", "applied")]
    again = runner.invoke(args=["refresh-congress", "--rollback"])
    assert again.exit_code == 1 and "Error: Nothing to roll back" in again.output


def test_dry_run_prints_the_diff_and_writes_nothing(congress, runner) -> None:  # noqa: ANN001
    before = snapshot(congress)
    result = runner.invoke(args=["refresh-congress", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:] == [*DIFF, "Dry run: nothing was changed."]
    assert snapshot(congress) == before and refreshes(congress) == []


def test_an_unchanged_upstream_changes_nothing_and_says_so(congress, runner) -> None:  # noqa: ANN001
    assert runner.invoke(args=["refresh-congress"]).exit_code == 0
    before = snapshot(congress)
    result = runner.invoke(args=["refresh-congress"])
    assert result.exit_code == 0 and result.output.splitlines()[-1] == "Unchanged: the data loaded is already this."
    assert snapshot(congress) == before
    assert refreshes(congress)[-1] == ("cli", "refresh", "unchanged")


def _house(rows: list, keep: int) -> list:
    """Senators, delegates and the first ``keep`` voting House members."""
    voting = [r for r in rows if r[1]["type"] == "rep" and r[1]["state"] not in lookup.TERRITORIES]
    return [r for r in rows if r not in voting] + voting[:keep]


def _third_senator(rows: list) -> list:
    ohio = next(dict(r) for _, r in rows if r["type"] == "sen" and r["state"] == "OH")
    return [*rows, (999, {**ohio, "bioguide_id": "Z000003", "full_name": "Third Senator", "phone": "202-224-0003"})]


BAD = {
    "truncated": (lambda rows: members_yaml(rows)[:len(members_yaml(rows)) // 2], "refused",
                  [f"{MEMBERS}: line "]),
    "300 House members": (lambda rows: members_yaml(_house(rows, 300)), "refused",
                          ["135 seats would be vacant (135 of 435 House seats, 0 of 100 Senate seats)",
                           "the members would drop from 537 to 406 (24%, more than DATA_REFRESH_MAX_DROP=20%)"]),
    "three senators": (lambda rows: members_yaml(_third_senator(rows)), "refused",
                       ["3 senators for OH (a state has 2): Sen. Bernie Moreno (M001242), Sen. Jon Husted (H001104), "
                        "Sen. Third Senator (Z000003)"]),
    "a web page": (lambda rows: "<html><body>Site not found</body></html>\n", "refused",
                   [f"{MEMBERS}: not a list of people (is it a congress-legislators members file?)"]),
    "a phone that is no number": (lambda rows: members_yaml(rows).replace("202-225-5635", "202-225-563"), "refused",
                                  ["phone '202-225-563' is not a valid number"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_members_file_is_refused_changes_nothing_and_says_why(congress, runner, upstream, case) -> None:  # noqa: ANN001
    make, outcome, reasons = BAD[case]
    upstream.publish(MEMBERS, make(member_rows()))
    before = snapshot(congress)
    result = runner.invoke(args=["refresh-congress"])
    assert result.exit_code == 1, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error: ") and "nothing was changed" in last
    for reason in reasons:
        assert reason in result.output
    assert snapshot(congress) == before
    assert refreshes(congress) == [("cli", "refresh", outcome)]


@pytest.mark.parametrize(("answer", "reason"), [
    ("500", "legislators-current.yaml: HTTP 500 Internal Server Error (nothing was changed)"),
    ("404", "legislators-current.yaml: HTTP 404 Not Found (nothing was changed)"),
    ("429", "legislators-current.yaml: rate limited (HTTP 429; the server asks to wait 60 s); try again later"),
    ("timeout", "legislators-current.yaml: no answer within 0.5 s (timeout) (nothing was changed)"),
    ("offices 503", "legislators-district-offices.csv: HTTP 503 Service Unavailable (nothing was changed)"),
])
def test_an_upstream_that_fails_changes_nothing_and_says_why(congress, runner, upstream, answer, reason) -> None:  # noqa: ANN001
    if answer == "timeout":
        upstream.stall(MEMBERS)
    elif answer.startswith("offices"):
        upstream.fail(OFFICES, int(answer.split()[1]))
    else:
        upstream.fail(MEMBERS, int(answer), **({"Retry-After": "60"} if answer == "429" else {}))
    before = snapshot(congress)
    result = runner.invoke(args=["refresh-congress"])
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines()[-1].startswith(f"Error: {upstream.url}") and reason in result.output
    assert snapshot(congress) == before
    assert refreshes(congress) == [("cli", "refresh", "failed")]


def test_force_accepts_a_big_drop_but_never_a_seat_that_cannot_be(congress, runner, upstream) -> None:  # noqa: ANN001
    upstream.publish(MEMBERS, members_yaml(_third_senator(_house(member_rows(), 300))))
    refused = runner.invoke(args=["refresh-congress", "--force"])
    assert refused.exit_code == 1 and "3 senators for OH" in refused.output
    assert "seats would be vacant" not in refused.output.splitlines()[-1]  # forced: only what cannot be is left
    upstream.publish(MEMBERS, members_yaml(_house(member_rows(), 300)))
    assert runner.invoke(args=["refresh-congress"]).exit_code == 1
    forced = runner.invoke(args=["refresh-congress", "--force"])
    assert forced.exit_code == 0, forced.output
    assert len(snapshot(congress)["members"]) == 406


def test_an_applied_refresh_is_seen_by_another_process_at_once(congress, client, run_jobs, transport, monkeypatch,
                                                               tmp_path) -> None:  # noqa: ANN001
    """This process's directory is warm (and would be kept an hour): a refresh run by another process (the CLI
    in a subprocess, from a directory) reaches its next texter through the data version."""
    freeze(monkeypatch, SWORN_IN)
    monkeypatch.setattr(lookup, "DIRECTORY_TTL", 3600.0)
    assert connect(client, "+16175550211", "01060", run_jobs, transport)[1] == [MCGOVERN, MARKEY, WARREN]
    source = tmp_path / "upstream"
    source.mkdir()
    (source / MEMBERS).write_text(members_yaml(congress_120(member_rows())), encoding="utf-8")
    (source / OFFICES).write_text(offices_120(), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "REDIS_", "DATA_", "CONGRESS_"))}
    env.update(DATABASE_URL=congress.settings.database_url, REDIS_URL=REDIS_URL, TWILIO_AUTH_TOKEN=TOKEN)
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "refresh-congress", "--source", str(source)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Applied (refresh #" in done.stdout
    assert connect(client, "+16175550212", "01060", run_jobs, transport)[1] == [MCGOVERN_NEW, WARREN,
                                                                                  MA_SENATOR_PHONE]


def test_the_daily_job_is_off_by_default(congress, redis, upstream) -> None:  # noqa: ANN001
    assert congress.settings.data_refresh == "off"
    assert cron.DATA_REFRESH_JOB not in cron.schedule(congress.settings)
    assert cron.tick(redis, 1_000_000.0, {}, cron.schedule(congress.settings)) == len(cron.PERIODIC)
    assert tasks.refresh_congress() == {}
    assert upstream.requests == [] and refreshes(congress) == []


def test_the_daily_job_refreshes_with_data_refresh_daily_and_shows_a_failure(
        congress, redis, run_jobs, client, runner, upstream, monkeypatch) -> None:  # noqa: ANN001
    tune(congress, data_refresh="daily")
    jobs = cron.schedule(congress.settings)
    assert cron.DATA_REFRESH_JOB in jobs
    assert cron.tick(redis, 1_000_000.0, {}, jobs) == len(cron.PERIODIC) + 1
    run_jobs()  # the worker runs the job through cron.run_exclusive
    assert refreshes(congress) == [("cron", "refresh", "applied")]
    assert snapshot(congress)["members"][NEWCOMER] == ("+12022250012", date(2029, 1, 3))
    assert tasks.refresh_congress() == {}  # ran less than a day ago

    freeze(monkeypatch, TODAY.replace(day=2))
    upstream.fail(MEMBERS, 500)
    before = snapshot(congress)
    assert tasks.refresh_congress() == {"failed": 1, "members_in": 0, "members_out": 0, "members_changed": 0,
                                        "offices_changed": 0}
    assert snapshot(congress) == before
    status = runner.invoke(args=["data-status"]).output
    assert "Last refresh: refresh failed 2026-12-02 15:00 UTC (cron) from http://127.0.0.1:" in status
    assert "  The data is as it was before it." in status
    assert "Last applied: refresh applied 2026-12-01 15:00 UTC (cron)" in status
    assert "The last refresh (cron, 2026-12-02 15:00 UTC) failed and changed nothing: " in status
    login_as(client, make_organizer(congress))
    card = html.unescape(client.get("/console/targets").get_data(as_text=True))
    assert '<div class="error">Last refresh: <b>failed</b> 2026-12-02 15:00 UTC (cron) from http' in card
    assert "HTTP 500 Internal Server Error. <b>Nothing was changed: the data is as it was before it.</b>" in card
    assert "runs daily (DATA_REFRESH=daily)" in card
    assert "The last refresh of the members (2026-12-02 15:00 UTC) failed; the data is as it was before it." in card


def test_refresh_settings() -> None:
    base = {"DATABASE_URL": "sqlite://"}
    found = Settings.from_mapping(base)
    assert (found.data_refresh, found.congress_data_url, found.data_refresh_max_drop, found.congress_data_timeout) \
        == ("off", "https://unitedstates.github.io/congress-legislators/", 20, 30.0)
    assert Settings.from_mapping({**base, "DATA_REFRESH": "Daily"}).data_refresh == "daily"
    for key, value, message in (("DATA_REFRESH", "hourly", "DATA_REFRESH must be off or daily"),
                                ("CONGRESS_DATA_URL", "ftp://x", "CONGRESS_DATA_URL must start with http"),
                                ("DATA_REFRESH_MAX_DROP", "101", "DATA_REFRESH_MAX_DROP is a percentage"),
                                ("CONGRESS_DATA_TIMEOUT", "0", "CONGRESS_DATA_TIMEOUT must be more than zero")):
        with pytest.raises(ConfigError, match=message):
            Settings.from_mapping({**base, key: value})


def test_a_rollback_says_it_leaves_the_zip_maps_and_how_to_undo_one_loaded_since(
        congress, runner, monkeypatch, tmp_path) -> None:  # noqa: ANN001
    from tests.targets.congress_future import zip_map_120

    freeze(monkeypatch, SWORN_IN)
    assert runner.invoke(args=["refresh-congress"]).exit_code == 0
    path = tmp_path / "zccd-120.csv"
    path.write_text(zip_map_120(), encoding="utf-8")
    loaded = runner.invoke(args=["import-zips", str(path), "--congress", "120", "--effective", "2027-01-03",
                                 "--source", "my 120th map", "--members-will-follow"])
    assert loaded.exit_code == 0, loaded.output
    undo = runner.invoke(args=["refresh-congress", "--rollback"])
    assert undo.exit_code == 0, undo.output
    lines = undo.output.splitlines()
    assert lines[1] == "ZIP maps are not restored: refresh-congress never changes them, so a rollback leaves them " \
                       "as they are."
    assert lines[2] == "  The ZIP map in force from 2027-01-03 (my 120th map) was loaded after that refresh and " \
                       "stays; to undo it: flask remove-zip-map 2027-01-03"
    removed = runner.invoke(args=["remove-zip-map", "2027-01-03"])
    assert removed.exit_code == 0 and "Removed the ZIP map in force from 2027-01-03" in removed.output
    with congress.db.session() as session:
        assert date(2027, 1, 3) not in {m.effective for m in datasets.zip_maps(session)}
        assert not session.scalar(select(func.count()).select_from(Dataset).where(
            Dataset.effective == date(2027, 1, 3)))
    again = runner.invoke(args=["remove-zip-map", "2027-01-03"])
    assert again.exit_code == 1 and "no ZIP map takes effect on 2027-01-03" in again.output
    only = runner.invoke(args=["remove-zip-map", "2025-01-03"])
    assert only.exit_code == 1 and "it is the only ZIP map loaded" in only.output


def test_a_rollback_with_no_zip_map_since_still_says_it_leaves_them(congress, runner, monkeypatch) -> None:  # noqa: ANN001
    freeze(monkeypatch, SWORN_IN)
    assert runner.invoke(args=["refresh-congress"]).exit_code == 0
    lines = runner.invoke(args=["refresh-congress", "--rollback"]).output.splitlines()
    assert lines[1:] == ["ZIP maps are not restored: refresh-congress never changes them, so a rollback leaves "
                         "them as they are."]
