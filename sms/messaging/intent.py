"""Is an inbound text an opt-out? Three answers from word lists and phrases, not a model.

``classify(text, causes)`` reads the rules of ``data/opt_out.yaml`` (loaded and checked once by
``rules()``; ``sms.features.install`` loads them at start-up) and returns a ``Verdict``:

    OPT_OUT  a STOP word alone, or wording whose meaning is "stop messaging me"
    NOT      anything else, a STOP word about the cause included ("end qualified immunity")
    UNCLEAR  a STOP word we cannot place, or an unhappy texter: a person should read it

A text is folded the way keywords are (``catalogue.fold``, ``catalogue.squeeze``: case, accents,
emoji, "STOPPP"), spelled-out letters are joined ("s t o p"), run-together words are split
("stoptextingme"), and it is read clause by clause, in this order:

1. a tapback quoting one of our texts ('Liked "Reply STOP..."') is NOT;
2. "keep" phrases are masked ("don't stop texting me", "at the end of the day");
3. a clause that is only a keyword and filler ("please STOP!!", "ALTO") is OPT_OUT;
4. an opt-out phrase ("stop texting me", "no más mensajes") or a strong word ("unsubscribe") is OPT_OUT;
5. a weak word ("stop", "end", "cancel") is about the cause when a cause word, demand keyword or
   alias (``causes``) follows it or came before it in its clause ("stop police violence", "END NO
   KNOCK WARRANTS", "police violence must end"); about something else next to "call" ("cancel
   call"); OPT_OUT when it opens a clause or ends the message ("STOP you people are relentless",
   "...I never asked for this STOP") unless the cause was named; and UNCLEAR otherwise;
6. an unclear phrase ("who is this?", a threat) is UNCLEAR; anything else is NOT.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sms import defaults
from sms.errors import OptOutRulesError
from sms.messaging.catalogue import fold, squeeze

DEFAULT_PATH = defaults.DATA_DIR / "opt_out.yaml"
OPT_OUT, UNCLEAR, NOT = "opt-out", "unclear", "not"
OUTCOMES = (OPT_OUT, NOT, UNCLEAR)
WORD_LISTS = ("keywords", "filler", "strong", "weak", "final", "causes", "others", "reactions")
PHRASE_LISTS = ("opt_out", "keep", "unclear")
GAP = 3
"""Words a ``...`` in a phrase may stand for."""
WINDOW = 4
"""Words after a weak word searched for the cause ("stop the use of no knock warrants")."""
MASK = "~"
LONGEST_SPLIT = 30
"""Run-together words longer than this are not split: "stopstopstop..." must not cost a request its time."""

_SPELLED = re.compile(r"(?<![a-z0-9])(?:[a-z][ .\-_*]{1,2}){2,}[a-z](?![a-z0-9])")
_CLAUSE = re.compile(r"[.!?;:,()\[\]]+|\s-+\s")
_WORD = re.compile(r"[a-z0-9]+")
_ENTRY = re.compile(r"[a-z0-9]+( [a-z0-9]+)*")


@dataclass(frozen=True)
class Verdict:
    """What a text means for consent, and the rule that said so (kept in the consent history)."""

    outcome: str
    rule: str = ""

    @property
    def opt_out(self) -> bool:
        return self.outcome == OPT_OUT

    @property
    def unclear(self) -> bool:
        return self.outcome == UNCLEAR


@dataclass(frozen=True)
class Phrase:
    source: str
    regex: re.Pattern[str]


@dataclass(frozen=True)
class Rules:
    """The compiled ``data/opt_out.yaml``."""

    keywords: frozenset[str]
    strong: frozenset[str]
    weak: frozenset[str]
    final: frozenset[str]
    causes: frozenset[str]
    others: frozenset[str]
    vocabulary: frozenset[str]
    heads: tuple[str, ...]
    symbols: tuple[tuple[str, str], ...]
    filler: re.Pattern[str]
    reaction: re.Pattern[str]
    phrases: dict[str, tuple[Phrase, ...]]
    any_phrase: dict[str, re.Pattern[str]]

    def classify(self, text: str, causes: Collection[str] = ()) -> Verdict:
        """The verdict on ``text``; ``causes`` are the catalogue's keys (``Catalogue.causes``)."""
        if self.reaction.match(fold(text)):
            return Verdict(NOT, "reaction")
        plain = self.clauses(text)
        clauses = [self._mask(clause) for clause in plain]
        for clause in clauses:
            keyword = self._keyword(clause)
            if keyword:
                return Verdict(OPT_OUT, f"keyword:{keyword}")
        for clause in clauses:
            phrase = self._phrase("opt_out", clause)
            if phrase:
                return Verdict(OPT_OUT, f"phrase:{phrase}")
            word = next((w for w in clause.split() if w in self.strong or self._near_strong(w)), None)
            if word:
                return Verdict(OPT_OUT, f"word:{word}")
        verdict = self._weak_words(clauses, causes)
        if verdict.outcome != NOT:
            return verdict
        for clause in plain:
            phrase = self._phrase("unclear", clause)
            if phrase:
                return Verdict(UNCLEAR, f"unclear:{phrase}")
        return verdict

    def clauses(self, text: str) -> list[str]:
        """The text as clauses of folded words, each padded with spaces: ``[" stop texting me "]``."""
        folded = fold(text.replace("\n", " . ")).replace("'", "")
        for symbol, word in self.symbols:
            if symbol in folded:
                folded = folded.replace(symbol, f" {word} ")
        folded = _SPELLED.sub(lambda m: re.sub(r"[^a-z]", "", m.group()), folded)
        out: list[list[str]] = []
        single = False
        for part in _CLAUSE.split(folded):
            words = [w for token in _WORD.findall(part) for w in self._canonical(token)]
            if len(words) == 1 and single:  # one word at a time is one clause: "END. THE. 1033. PROGRAM."
                out[-1] += words
            elif words:
                out.append(words)
            single = len(words) == 1 or single and not words
        return [f" {' '.join(words)} " for words in out]

    def _canonical(self, token: str) -> list[str]:
        word = squeeze(token)
        if word in self.vocabulary:
            return [word]
        if not word.isalpha() and not word.isdigit() and word.replace("0", "o") in self.vocabulary:
            return [word.replace("0", "o")]  # st0p
        if 5 <= len(token) <= LONGEST_SPLIT and word.startswith(self.heads):
            return self._split(token) or [word]
        return [word]

    def _split(self, token: str) -> list[str] | None:
        """``stoptextingme`` → stop texting me: vocabulary words only, the first a stop word."""

        def rest(start: int, depth: int) -> list[str] | None:
            if start == len(token):
                return []
            for end in range(len(token), start + 1, -1) if depth < 4 else ():
                piece = squeeze(token[start:end])
                if piece in self.vocabulary and len(piece) > 1:
                    tail = rest(end, depth + 1)
                    if tail is not None:
                        return [piece, *tail]
            return None

        for end in range(2, len(token)):
            head = squeeze(token[:end])
            if head in self.heads:
                tail = rest(end, 1)
                if tail:
                    return [head, *tail]
        return None

    def _mask(self, clause: str) -> str:
        """Replace every "keep" phrase in ``clause`` by a mark no other rule reads through."""
        if not self.any_phrase["keep"].search(clause):
            return clause
        for phrase in self.phrases["keep"]:
            while match := phrase.regex.search(clause):
                start = match.start() + (clause[match.start()] == " ")
                clause = f"{clause[:start]}{MASK} {clause[match.end():]}"
        return clause

    def _keyword(self, clause: str) -> str | None:
        words = self.filler.sub("", clause).split()
        words = [w for i, w in enumerate(words) if i == 0 or w != words[i - 1]]
        phrase = " ".join(words)
        return phrase if phrase in self.keywords else None

    def _phrase(self, kind: str, clause: str) -> str | None:
        if not self.any_phrase[kind].search(clause):
            return None
        return next(p.source for p in self.phrases[kind] if p.regex.search(clause))

    def _near_strong(self, word: str) -> bool:
        """One typo away from a long strong word ("unsubscirbe")."""
        return len(word) >= 8 and any(_one_edit(word, strong) for strong in self.strong if len(strong) >= 8)

    def _weak_words(self, clauses: list[str], causes: Collection[str]) -> Verdict:
        """Each weak word about the cause, about something else, an opening or final opt-out, or unclear."""
        split = [clause.split() for clause in clauses]
        if not any(self.weak.intersection(words) for words in split):
            return Verdict(NOT)
        found, cause_before = Verdict(NOT), False  # cause_before: named in an earlier clause
        for number, words in enumerate(split):
            cause_at = [self._names(words, j, causes) for j in range(len(words))]  # once per clause, not per word
            other_at = [self._names(words, j, (), self.others) for j in range(len(words))]
            for i, word in enumerate(words):
                if word not in self.weak:
                    continue
                after = range(i + 1, min(i + 1 + WINDOW, len(words)))
                if any(cause_at[j] for j in after) or any(cause_at[:i]):
                    found = found if found.unclear else Verdict(NOT, f"cause:{word}")
                elif any(other_at[j] for j in (*range(i), *after)):
                    found = found if found.unclear else Verdict(NOT, f"other:{word}")
                elif any(cause_at):  # "quit playing games with our lives"
                    found = found if found.unclear else Verdict(NOT, f"cause:{word}")
                elif word in self.final and not cause_before and (place := self._place(split, number, words, i)):
                    return Verdict(OPT_OUT, f"{place}:{word}")
                else:
                    found = Verdict(UNCLEAR, f"word:{word}")
            cause_before = cause_before or any(cause_at)
        return found

    def _names(self, words: list[str], start: int, causes: Collection[str], mine: frozenset[str] | None = None) -> bool:
        """True if one to three words from ``start`` are a cause (or one of ``mine``)."""
        mine = self.causes if mine is None else mine
        for n in (1, 2, 3):
            piece = words[start:start + n]
            if len(piece) < n or MASK in piece:
                return False
            if " ".join(piece) in mine or "".join(piece).upper() in causes:
                return True
        return False

    def _place(self, clauses: list[list[str]], number: int, words: list[str], i: int) -> str:
        """``first-word`` if ``words[i]`` opens its clause, ``last-word`` if it ends the message (filler aside)."""
        if not self._only_filler(words[:i]):
            return "last-word" if number == len(clauses) - 1 and self._only_filler(words[i + 1:]) else ""
        return "first-word"

    def _only_filler(self, words: list[str]) -> bool:
        return not self.filler.sub("", f" {' '.join(words)} ").strip()


def _one_edit(a: str, b: str) -> bool:
    """True if ``a`` and ``b`` differ by one insertion, deletion, substitution or swap."""
    if a == b or abs(len(a) - len(b)) > 1:
        return a == b
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1:] == b[i + 1:] or (a[i + 2:] == b[i + 2:] and a[i:i + 2] == b[i:i + 2][::-1])
    return a[i + 1:] == b[i:] if len(a) > len(b) else a[i:] == b[i + 1:]


# -- loading and checking the rules ----------------------------------------------------------


@functools.cache
def rules(path: Path | str = DEFAULT_PATH) -> Rules:
    """The rules of ``path``, read and checked once per process."""
    return load(path)


def classify(text: str, causes: Collection[str] = ()) -> Verdict:
    """``Rules.classify`` with the shipped rules."""
    return rules().classify(text, causes)


def load(path: Path | str = DEFAULT_PATH) -> Rules:
    """Read and compile a rules file; raise OptOutRulesError naming the first bad entry."""
    name = Path(path).name
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise OptOutRulesError(f"cannot read {name}: {exc}") from exc
    return compile_rules(data, name)


def compile_rules(data: Any, where: str = "opt_out.yaml") -> Rules:
    """Check and compile rules data (the YAML as a mapping)."""
    if not isinstance(data, dict):
        raise OptOutRulesError(f"{where}: must be a mapping of groups, word lists and phrases")
    known = {"groups", "symbols", *WORD_LISTS, *PHRASE_LISTS}
    for key in sorted(set(data) - known):
        raise OptOutRulesError(f"{where}: unknown section {key!r} (sections: {', '.join(sorted(known))})")
    for key in (*WORD_LISTS, *PHRASE_LISTS):
        if not isinstance(data.get(key), list) or not data[key]:
            raise OptOutRulesError(f"{where}: {key} must be a non-empty list")
    vocabulary: set[str] = set()
    entry = _entry_reader(where, vocabulary)
    groups = _groups(data.get("groups") or {}, where, entry)
    lists = {key: frozenset(entry(f"{key}[{i}]", item) for i, item in enumerate(data[key])) for key in WORD_LISTS}
    for i, keyword in enumerate(data["keywords"]):
        filler = set(entry(f"keywords[{i}]", keyword).split()) & lists["filler"]
        if filler:
            raise OptOutRulesError(f"{where}: keywords[{i}] {keyword!r} contains filler {', '.join(sorted(filler))}, "
                                   "which is dropped before keywords are compared")
    if not lists["final"] <= lists["weak"]:
        raise OptOutRulesError(f"{where}: final words must be weak words too: "
                               f"{', '.join(sorted(lists['final'] - lists['weak']))}")
    phrases = {kind: tuple(Phrase(str(source), re.compile(_pattern(f"{where}: {kind}[{i}]", source, groups, entry)))
                           for i, source in enumerate(data[kind])) for kind in PHRASE_LISTS}
    return Rules(
        keywords=lists["keywords"], strong=lists["strong"], weak=lists["weak"], final=lists["final"],
        causes=lists["causes"], others=lists["others"], vocabulary=frozenset(vocabulary),
        heads=tuple(sorted(lists["weak"] | lists["strong"] | {"no", "dont"}, key=len, reverse=True)),
        symbols=_symbols(data.get("symbols") or {}, where),
        filler=re.compile("(?<= )(?:" + "|".join(re.escape(f) + " " for f in _longest_first(lists["filler"])) + ")"),
        reaction=re.compile(r"^(?:" + "|".join(re.escape(r) for r in _longest_first(lists["reactions"]))
                            + r')\b[^"]{0,24}"'),
        phrases=phrases,
        any_phrase={kind: re.compile("|".join(f"(?:{p.regex.pattern})" for p in ps)) for kind, ps in phrases.items()},
    )


def _entry_reader(where: str, vocabulary: set[str]) -> Callable[[str, object], str]:
    def entry(label: str, value: object) -> str:
        """One word or phrase, folded and squeezed like the texts it is compared with."""
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise OptOutRulesError(f"{where}: {label} must be a word or phrase, not {value!r}")
        words = " ".join(squeeze(w) for w in fold(str(value)).replace("'", "").split())
        if not _ENTRY.fullmatch(words):
            raise OptOutRulesError(f"{where}: {label} {value!r} may only hold letters, digits and spaces")
        vocabulary.update(words.split())
        return words

    return entry


def _groups(raw: Any, where: str, entry: Callable[[str, object], str]) -> dict[str, list[str]]:
    if not isinstance(raw, dict):
        raise OptOutRulesError(f"{where}: groups must map names to lists of words")
    groups = {}
    for name, items in raw.items():
        if not isinstance(items, list) or not items:
            raise OptOutRulesError(f"{where}: groups.{name} must be a non-empty list")
        groups[str(name)] = sorted({entry(f"groups.{name}[{i}]", item) for i, item in enumerate(items)})
    return groups


def _symbols(raw: Any, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise OptOutRulesError(f"{where}: symbols must map characters to words")
    return tuple((fold(symbol), word.strip().lower()) for symbol, word in raw.items())


def _pattern(label: str, source: Any, groups: dict[str, list[str]], entry: Callable[[str, object], str]) -> str:
    """The regular expression of one phrase pattern (see the top of data/opt_out.yaml)."""
    if not isinstance(source, str) or not source.split():
        raise OptOutRulesError(f"{label}: a pattern must be a non-empty string, not {source!r}")
    slots = source.split()
    start, end = slots[0] == "^", slots[-1] == "$"
    slots = slots[start:len(slots) - end]
    if not slots or {"^", "$"} & set(slots):
        raise OptOutRulesError(f"{label} {source!r}: ^ and $ may only start and end a pattern")
    if slots[0] == "..." or slots[-1] == "...":
        raise OptOutRulesError(f"{label} {source!r}: a pattern cannot start or end with ...")
    if all(slot == "..." or slot.startswith("[") for slot in slots):
        raise OptOutRulesError(f"{label} {source!r}: a pattern needs a word that is not optional")
    pieces = []
    for slot in slots:
        if slot == "...":
            pieces.append(rf"(?:[a-z0-9]+ ){{0,{GAP}}}")
            continue
        optional = slot.startswith("[") and slot.endswith("]")
        body = slot[1:-1] if optional else slot
        if not body or "[" in body or "]" in body:
            raise OptOutRulesError(f"{label} {source!r}: {slot!r} is not a word, a|b, {{group}} or [optional]")
        choices: list[str] = []
        for choice in body.split("|"):
            if choice.startswith("{") and choice.endswith("}"):
                if choice[1:-1] not in groups:
                    raise OptOutRulesError(f"{label} {source!r}: unknown group {choice} "
                                           f"(groups: {', '.join(sorted(groups))})")
                choices += groups[choice[1:-1]]
            elif not choice or "{" in choice or "}" in choice:
                raise OptOutRulesError(f"{label} {source!r}: {slot!r} has an empty or broken choice")
            else:
                choices.append(entry(label, choice))
        alternatives = "|".join(re.escape(c) + " " for c in _longest_first(set(choices)))
        pieces.append(f"(?:{alternatives})" + ("?" if optional else ""))
    return ("^ " if start else "(?<= )") + "".join(pieces) + ("$" if end else "")


def _longest_first(items: Collection[str]) -> list[str]:
    return sorted(items, key=lambda item: (-len(item), item))
