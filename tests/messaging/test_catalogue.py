"""The catalogue: every demand and campaign, their keywords, and the SMS limits of every text."""

from __future__ import annotations

import copy

import pytest
import yaml

from sms.messaging import catalogue, encoding
from sms.messaging.catalogue import CatalogueError, keyword_key

DATA = catalogue.load_yaml()
DEMANDS = DATA["demands"]
CAMPAIGNS = DATA["campaigns"]
REQUIRED_KEYWORDS = [
    "UNIONS", "IMMUNITY", "DECREES", "DATABASE", "1033", "INSURRECTION",
    "FORCE", "CHOKEHOLD", "NOKNOCK", "MENTALHEALTH", "DEFUND", "DECRIMINALIZE",
]
ALL_TEXTS = (
    [(f"demand {d['keyword']}", d["reply"]) for d in DEMANDS]
    + [(f"campaign {c['keyword']}", c["reply"]) for c in CAMPAIGNS]
    + [(f"messages.{k}", v) for k, v in DATA["messages"].items()]
)


def test_catalogue_has_the_seed_areas_demands_and_campaigns():
    assert [a["number"] for a in DATA["areas"]] == [1, 2, 3, 4]
    assert [str(d["keyword"]) for d in DEMANDS] == REQUIRED_KEYWORDS
    names = " ".join(c["name"] for c in CAMPAIGNS)
    assert len(CAMPAIGNS) == 6
    for expected in ("Movement for Black Lives", "Campaign Zero", "Use of Force Project", "NAACP", "Petition",
                     "Prosecutor Project"):
        assert expected.lower() in names.lower()


@pytest.mark.parametrize(("where", "text"), ALL_TEXTS, ids=[w for w, _ in ALL_TEXTS])
def test_every_text_fits_two_gsm7_segments(where, text):
    filled = text.replace("{org}", "Action Line Organizing Committee").replace("{title}", "x" * 45)
    filled = filled.replace("{keyword}", "DECRIMINALIZE")
    info = encoding.count(filled)
    assert info.encoding == "GSM-7", f"{where} would be sent as UCS-2"
    assert info.segments <= 2, f"{where} needs {info.segments} segments"


@pytest.mark.parametrize("demand", DEMANDS, ids=[str(d["keyword"]) for d in DEMANDS])
def test_each_demand_has_an_ask_a_target_a_script_and_a_call_to_action(demand):
    assert demand["ask"].strip()
    assert demand["targets"] == "congress" or demand["targets"].startswith("custom:")
    assert "{target}" in demand["script"]
    assert demand["reply"].rstrip().endswith(".") and "Reply CALL" in demand["reply"]


def test_the_seed_asks_are_the_concrete_ones():
    asks = {str(d["keyword"]): d["ask"] for d in DEMANDS}
    assert "HR 1154" in asks["UNIONS"]
    assert "PEACE Act" in asks["FORCE"]
    assert "Breonna" in asks["NOKNOCK"]
    assert "1033" in asks["1033"]


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("chokehold", "CHOKEHOLD"),
        (" Choke hold!", "CHOKEHOLD"),
        ("ＣＨＯＫＥＨＯＬＤ", "CHOKEHOLD"),  # full-width letters
        ("choke\u200bhold", "CHOKEHOLD"),  # zero-width space
        ("No-Knock", "NOKNOCK"),
        ("no knock.", "NOKNOCK"),
        ("\u201cDefund\u201d", "DEFUND"),
        ("1033?", "1033"),
    ],
)
def test_keyword_key_ignores_case_space_punctuation_and_lookalikes(typed, key):
    assert keyword_key(typed) == key


def test_reserved_word_as_alias_is_refused():
    data = copy.deepcopy(DATA)
    data["demands"][0]["aliases"] = ["STOP"]
    with pytest.raises(CatalogueError, match="reserved"):
        catalogue.validate(data)


def test_duplicate_alias_names_both_places():
    data = copy.deepcopy(DATA)
    data["demands"][0]["aliases"] = ["CHOKE HOLD"]
    with pytest.raises(CatalogueError, match="demands CHOKEHOLD: .CHOKEHOLD. is already used by demands UNIONS"):
        catalogue.validate(data)


def test_over_long_reply_is_refused_with_its_segment_count():
    data = copy.deepcopy(DATA)
    data["demands"][1]["reply"] = "x" * 307
    with pytest.raises(CatalogueError, match="IMMUNITY reply needs 3 SMS segments"):
        catalogue.validate(data)


def test_missing_field_is_named():
    data = copy.deepcopy(DATA)
    del data["demands"][2]["script"]
    with pytest.raises(CatalogueError, match="DECREES: 'script' is missing"):
        catalogue.validate(data)


def test_unreadable_yaml_is_a_catalogue_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("areas: [\n")
    with pytest.raises(CatalogueError, match="cannot read catalogue"):
        catalogue.load_yaml(bad)


def test_import_is_idempotent_and_edits_are_seen(svc):
    with svc.db.session() as session:
        again = catalogue.import_catalogue(session, DATA)
        assert (again.added, again.changed) == (0, 0)
        before = catalogue.current(session)
        edited = copy.deepcopy(DATA)
        edited["demands"][7]["reply"] = "Ban chokeholds now. Reply CALL to be connected to Congress."
        summary = catalogue.import_catalogue(session, edited)
        assert summary.changed == 1
        after = catalogue.current(session)
    assert after.version != before.version
    assert after.demand("chokehold").reply.startswith("Ban chokeholds now.")


def test_shipped_yaml_round_trips():
    text = catalogue.DEFAULT_PATH.read_text(encoding="utf-8")
    assert yaml.safe_load(text) == DATA


def test_the_seed_places_baji_and_the_m4bl_platform_under_decriminalize():
    decrim = next(d for d in DEMANDS if d["keyword"] == "DECRIMINALIZE")
    assert "M4BL's platform" in decrim["reply"] and "BAJI's report on Black immigrants" in decrim["reply"]
    assert "BAJI" in decrim["aliases"]
    assert {"Black Alliance for Just Immigration", "State of Black Immigrants", "M4BL platform"} <= \
        set(decrim["mentions"])


def test_unions_is_a_house_bill():
    unions = next(d for d in DEMANDS if d["keyword"] == "UNIONS")
    assert unions["target_order"] == ["house"] and "Senat" not in unions["reply"]


@pytest.mark.parametrize("demand", DEMANDS, ids=[str(d["keyword"]) for d in DEMANDS])
def test_where_the_seed_names_no_body_calling_congress_is_the_organizers_choice(demand):
    """Consent decrees, mental-health funding and decriminalisation: the seed says what, not who."""
    chosen = str(demand["keyword"]) in ("DECREES", "MENTALHEALTH", "DECRIMINALIZE")
    assert demand["target_source"] == ("organizer" if chosen else "seed")
    if chosen:
        assert "our organizers' choice" in demand["reply"]
        assert "Tell Congress" not in demand["reply"] and "Justice D" not in demand["reply"]
