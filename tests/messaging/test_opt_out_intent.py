"""The opt-out matcher on its own: the labelled corpus, the issue's examples, and the rules file's checks."""

from __future__ import annotations

import copy
import csv
from pathlib import Path

import pytest
import yaml

from sms.errors import OptOutRulesError
from sms.messaging import catalogue, intent

CORPUS = Path(__file__).resolve().parent.parent / "data" / "opt_out_corpus.csv"
RULES = yaml.safe_load(intent.DEFAULT_PATH.read_text(encoding="utf-8"))
CAUSES = catalogue.from_data(catalogue.load_yaml()).causes


def corpus() -> list[dict[str, str]]:
    with CORPUS.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def verdict(text: str) -> intent.Verdict:
    return intent.classify(text, CAUSES)


def test_the_corpus_is_large_labelled_and_has_no_repeats():
    rows = corpus()
    assert len(rows) >= 400
    assert {row["label"] for row in rows} == set(intent.OUTCOMES)
    texts = [row["text"] for row in rows]
    assert len(texts) == len(set(texts))
    assert min(sum(row["label"] == label for row in rows) for label in intent.OUTCOMES) >= 50


def test_every_opt_out_in_the_corpus_opts_out():
    missed = [(row["text"], verdict(row["text"])) for row in corpus() if row["label"] == intent.OPT_OUT
              and not verdict(row["text"]).opt_out]
    assert missed == []


def test_at_most_one_percent_of_the_texts_that_are_not_opt_outs_opt_out():
    rows = [row for row in corpus() if row["label"] == intent.NOT]
    false = [(row["text"], verdict(row["text"]).rule) for row in rows if verdict(row["text"]).opt_out]
    assert len(false) <= len(rows) // 100, false


@pytest.mark.parametrize(("text", "outcome"), [
    ("stop texting me", intent.OPT_OUT),
    ("unsubscribe me please", intent.OPT_OUT),
    ("remove me", intent.OPT_OUT),
    ("no more texts", intent.OPT_OUT),
    ("take me off your list", intent.OPT_OUT),
    ("please remove me from this list", intent.OPT_OUT),
    ("don't text me again", intent.OPT_OUT),
    ("wrong number", intent.OPT_OUT),
    ("no más mensajes", intent.OPT_OUT),
    ("ya no me manden", intent.OPT_OUT),
    ("BAJA", intent.OPT_OUT),
    ("PARAR", intent.OPT_OUT),
    ("ALTO", intent.OPT_OUT),
    ("CANCELAR", intent.OPT_OUT),
    ("STOPPP", intent.OPT_OUT),
    ("s t o p", intent.OPT_OUT),
    ("Stop 🛑", intent.OPT_OUT),
    ("please stop police violence", intent.NOT),
    ("end qualified immunity", intent.NOT),
    ("stop the 1033 program", intent.NOT),
    ("cancel call", intent.NOT),
    ("CANCELCALL", intent.NOT),
    ("END NO KNOCK WARRANTS", intent.NOT),
    ("Liked \u201cReply STOP to opt out\u201d", intent.NOT),
    ("who is this?", intent.UNCLEAR),
])
def test_the_issues_examples(text, outcome):
    assert verdict(text).outcome == outcome


def test_demand_keywords_and_aliases_are_the_cause():
    assert intent.classify("END NO KNOCK WARRANTS", CAUSES).rule == "cause:end"
    assert intent.classify("end breonnaslaw now", CAUSES).outcome == intent.NOT  # an alias, run together
    assert intent.classify("end breonnaslaw now", ()).outcome == intent.UNCLEAR  # without the catalogue: unclear


def test_the_rule_names_the_phrase_that_matched():
    assert verdict("stop texting me").rule == "phrase:{stop} {send} {me}"
    assert verdict("STOP").rule == "keyword:stop"
    assert verdict("I have told you twice already stop").rule == "last-word:stop"
    assert verdict("STOP you people are relentless").rule == "first-word:stop"


def test_every_demand_and_campaign_keyword_still_reaches_its_demand():
    shipped = catalogue.from_data(catalogue.load_yaml())
    opt_outs = [key for key in shipped.index if verdict(key).opt_out]
    assert opt_outs == []


def test_the_carrier_and_spanish_stop_words_are_reserved_in_the_catalogue():
    words = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE", "BAJA", "PARAR", "ALTO",
             "CANCELAR"}
    assert words <= catalogue.RESERVED_WORDS
    assert all(verdict(word).opt_out for word in words)


@pytest.mark.parametrize(("typed", "key"), [("Émpathy", "EMPATHY"), ("NO MÁS", "NOMAS"), ("ｓｔｏｐ", "STOP")])
def test_keyword_key_folds_accents_like_the_matcher(typed, key):
    assert catalogue.keyword_key(typed) == key


def test_squeeze_collapses_letters_not_digits():
    assert catalogue.squeeze("STOPPPP") == "STOP"
    assert catalogue.squeeze("1033") == "1033"


def broken(section: str, value: object) -> dict:
    data = copy.deepcopy(RULES)
    data[section] = value
    return data


@pytest.mark.parametrize(("data", "named"), [
    (broken("opt_out", ["stop {sned} me"]), "opt_out[0] 'stop {sned} me': unknown group {sned}"),
    (broken("opt_out", ["stop ..."]), "cannot start or end with ..."),
    (broken("keep", ["stop [by"]), "keep[0]"),
    (broken("keep", ["[please] [now]"]), "needs a word that is not optional"),
    (broken("unclear", ["who $ is"]), "^ and $ may only start and end"),
    (broken("keywords", ["stop please"]), "keywords[0] 'stop please' contains filler please"),
    (broken("causes", ["police", "<b>"]), "causes[1] '<b>' may only hold letters"),
    (broken("filler", []), "filler must be a non-empty list"),
    (broken("final", ["stop", "never"]), "final words must be weak words too: never"),
    (broken("keywords", [True]), "keywords[0] must be a word or phrase, not True"),
    ({**RULES, "stopwords": ["x"]}, "unknown section 'stopwords'"),
    (["stop"], "must be a mapping"),
])
def test_a_bad_rules_file_names_the_bad_entry(data, named):
    with pytest.raises(OptOutRulesError) as caught:
        intent.compile_rules(data)
    assert named in str(caught.value)


def test_an_unreadable_rules_file_is_a_rules_error(tmp_path):
    path = tmp_path / "opt_out.yaml"
    path.write_text("keywords: [stop\n", encoding="utf-8")
    with pytest.raises(OptOutRulesError, match="cannot read opt_out.yaml"):
        intent.load(path)


@pytest.mark.parametrize("text", ["stop" * 400, "stoptexting" * 145, "no" * 800, "stop the " * 177,
                                  "we stop madness " * 100])
def test_a_hostile_long_text_is_read_within_twilios_timeout(text):
    """Catastrophic backtracking would take far longer than Twilio's 15 s webhook timeout; how fast the
    matcher reads these texts is measured by benchmarks/bench_intent.py, not asserted here."""
    import time

    started = time.perf_counter()
    assert verdict(text[:1600]).outcome in intent.OUTCOMES
    assert time.perf_counter() - started < 15.0


def test_the_shipped_rules_load():
    rules = intent.load()
    assert "stop" in rules.keywords and "stop" in rules.weak
