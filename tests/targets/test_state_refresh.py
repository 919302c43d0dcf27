"""flask refresh-states: Open States' per-state CSVs fetched from a local server, checked, diffed per state,
applied, seen by the next texter without a restart, rolled back; bad refreshes that change nothing; the daily job.

The server (tests/support/upstream.py, ``openstates``) publishes CSVs in Open States' columns built from the
shipped state data of KY, MA, NH, NE and TX (tests/support/states.py): a senator replaced, a phone and a party
changed, a representative gone.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from sms import cron, tasks
from sms.errors import ConfigError
from sms.settings import Settings
from sms.targets import datasets, lookup, refresh, state_lookup, state_refresh, states
from sms.targets.models import Dataset, Refresh, StateOfficial
from tests.conftest import Phone
from tests.support.calls import tune
from tests.support.states import STATES
from tests.support.upstream import Upstream
from tests.targets.test_state_routing import _called, _set_targets

HEADER = (
    "id,name,current_party,current_district,current_chamber,given_name,family_name,gender,email,biography,"
    "birth_date,death_date,image,links,sources,capitol_address,capitol_voice,capitol_fax,district_address,"
    "district_voice,district_fax,twitter,youtube,instagram,facebook,wikidata"
).split(",")
NEWCOMER = "00000000-0000-4000-8000-000000000001"
NEW_PHONE = "+15025648101"


def shipped(state: str) -> list[dict[str, str]]:
    """The shipped legislators of ``state`` as Open States' CSV rows."""
    out = []
    with states.OFFICIALS_CSV.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["state"] == state and row["role"] in ("state-upper", "state-lower"):
                chamber = "legislature" if state == "NE" else row["role"].removeprefix("state-")
                out.append(
                    {
                        "id": "ocd-person/" + row["id"].split(":")[0],
                        "name": row["name"],
                        "current_party": row["party"],
                        "current_district": row["seat"],
                        "current_chamber": chamber,
                        "capitol_voice": row["phone"],
                        "links": "https://example.org/a;https://example.org/b",
                    }
                )
    return out


def as_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def changed_ky() -> list[dict[str, str]]:
    """KY after an election: Jimmy Higdon (senate 14) replaced, Candy Massaroni's phone and a party changed."""
    rows = shipped("KY")
    for row in rows:
        if row["name"] == "Jimmy Higdon":
            row.update(
                id=f"ocd-person/{NEWCOMER}",
                name="Pat Newsenator",
                capitol_voice="502-564-8101",
                current_party="Democratic",
            )
        elif row["name"] == "Candy Massaroni":
            row.update(capitol_voice="(502) 564-8199")
    return rows


def changed_tx() -> list[dict[str, str]]:
    """TX with one representative gone (a vacancy)."""
    rows = shipped("TX")
    return [r for r in rows if r["name"] != "Shelley Luther"]


@pytest.fixture
def config(config: dict[str, Any], openstates: Upstream) -> dict[str, Any]:
    """The app fetches from the local server, and gives up on a silent one quickly."""
    return {**config, "STATE_DATA_URL": openstates.url, "CONGRESS_DATA_TIMEOUT": "0.5"}


@pytest.fixture
def published(states_db, openstates: Upstream):  # noqa: ANN001, ANN201
    """The state data of KY, MA, NH, NE, TX loaded; upstream publishes exactly it."""
    for state in STATES:
        openstates.publish(f"{state.lower()}.csv", as_csv(shipped(state)))
    return states_db


def snapshot(svc) -> dict[str, Any]:  # noqa: ANN001
    """Everything a refresh may change, to compare before and after one that must change nothing."""
    with svc.db.session() as session:
        return {
            "officials": {
                o.id: (o.name, o.phone, o.party, o.district, o.term_end) for o in session.scalars(select(StateOfficial))
            },
            "datasets": session.scalar(select(func.count()).select_from(Dataset)),
            "version": lookup.data_version(session, states.VERSION),
        }


def refreshes(svc) -> list[tuple[str, str, str, str]]:  # noqa: ANN001
    with svc.db.session() as session:
        return [(r.kind, r.trigger, r.action, r.outcome) for r in session.scalars(select(Refresh).order_by(Refresh.id))]


DIFF = [
    "New data: 980 officials, legislators of 5 states (governors, attorneys general and mayors are left as loaded).",
    "Changes: 1 added, 2 removed, 1 changed, 0 with other changes (KY: 1 added, 1 removed, 1 changed; "
    "TX: 0 added, 1 removed, 0 changed).",
    "  KY: 1 added, 1 removed, 1 changed",
    "    added:   State Sen. Pat Newsenator (district 14)",
    "    removed: State Sen. Jimmy Higdon (district 14)",
    "    changed: State Rep. Candy Massaroni (district 50): phone +15025648100 -> +15025648199",
    "  TX: 0 added, 1 removed, 0 changed",
    "    removed: State Rep. Shelley Luther (district 62)",
    "  note: 57 legislators join no district of the map (kept, never reached by ZIP)",  # NH's floterial seats
]


def test_a_refresh_routes_the_next_texter_to_the_new_state_senator_and_a_rollback_undoes_it(
    published, runner, client, openstates, monkeypatch
) -> None:  # noqa: ANN001
    # As in another process (a web worker): only the version moving may rebuild its directory, not a TTL or a forget.
    monkeypatch.setattr(lookup, "DIRECTORY_TTL", 3600.0)
    monkeypatch.setattr(state_lookup, "forget_directory", lambda: None)
    _set_targets(published, "CHOKEHOLD", "state-upper,governor")
    before = Phone(client, "+16175550301")
    before.text("ZIP 40004")
    assert before.text("CALL CHOKEHOLD")[0].startswith(
        "Calling you now to connect you with State Sen. Jimmy Higdon, Gov. Andy Beshear."
    )

    openstates.publish("ky.csv", as_csv(changed_ky()))
    openstates.publish("tx.csv", as_csv(changed_tx()))
    result = runner.invoke(args=["refresh-states"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"State officials from {openstates.url}"
    assert lines[1 : len(DIFF) + 1] == DIFF
    with published.db.session() as session:
        applied = session.scalar(select(Refresh.id).where(Refresh.kind == "states"))
    assert lines[-1].startswith(f"Applied (refresh #{applied})") and "flask refresh-states --rollback" in lines[-1]
    assert sorted(openstates.requests) == [f"/people/current/{s.lower()}.csv" for s in sorted(STATES)]

    after = Phone(client, "+16175550302")
    after.text("ZIP 40004")
    assert after.text("CALL CHOKEHOLD")[0].startswith(
        "Calling you now to connect you with State Sen. Pat Newsenator, Gov. Andy Beshear."
    )
    assert _called(published) == ["State Sen. Pat Newsenator", "Gov. Andy Beshear"]
    with published.db.session() as session:
        newcomer = session.get(StateOfficial, f"{NEWCOMER}:state-upper")
        assert (newcomer.phone, newcomer.party, newcomer.district) == (NEW_PHONE, "Democratic", "14")
        record = datasets.latest(session)["state-officials"]
        assert record.source.startswith(openstates.url) and "legislators of 5 states" in record.source
        assert record.upstream_date.isoformat() == "2027-01-04"  # the server's Last-Modified
    status = runner.invoke(args=["data-status"]).output
    assert "State officials: Last refresh: refresh applied " in status and "(cli) from http://127.0.0.1:" in status

    undo = runner.invoke(args=["refresh-states", "--rollback"])
    assert undo.exit_code == 0, undo.output
    assert undo.output.startswith(f"Rolled back (#{applied + 1}): restored the data of before refresh #{applied} (")
    assert "2 added, 1 removed, 1 changed" in undo.output
    again = Phone(client, "+16175550303")
    again.text("ZIP 40004")
    assert again.text("CALL CHOKEHOLD")[0].startswith("Calling you now to connect you with State Sen. Jimmy Higdon")
    assert refreshes(published) == [("states", "cli", "refresh", "applied"), ("states", "cli", "rollback", "applied")]
    nothing = runner.invoke(args=["refresh-states", "--rollback"])
    assert nothing.exit_code == 1 and "Error: Nothing to roll back" in nothing.output


def test_dry_run_prints_the_diff_per_state_and_writes_nothing(published, runner, openstates) -> None:  # noqa: ANN001
    openstates.publish("ky.csv", as_csv(changed_ky()))
    openstates.publish("tx.csv", as_csv(changed_tx()))
    before = snapshot(published)
    result = runner.invoke(args=["refresh-states", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:] == [*DIFF, "Dry run: nothing was changed."]
    assert snapshot(published) == before and refreshes(published) == []


def test_an_unchanged_upstream_changes_nothing_and_keeps_the_governors_and_term_dates(published, runner) -> None:  # noqa: ANN001
    before = snapshot(published)
    result = runner.invoke(args=["refresh-states"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "Unchanged: the data loaded is already this."
    assert snapshot(published) == before
    assert refreshes(published) == [("states", "cli", "refresh", "unchanged")]


def _with_extra_senator(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    extra = next(dict(r) for r in rows if r["current_chamber"] == "upper")
    return [*rows, {**extra, "id": f"ocd-person/{NEWCOMER}", "name": "Second Holder"}]


BAD = {
    "a cut file": (
        lambda: shipped("KY")[:20],
        "refused",
        "KY: the legislators would drop from 138 to 20 (86%, more than DATA_REFRESH_MAX_DROP=20%)",
    ),
    "a senator too many": (
        lambda: _with_extra_senator(shipped("KY")),
        "refused",
        "KY: 39 state senate members for 38 seats",
    ),
    "a row without a name": (
        lambda: [{**r, "name": " "} if n == 3 else r for n, r in enumerate(shipped("KY"))],
        "refused",
        "ky.csv: line 5: id or name is missing",
    ),
    "an unknown chamber": (
        lambda: [{**r, "current_chamber": "house"} if n == 0 else r for n, r in enumerate(shipped("KY"))],
        "refused",
        "ky.csv: line 2: role 'chamber house' is not one of",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_state_file_is_refused_changes_nothing_and_says_why(published, runner, openstates, case) -> None:  # noqa: ANN001
    make, outcome, reason = BAD[case]
    openstates.publish("ky.csv", as_csv(make()))
    before = snapshot(published)
    result = runner.invoke(args=["refresh-states"])
    assert result.exit_code == 1, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error: ") and "nothing was changed" in last and reason in result.output
    assert snapshot(published) == before
    assert refreshes(published) == [("states", "cli", "refresh", outcome)]


def test_force_applies_a_drop_but_never_a_row_that_does_not_read(published, runner, openstates) -> None:  # noqa: ANN001
    openstates.publish("ky.csv", as_csv(shipped("KY")[:20]))
    forced = runner.invoke(args=["refresh-states", "--force"])
    assert forced.exit_code == 0, forced.output
    with published.db.session() as session:
        kentucky = session.scalars(select(StateOfficial.role).where(StateOfficial.state == "KY")).all()
    assert sorted(set(kentucky)) == ["attorney-general", "governor", "mayor", "state-lower"]  # 20 reps; no senate
    assert sum(1 for role in kentucky if role.startswith("state-")) == 20
    openstates.publish("ky.csv", as_csv([{**r, "name": ""} for r in shipped("KY")]))
    assert runner.invoke(args=["refresh-states", "--force"]).exit_code == 1


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("500", "ky.csv: HTTP 500 Internal Server Error (nothing was changed)"),
        ("429", "ky.csv: rate limited (HTTP 429; the server asks to wait 60 s); try again later"),
        ("timeout", "ky.csv: no answer within 0.5 s (timeout) (nothing was changed)"),
    ],
)
def test_an_upstream_that_fails_changes_nothing_and_names_the_url(
    published, runner, openstates, answer, reason
) -> None:  # noqa: ANN001
    openstates.publish("ma.csv", as_csv([r for r in shipped("MA") if r["name"] != "Jo Comerford"]))
    if answer == "timeout":
        openstates.stall("ky.csv")
    else:
        openstates.fail("ky.csv", int(answer), **({"Retry-After": "60"} if answer == "429" else {}))
    before = snapshot(published)
    result = runner.invoke(args=["refresh-states"])
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines()[-1].startswith(f"Error: {openstates.url}ky.csv: ")
    assert reason in result.output
    assert snapshot(published) == before  # MA's change, fetched before, is not applied either
    assert refreshes(published) == [("states", "cli", "refresh", "failed")]
    status = runner.invoke(args=["data-status"]).output
    assert "State officials: Last refresh: refresh failed " in status and "  The data is as it was before it." in status
    assert "The last refresh of the state officials (cli, " in status and "failed and changed nothing: " in status


def test_a_directory_of_open_states_csvs_refreshes_the_legislators_of_those_states_only(
    published, runner, tmp_path
) -> None:  # noqa: ANN001
    (tmp_path / "ky.csv").write_text(as_csv(changed_ky()), encoding="utf-8")
    (tmp_path / "notes.csv").write_text("not a state\n", encoding="utf-8")  # not <st>.csv: not read
    before = snapshot(published)["officials"]
    result = runner.invoke(args=["refresh-states", "--source", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].startswith("New data: 138 officials, legislators of KY (governors, ")
    after = snapshot(published)["officials"]
    assert {k for k in before.keys() ^ after.keys()} == {
        f"{NEWCOMER}:state-upper",
        next(k for k, v in before.items() if v[0] == "Jimmy Higdon"),
    }
    assert sum(1 for k in after if before.get(k) != after[k]) == 2  # the newcomer and Candy Massaroni's phone


def test_a_complete_source_refreshes_every_role_and_a_state_missing_from_it_is_refused(
    published, runner, tmp_path
) -> None:  # noqa: ANN001
    with states.OFFICIALS_CSV.open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["state"] in STATES]
    for row in rows:
        if row["role"] == "governor" and row["state"] == "KY":
            row["phone"] = "502-564-2699"
    path = tmp_path / "state-officials.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, states.OFFICIAL_COLUMNS)
        writer.writeheader()
        writer.writerows(r for r in rows if r["state"] != "NE")
    refused = runner.invoke(args=["refresh-states", "--source", str(tmp_path)])
    assert refused.exit_code == 1 and "NE: the legislators would drop from 49 to 0 (100%" in refused.output
    with path.open("a", newline="", encoding="utf-8") as fh:
        csv.DictWriter(fh, states.OFFICIAL_COLUMNS).writerows(r for r in rows if r["state"] == "NE")
    result = runner.invoke(args=["refresh-states", "--source", str(path)])
    assert result.exit_code == 0, result.output
    assert "New data: 1,018 officials, every role." in result.output
    assert "    changed: Gov. Andy Beshear: phone +15025642611 -> +15025642699" in result.output


def test_the_daily_state_job_is_off_by_default_and_runs_with_state_data_refresh_daily(
    published, redis, runner, openstates
) -> None:  # noqa: ANN001
    assert published.settings.state_data_refresh == "off"
    assert cron.STATE_REFRESH_JOB not in cron.schedule(published.settings)
    assert tasks.refresh_states() == {} and openstates.requests == []
    tune(published, state_data_refresh="daily")
    assert cron.STATE_REFRESH_JOB in cron.schedule(published.settings)
    openstates.publish("ky.csv", as_csv(changed_ky()))
    assert tasks.refresh_states() == {"applied": 1, "added": 1, "removed": 1, "changed": 1}
    assert tasks.refresh_states() == {}  # ran less than a day ago
    assert tasks.refresh_congress() == {}  # Congress's job has its own setting and log
    assert refreshes(published) == [("states", "cron", "refresh", "applied")]
    with published.db.session() as session:
        assert state_refresh.last_undoable(session) is not None
        assert refresh.last_undoable(session) is None and refresh.due(session)


def test_state_refresh_settings() -> None:
    base = {"DATABASE_URL": "sqlite://"}
    found = Settings.from_mapping(base)
    assert (found.state_data_refresh, found.state_data_url) == ("off", "https://data.openstates.org/people/current/")
    assert Settings.from_mapping({**base, "STATE_DATA_REFRESH": "Daily"}).state_data_refresh == "daily"
    for key, value, message in (
        ("STATE_DATA_REFRESH", "weekly", "STATE_DATA_REFRESH must be off or daily"),
        ("STATE_DATA_URL", "file:///x", "STATE_DATA_URL must start with http"),
    ):
        with pytest.raises(ConfigError, match=message):
            Settings.from_mapping({**base, key: value})


def test_an_open_states_checkout_is_read_like_the_import_and_a_state_it_lacks_is_refused(
    published, runner, tmp_path
) -> None:  # noqa: ANN001
    people = tmp_path / "data" / "ne" / "legislature"
    people.mkdir(parents=True)
    for row in shipped("NE"):
        person = {
            "id": row["id"],
            "name": row["name"],
            "party": [{"name": row["current_party"]}],
            "roles": [{"type": "legislature", "district": row["current_district"]}],
            "offices": [{"classification": "capitol", "voice": row["capitol_voice"]}],
        }
        (people / f"{row['id'].removeprefix('ocd-person/')}.yml").write_text(yaml.safe_dump(person), encoding="utf-8")
    before = snapshot(published)
    result = runner.invoke(args=["refresh-states", "--source", str(tmp_path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "New data: 49 officials, every role." in result.output
    refused = result.output.splitlines()[-1]
    assert refused.startswith("Dry run: nothing was changed. It would be refused: ")
    for state, loaded in (("KY", 138), ("MA", 198), ("NH", 415), ("TX", 181)):
        assert f"{state}: the legislators would drop from {loaded} to 0 (100%" in refused
    assert "NE: the legislators" not in refused  # all 49 are in the checkout
    assert snapshot(published) == before and refreshes(published) == []
