"""State target kinds: single-district and split ZIPs in KY, MA, NH, NE, TX; the texter asked; kinds refused."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from sms.calls.models import CallSession
from sms.errors import CatalogueError
from sms.messaging import catalogue, subscribers
from sms.store import Demand
from sms.targets import kinds, targeting
from sms.targets.lookup import Target
from tests.support.calls import tune


def labels(svc, targets: str, zip_code: str, upper: str | None = None, lower: str | None = None) -> list[str]:  # noqa: ANN001
    with svc.db.session() as session:
        found = targeting.for_demand(session, targets, (), targeting.Where(zip_code, None, [], upper, lower))
    return [t.label for t in found]


@pytest.mark.parametrize(("zip_code", "expected"), [
    ("40004", ["State Sen. Jimmy Higdon", "State Rep. Candy Massaroni"]),
    ("01003", ["State Sen. Jo Comerford", "State Rep. Mindy Domb"]),
    ("03032", ["State Sen. Sharon Carson", "State Rep. Jim Spillane", "State Rep. Jason Osborne",
               "State Rep. Kevin Verville"]),  # a multi-member district: all its members
    ("68001", ["State Sen. Jared Storm"]),  # Nebraska's one chamber
    ("75020", ["State Sen. Brent Hagenbuch", "State Rep. Shelley Luther"]),
])
def test_a_single_district_zip_calls_its_state_legislators(states_db, zip_code, expected) -> None:  # noqa: ANN001
    assert labels(states_db, "state", zip_code) == expected


def test_split_zips_give_every_candidate_until_a_district_is_known(states_db) -> None:  # noqa: ANN001
    assert labels(states_db, "state-upper", "40601") == [  # KY senate 7, 12, 20
        "State Sen. Aaron Reed", "State Sen. Amanda Bledsoe", "State Sen. Gex Williams"]
    assert labels(states_db, "state-upper", "40601", upper="7") == ["State Sen. Aaron Reed"]
    assert len(labels(states_db, "state-upper", "68508")) == 3  # NE 27, 28, 46
    assert len(labels(states_db, "state-lower", "78701")) == 2  # TX house 49, 51
    assert len(labels(states_db, "state-lower", "02139")) == 4  # MA house: 4 districts
    with states_db.db.session() as session:
        where = targeting.Where("03301")
        assert targeting.split_kinds(session, "state", (), where) == ["state-upper", "state-lower"]
        assert targeting.split_kinds(session, "state", (), targeting.Where("75020")) == []


def test_statewide_kinds_and_levels_in_the_organizers_order(states_db) -> None:  # noqa: ANN001
    assert labels(states_db, "governor,attorney-general", "40004") == ["Gov. Andy Beshear",
                                                                        "Atty. Gen. Russell Coleman"]
    with states_db.db.session() as session:
        seats = [("TX", 37)]
        found = targeting.for_demand(session, "state-lower,senate,governor", (),
                                     targeting.Where("78701", "TX", seats, None, "49"))
    assert found[0].label == "State Rep. Gina Hinojosa"
    assert [t.kind for t in found] == ["state-lower", "senate", "senate", "governor"]
    assert found[-1].label == "Gov. Greg Abbott" and found[-1].spoken == "Governor Greg Abbott"
    assert labels(states_db, "mayor", "40202") == []  # no city known for the ZIP: nobody, not a guess


def test_kinds_are_checked_naming_the_demand_the_value_and_the_kinds() -> None:
    assert kinds.parse("state") == ("state-upper", "state-lower")
    assert kinds.parse(["governor", "congress", "custom:da"], ["senate", "house"]) == (
        "governor", "senate", "house", "custom:da")
    assert kinds.stored(kinds.parse("congress")) == ("congress", ["house", "senate"])
    assert kinds.stored(kinds.parse("state,house")) == ("state-upper,state-lower,house",
                                                        ["state-upper", "state-lower", "house"])
    with pytest.raises(CatalogueError) as refused:
        kinds.parse("states", where="demands CHOKEHOLD")
    assert str(refused.value) == ("demands CHOKEHOLD: targets 'states' is not a target kind; the kinds are congress, "
                                  "house, senate, state, state-upper, state-lower, governor, attorney-general, "
                                  "mayor, custom:<set>")


def test_an_unknown_kind_in_the_yaml_is_refused(catalogue_data) -> None:  # noqa: ANN001
    import copy

    data = copy.deepcopy(catalogue_data)
    data["demands"][0]["targets"] = "statehouse"
    with pytest.raises(CatalogueError, match=r"demands \w+: targets 'statehouse' is not a target kind; the kinds "
                                             r"are congress, house"):
        catalogue.validate(data)
    data["demands"][0]["targets"] = ["state", "congress"]
    catalogue.validate(data)


def _set_targets(svc, keyword: str, value: str) -> None:  # noqa: ANN001
    with svc.db.session() as session:
        demand = session.get(Demand, keyword)
        demand.targets, demand.target_order = kinds.stored(kinds.parse(value))
        catalogue.bump_version(session)
        session.commit()


def _called(svc) -> list[str]:  # noqa: ANN001
    with svc.db.session() as session:
        call = session.scalars(select(CallSession).order_by(CallSession.id.desc())).first()
        return [Target.of(t).label for t in call.targets]


@pytest.mark.parametrize(("answer", "expected"), [("1", 1), ("ALL", 3)])
def test_a_split_state_zip_asks_which_legislator_and_remembers_it(states_db, phone, answer, expected) -> None:  # noqa: ANN001
    _set_targets(states_db, "CHOKEHOLD", "state-upper")
    phone.text("ZIP 40601")
    question = phone.text("CALL CHOKEHOLD")[0]
    assert question.startswith("ZIP 40601 spans 3 state senate districts. Who is your state senator? Reply 1 ")
    assert question.endswith(", or ALL to call every one.")
    replies = phone.text(answer)
    assert replies[0].startswith("Calling you now to connect you with State Sen.")
    assert len(_called(states_db)) == expected
    with states_db.db.session() as session:
        assert (subscribers.find(session, phone.number).state_upper is not None) == (answer == "1")


def test_a_spanish_texter_is_asked_the_state_district_question_in_spanish(states_db, phone) -> None:  # noqa: ANN001
    _set_targets(states_db, "CHOKEHOLD", "state-upper")
    phone.text("ESPAÑOL")
    phone.text("CP 40601")
    question = phone.text("LLAMAR CHOKEHOLD")[0]
    assert question.startswith("El código postal 40601 abarca 3 distritos (Senado estatal). "
                               "¿Quién es tu senador(a) estatal? Responde 1 ")
    assert question.endswith(", o TODOS para llamar a cada uno.")
    assert phone.text("9")[0] == "Responde 1-3 para tu senador(a) estatal, o TODOS para llamar a cada uno."
    phone.text("TODOS")
    assert len(_called(states_db)) == 3


def test_call_all_calls_every_state_candidate_without_asking(states_db, phone) -> None:  # noqa: ANN001
    tune(states_db, call_split_state_districts="all")
    _set_targets(states_db, "CHOKEHOLD", "state-lower,governor")
    phone.text("ZIP 78701")
    assert phone.text("CALL CHOKEHOLD")[0].startswith("Calling you now to connect you with State Rep.")
    called = _called(states_db)
    assert len(called) == 3 and called[-1] == "Gov. Greg Abbott"


def test_a_single_district_state_zip_asks_only_the_house_question(states_db, phone) -> None:  # noqa: ANN001
    _set_targets(states_db, "CHOKEHOLD", "state,congress")
    phone.text("ZIP 40004")
    assert phone.text("CALL CHOKEHOLD")[0].startswith("ZIP 40004 spans 2 districts. Who is your Rep?")
    reply = phone.text("1")[0]
    assert reply.startswith("Calling you now to connect you with State Sen. Jimmy Higdon, State Rep. Candy "
                            "Massaroni, Rep. Brett Guthrie, Sen.")


def test_a_custom_set_can_call_some_always_and_k_at_random(states_db) -> None:  # noqa: ANN001
    from sms.targets.models import CustomTarget, CustomTargetSet

    with states_db.db.session() as session:
        session.add(CustomTargetSet(name="council", title="The council", pick=1))
        for i in range(4):
            session.add(CustomTarget(set_name="council", position=i, name=f"Member {i}", phone=f"+1502555010{i}",
                                     always=i == 0))
        session.commit()
        picks = {tuple(t.name for t in targeting.custom(session, "council", targeting.Where(), random.Random(seed)))
                 for seed in range(20)}
    assert all(p[0] == "Member 0" and len(p) == 2 for p in picks)
    assert len({p[1] for p in picks}) > 1


def test_each_level_keeps_its_office_hours_and_state_capitols_their_own_zone(svc) -> None:  # noqa: ANN001
    from datetime import UTC, datetime

    from sms.calls import office_hours

    tune(svc, call_office_hours={"congress": (9, 17, "America/New_York")})
    with svc.db.session() as session:
        schedule = office_hours.schedule_of(session, svc.settings, "house,state-upper,mayor")
    rep = Target("house", "P000617", "Rep.", "Ayanna Pressley", "+12022255111", "MA", 7)
    austin = Target("state-upper", "x:state-upper", "State Sen.", "A", "+15124630101", "TX", None, "14")
    boise = Target("state-lower", "y:state-lower", "State Rep.", "B", "+12083321000", "ID", None, "8")
    mayor = Target("mayor", "z:mayor", "Mayor", "C", "+15125550100", "TX")
    assert schedule.of(rep) == (9, 17, "America/New_York")
    assert schedule.of(austin) == (9, 17, "America/Chicago")
    assert schedule.of(boise) == (9, 17, "America/Boise")  # Idaho's capitol is Mountain, not Pacific
    assert schedule.of(mayor) == (9, 17, "America/Chicago")
    at_9_30_eastern = datetime(2026, 12, 2, 14, 30, tzinfo=UTC)  # a Wednesday: 8:30 in Austin
    assert office_hours.is_open(schedule.of(rep), at_9_30_eastern)
    assert not office_hours.is_open(schedule.of(austin), at_9_30_eastern)
    tune(svc, call_office_hours={"congress": (9, 17, "America/New_York"), "state": (8, 12, "America/New_York")})
    with svc.db.session() as session:
        schedule = office_hours.schedule_of(session, svc.settings, "state")
    assert schedule.of(austin) == (8, 12, "America/Chicago")  # the state entry, in the capitol's zone


def test_stances_screen_state_officials_by_their_open_states_id(states_db, tmp_path) -> None:  # noqa: ANN001
    from sms.calls import stances

    path = tmp_path / "stances.csv"
    path.write_text("bioguide_id,demand,stance\nocd-person/e46eb488-2e34-4f33-840f-917496473c64,CHOKEHOLD,supports\n")
    with states_db.db.session() as session:
        rows = stances.read(path, {"CHOKEHOLD"})
        assert rows == [("e46eb488-2e34-4f33-840f-917496473c64", "CHOKEHOLD", "supports")]
        stances.import_rows(session, rows)
        reed = targeting.for_demand(session, "state-upper", (), targeting.Where("40601", None, [], "7"))
        assert [t.member for t in reed] == ["e46eb488-2e34-4f33-840f-917496473c64"]
        stances.set_policy(session, "CHOKEHOLD", "thank")
        assert stances.screen(session, "CHOKEHOLD", reed).thanked == {"e46eb488-2e34-4f33-840f-917496473c64"}
        stances.set_policy(session, "CHOKEHOLD", "skip")
        skipped = stances.screen(session, "CHOKEHOLD", reed)
        assert skipped.targets == [] and skipped.notes == ["skipping State Sen. Aaron Reed: already supports CHOKEHOLD"]
