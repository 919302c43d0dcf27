"""The texts that start a call: ``CALL [KEYWORD]``, ``ZIP 02139``, ``DISTRICT MA-7`` and their questions.

``CALL`` walks what it needs in order (which demand, the ZIP, which House member for a
split ZIP), asking one question at a time, then opens a call session and queues the
call-back on the ``high`` queue once the conversation is committed. People say it their
way too: "I want to call my senator about chokeholds" is CALL CHOKEHOLD, and a ZIP on its
own ("02139", "my zip is 02139-1234") is kept wherever it is texted. Every reply fits the
reply budget (``sms.messaging.budget``): a script too long for it is texted in short, and
the call reads it in full.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from sms import defaults
from sms.calls import later, office_hours, routing, sessions, stances
from sms.errors import InvalidZip, SmsError
from sms.messaging import budget, compliance, languages, subscribers, unkept
from sms.messaging.catalogue import DemandView, fold, keyword_key
from sms.messaging.conversation import MENU_DIGITS, Turn, Words
from sms.store import Subscriber
from sms.targets import geocoder, kinds, lookup, places, state_lookup, targeting

ASK_ZIP = "What's your ZIP code? Reply with 5 digits so we can connect you to your own lawmakers."
ASK_DEMAND = "Which issue do you want to call about? Reply a keyword like CHOKEHOLD, or MENU for the list."
DISTRICT_HELP = "Reply DISTRICT with your state and district, e.g. DISTRICT MA-7 (DISTRICT AK for at-large)."
ZIP_TEXT = r"^(?:(?:my\s+)?zip(?:\s*code)?(?:\s+is)?\s*[:=#-]?\s*)?(\d{5})(?:-?\d{4})?[.!]?$"
"""A text that is a ZIP: ``02139``, ``02139-1234``, ``my zip is 02139``, ``zip: 02139`` (folded, lower case)."""
_WHOM = (r"(?:senators?|sens?|reps?|representatives?|congress\s*(?:wo)?m[ae]n|congressperson|congress|lawmakers?"
         r"|legislators?|members?\s+of\s+congress"
         r"|senador(?:a|es|as)?|representantes?|congresistas?|congreso|legislador(?:a|es|as)?)")
CALL_TEXT = (rf"\b(?:call|phone|ring|reach)\s+(?:(?:my|our|the|a|your|us)\s+)*{_WHOM}\b"
             r"|(?<!n't )(?<!not )\b(?:want|wanna|would\s+like|'d\s+like|like|need|ready)\s+to\s+(?:make\s+a\s+)?call\b"
             r"|\bhow\s+(?:do|can)\s+i\s+call\b"
             rf"|\b(?:llamar|llamarle|llamarles|hablar\s+con)\s+(?:(?:a|al|a\s+los|a\s+las|mi|mis|nuestro|nuestra"
             rf"|nuestros|el|la|los|las|tu|tus)\s+)*{_WHOM}\b"
             r"|(?<!no )\b(?:quiero|quisiera|necesito|me\s+gustaria|puedo|deseo)\s+(?:hacer\s+una\s+)?llamar?(?:da)?\b"
             r"|\bcomo\s+(?:puedo\s+)?llam(?:o|ar)\b")
"""Asking to call in words: "I want to call my senator", "call my congresswoman", "how do I call", and in
Spanish (the text folded, without accents): "quiero llamar a mi senador", "llamar al congreso", "¿cómo llamo?"."""
WHOM = re.compile(rf"\b{_WHOM}\b")


words = Words()
"""CALL, ZIP, DISTRICT and the questions they ask (ZIP, demand, district)."""


@words.command("CALL", "LLAMAR", "LLAMADA")
def call(turn: Turn, rest: str) -> None:
    """``CALL`` (last demand), ``CALL CHOKEHOLD``, ``call my senator about chokeholds``, ``CALL 9AM``."""
    now = office_hours.clock()
    wanted = office_hours.parse_when(rest, compliance.subscriber_zone(turn.subscriber), now) if rest else None
    if wanted is not None:
        if not turn.subscriber.last_demand:
            return turn.say(turn.t("Which issue should we call you about? Text its keyword first (e.g. CHOKEHOLD), "
                                   "then CALL {when}.", when=rest.strip().upper()[:12]))
        booked = turn.catalogue.demand(turn.subscriber.last_demand)
        if booked is not None and refused_locally(turn, booked, rest):
            return None
        return later.schedule(turn, turn.subscriber.last_demand, wanted, now)
    call_about(turn, rest)


@words.phrase(CALL_TEXT)
def call_in_words(turn: Turn, _match: re.Match[str]) -> None:
    """"I want to call my senator (about the PEACE Act)" is CALL (FORCE)."""
    call_about(turn, turn.text, in_words=True)


def call_about(turn: Turn, text: str, in_words: bool = False) -> None:
    """Call about the demand ``text`` names, the last one (``text`` names only who), or ask which."""
    about = demands_named(turn, text) if text else []
    if len(about) > 1:
        return ask_which(turn, about)
    if about:
        subscribers.record_interest(turn.session, turn.subscriber, about[0].keyword)
        return proceed(turn, about[0])
    whom_only = not text or in_words or WHOM.search(fold(text)) is not None
    demand = turn.catalogue.demand(turn.subscriber.last_demand) if whom_only and turn.subscriber.last_demand else None
    if demand is not None:
        return proceed(turn, demand)
    turn.ask("call_demand")
    prefix = "" if whom_only else turn.t("We don't have an issue called {name}.", name=text.strip()[:20]) + " "
    turn.say(prefix + turn.t(ASK_DEMAND))


def demands_named(turn: Turn, text: str) -> list[DemandView]:
    """The demand ``text`` is (keyword or alias), or else every demand it names."""
    exact = turn.catalogue.demand(keyword_key(text))
    if exact is not None:
        return [exact]
    return [item for item in turn.catalogue.mentioned(text) if isinstance(item, DemandView)]


def ask_which(turn: Turn, demands: list[DemandView]) -> None:
    """The text named several demands: which one to call about (answered by number, keyword or a ZIP)."""
    demands = demands[:9]
    turn.ask("call_demand", choices=[d.keyword for d in demands])
    rows = [(d.keyword, d.title) for d in demands]
    turn.say(budget.numbered(turn.t("Which issue do you want to call about?"), rows, turn.t("Reply a number."),
                             turn.budget))


def proceed(turn: Turn, demand: DemandView, everyone: tuple[str, ...] = (), asked_address: bool = False) -> None:
    """Ask for what is missing (ZIP, House district, state districts) or open the call session.

    ``everyone``: the state kinds the texter chose to call every candidate of (ALL)."""
    sub = turn.subscriber
    sub.last_demand = demand.keyword
    only = kinds.only_custom(demand.targets)
    if only is not None:
        rules = lookup.set_rules(turn.session, only)
        if rules is not None and rules.limited and not sub.zip:  # only constituents: where are they?
            turn.ask("call_zip", demand=demand.keyword)
            return turn.say(turn.t("What's your ZIP code? {refusal}. Reply with 5 digits.", refusal=rules.refusal))
        if not sub.zip and targeting.has_local(turn.session, only):  # a county's or city's: which one?
            turn.ask("call_zip", demand=demand.keyword)
            return turn.say(turn.t(ASK_ZIP))
        where = targeting.Where(sub.zip, sub.state, [], *sessions.districts_of(sub))
        if not asked_address and _may_ask_address(turn) and \
                targeting.by_address(turn.session, demand.targets, demand.target_order, where):
            return ask_address(turn, demand, everyone)
        return start(turn, demand, [])
    seats = sessions.seats_of(turn.session, sub)
    if not seats:
        turn.ask("call_zip", demand=demand.keyword)
        return turn.say(turn.t(ASK_ZIP))
    house_split = len(seats) > 1 and "house" in kinds.of(demand.targets, demand.target_order)
    house_rule, state_rule = turn.settings.call_split_districts, turn.settings.call_split_state_districts
    where = targeting.Where(sub.zip, seats[0][0], seats, *sessions.districts_of(sub))
    pending = [k for k in targeting.split_kinds(turn.session, demand.targets, demand.target_order, where)
               if k not in everyone]
    wants_address = (house_split and house_rule == "address") or (bool(pending) and state_rule == "address") \
        or bool(targeting.by_address(turn.session, demand.targets, demand.target_order, where))
    if wants_address and not asked_address and _may_ask_address(turn):
        return ask_address(turn, demand, everyone)
    if house_split and house_rule in ("ask", "address"):
        return ask_district(turn, demand, seats)
    if pending and state_rule in ("ask", "address"):
        return ask_state_district(turn, demand, seats, pending[0], everyone)
    start(turn, demand, seats)


ASK_ADDRESS = ("What's your street address? We use it once to find your district and don't keep it. "
               "(Or reply SKIP to choose from a list.)")
ADDRESS_KEPT_AS = "[street address: used once to find the district, not kept]"
"""What the inbound row of an address reply holds instead of the address (decided at receipt: ``unkept``)."""
ADDRESS_QUESTION = "call_address"
ADDRESS_LOST = "Your address reached us while we were offline, so we did not keep it."
"""Said when the address arrives as ADDRESS_KEPT_AS (kept without its words in the spool), before asking again."""


def _geocoder(turn: Turn) -> geocoder.Geocoder | None:
    """The Census geocoder (GEOCODER_URL), one per turn; None when it is off."""
    if "geocoder" not in turn.session.info:
        redis = turn.services.redis if turn.services is not None else None
        turn.session.info["geocoder"] = geocoder.from_settings(turn.settings, redis)
    return turn.session.info["geocoder"]


def _may_ask_address(turn: Turn) -> bool:
    """The geocoder is on and its breaker closed: an address can be looked up now."""
    geo = _geocoder(turn)
    return geo is not None and not geo.open


def ask_address(turn: Turn, demand: DemandView, everyone: tuple[str, ...] = ()) -> None:
    """A split ZIP, or a mayor or county/city official the ZIP does not settle: ask the street address, to find
    the district, county and place exactly (then forgotten)."""
    turn.ask(ADDRESS_QUESTION, demand=demand.keyword, everyone=list(everyone))
    turn.say(turn.t(ASK_ADDRESS))
    _mark_asked(turn, asked=True)


def _mark_asked(turn: Turn, asked: bool) -> None:
    """Tell the spool (Redis) that this texter's next text may be their address, or no longer is."""
    if turn.services is None:
        return
    redis, phone = turn.services.redis, turn.subscriber.phone
    if asked:
        turn.after_commit.append(lambda: unkept.mark(redis, phone, ADDRESS_QUESTION))
    else:
        turn.after_commit.append(lambda: unkept.unmark(redis, phone))


@words.answer(ADDRESS_QUESTION, kept_as=ADDRESS_KEPT_AS)
def answer_address(turn: Turn) -> bool:
    """The texter's address (its inbound row was written without it): ask the geocoder, keep only district ids.

    No match, or the geocoder failing or its breaker open: the texter is asked their member's name."""
    data = turn.conversation.data or {}
    demand = turn.catalogue.demand(data.get("demand", ""))
    if demand is None:
        return False
    everyone = tuple(data.get("everyone") or ())
    if turn.body == ADDRESS_KEPT_AS:  # spooled while the database was down: its words were not kept
        turn.say(turn.t(ADDRESS_LOST))
        ask_address(turn, demand, everyone)
        return True
    turn.ask(None)
    _mark_asked(turn, asked=False)
    if turn.key in ("SKIP", "NO", "LIST", "SALTAR", "LISTA"):
        proceed(turn, demand, everyone, asked_address=True)
        return True
    address = turn.body
    forget_address(turn)
    found, sorry = None, ""
    geo = _geocoder(turn)
    try:
        found = geo.districts(f"{address}, {turn.subscriber.zip or ''}") if geo is not None else None
        sorry = "" if found is not None else turn.t("We couldn't find that address.")
    except geocoder.Unavailable:
        sorry = turn.t("We couldn't look up addresses just now.")
    if found is not None:
        keep_districts(turn, found)
    if sorry:
        turn.say(sorry)
    proceed(turn, demand, everyone, asked_address=True)
    return True


def forget_address(turn: Turn) -> None:
    """The address is not kept: only this turn had it (its inbound row was written with ADDRESS_KEPT_AS)."""
    if turn.inbound is not None:
        turn.inbound.body = ADDRESS_KEPT_AS
    turn.body = turn.text = ADDRESS_KEPT_AS


def keep_districts(turn: Turn, found: geocoder.Districts) -> None:
    """Keep the district ids the address is in, where they are candidates of the texter's ZIP, and its county
    and place GEOIDs when the address is in the texter's state (their names go to ``census_areas``)."""
    sub = turn.subscriber
    if found.county is not None and found.state == sub.state:
        sub.county_fips, sub.place_geoid = found.county.geoid, found.place.geoid if found.place else None
        places.remember(turn.session, found.county, found.place)
    place = state_lookup.place_of(turn.session, sub.zip or "", found.state)
    if place is not None and found.state == place.state:
        sub.state_upper = geocoder.key_in(found.upper, place.districts.get("upper", ())) or sub.state_upper
        sub.state_lower = geocoder.key_in(found.lower, place.districts.get("lower", ())) or sub.state_lower
    seats = sessions.seats_of(turn.session, sub)
    if found.congress is not None and (found.state, found.congress) in seats:
        sub.state, sub.district = found.state, found.congress


CHAMBER_WORDS = {"state-upper": ("state senate", "state senator"),
                 "state-lower": ("state house", "state representative")}
"""Each state chamber's words in the district question (English sources: ``turn.t`` translates them)."""


def ask_state_district(turn: Turn, demand: DemandView, seats: list[tuple[str, int]], kind: str,
                       everyone: tuple[str, ...] = ()) -> None:
    """The texter's ZIP spans several districts of a chamber the demand calls: whose constituent are they?"""
    sub = turn.subscriber
    state, districts = targeting.state_districts(turn.session, targeting.Where(sub.zip, seats[0][0], seats), kind)
    turn.ask("call_state_district", demand=demand.keyword, kind=kind, state=state, districts=list(districts),
             everyone=list(everyone))
    names = [" / ".join(t.name for t in state_lookup.legislators(turn.session, kind, state or "", (d,))) or
             turn.t("district {district}", district=d) for d in districts]
    chamber, member = (turn.t(words_) for words_ in CHAMBER_WORDS[kind])
    lead = turn.t("ZIP {zip} spans {count} {chamber} districts. Who is your {member}? Reply", zip=sub.zip,
                  count=len(districts), chamber=chamber, member=member) + " "
    every, district = turn.t(", or ALL to call every one."), turn.t("district {district}")

    def text(named: bool) -> str:
        return lead + ", ".join(f"{i} {names[i - 1] if named else district.format(district=d)}"
                                for i, d in enumerate(districts, 1)) + every

    turn.say(turn.fit(text(True), text(False), f"{lead}1-{len(districts)}{every}"))


@words.answer("call_state_district")
def answer_state_district(turn: Turn) -> bool:
    """A number chooses the texter's state district (kept for later calls); ALL calls every candidate."""
    data = turn.conversation.data or {}
    demand = turn.catalogue.demand(data.get("demand", ""))
    districts, kind = list(data.get("districts") or []), str(data.get("kind", ""))
    if demand is None or not districts or kind not in CHAMBER_WORDS:
        return False
    everyone = tuple(data.get("everyone") or ())
    if turn.key in ("ALL", "BOTH", "EVERYONE", "TODOS", "TODAS", "AMBOS"):
        turn.ask(None)
        proceed(turn, demand, (*everyone, kind))
        return True
    if not turn.key.isdigit() or len(turn.key) > MENU_DIGITS:
        return False
    if not 1 <= int(turn.key) <= len(districts):
        turn.say(turn.t("Reply 1-{count} for your {member}, or ALL to call every one.", count=len(districts),
                        member=turn.t(CHAMBER_WORDS[kind][1])))
        return True
    chosen = districts[int(turn.key) - 1]
    if kind == "state-upper":
        turn.subscriber.state_upper = chosen
    else:
        turn.subscriber.state_lower = chosen
    turn.ask(None)
    proceed(turn, demand, everyone)
    return True


def ask_district(turn: Turn, demand: DemandView, seats: list[tuple[str, int]]) -> None:
    members = {(t.state, t.district): t.label for t in lookup.house_members(turn.session, seats)}
    turn.ask("call_district", demand=demand.keyword, seats=[list(s) for s in seats])
    lead = turn.t("ZIP {zip} spans {count} districts. Who is your Rep? Reply", zip=turn.subscriber.zip,
                  count=len(seats)) + " "
    vacant, every = turn.t("vacant seat"), turn.t(", or ALL to call every one.")

    def text(named: bool) -> str:
        choices = [f"{i} {members.get(seat, vacant) + ' (' if named else ''}{lookup.district_label(*seat)}"
                   f"{')' if named else ''}" for i, seat in enumerate(seats, 1)]
        return lead + ", ".join(choices) + every

    # names if they fit, else district labels only, else just the numbers
    turn.say(turn.fit(text(True), text(False), f"{lead}1-{len(seats)}{every}"))


def start(turn: Turn, demand: DemandView, seats: list[tuple[str, int]], delegate_ok: bool = False) -> None:
    """Check the caller, plan the targets, open the session and say who will be called."""
    turn.ask(None)
    sub = turn.subscriber
    try:
        sessions.check_caller(turn.session, turn.settings, sub.phone)
    except SmsError as exc:
        return turn.say(turn.t(exc.reply)) if exc.reply else None
    state = seats[0][0] if seats else sub.state
    plan = sessions.plan(turn.session, turn.settings, demand, state, seats, zip_code=sub.zip,
                         districts=sessions.districts_of(sub))
    if plan.outside:
        return offer_instead(turn, demand, plan)
    for line, values in plan.gaps:  # a mayor or a county's official not found: that call is skipped
        turn.say(turn.t(line, **values))
    if plan.no_senators and plan.targets and not delegate_ok:
        return offer_delegate(turn, demand, seats, plan)
    if not plan.targets:
        why = f" ({'; '.join(plan.notes)})" if plan.notes else ""
        sorry = turn.t("Sorry, there's no office for you to call about {keyword} right now", keyword=demand.keyword)
        other = turn.t("Reply MENU for other ways to act.")
        return turn.say(turn.fit(f"{sorry}{why}. {other}", f"{sorry}. {other}"))
    services = turn.services
    if services is not None:
        routed, notes = routing.route(services, turn.session, plan.targets, sub.zip, state)
        plan = sessions.Plan(routed, plan.notes + notes, plan.thanked)
    now, schedule = office_hours.clock(), office_hours.schedule_of(turn.session, turn.settings, demand.targets)
    if office_hours.closed_now(schedule, plan.targets, now):
        zone = compliance.subscriber_zone(sub)
        run_at, night = office_hours.callback_time(turn.settings, schedule, plan.targets, zone, now)
        when = office_hours.spoken_time(run_at, zone, now, turn.language)
        return later.offer(turn, demand.keyword, run_at, when, night)
    open_call(turn, demand, plan)


def open_call(turn: Turn, demand: DemandView, plan: sessions.Plan) -> None:
    """Open the session, say who will be called and the script, and queue the call-back after the commit."""
    sub = turn.subscriber
    session = sessions.open_session(turn.session, sub.phone, sub, demand.keyword, sub.zip, plan.targets,
                                    thanked=plan.thanked)
    turn.say(calling_text(plan, turn.budget, turn.language))
    first = plan.targets[0]
    script = stances.thank_script(turn.session, demand.keyword) if sessions.member_ref(first) in plan.thanked \
        else demand.script
    turn.say(script_text(script, first.spoken, sub.zip, sub.state, turn.budget, turn.language))
    services = turn.services
    if services is not None:
        turn.after_commit.append(lambda: sessions.enqueue_place(services, session.id))


def refused_locally(turn: Turn, demand: DemandView, rest: str) -> bool:
    """``CALL 9AM`` about a local set that takes no call from this texter: say why and return True."""
    if kinds.only_custom(demand.targets) is None:
        return False
    sub = turn.subscriber
    plan = sessions.plan(turn.session, turn.settings, demand, sub.state, [], zip_code=sub.zip)
    if not plan.outside:
        return False
    if sub.zip:
        offer_instead(turn, demand, plan)
    else:
        turn.say(turn.t("{outside}. Text ZIP and your 5-digit ZIP code first, then CALL {when} again.",
                        outside=plan.outside, when=rest.strip().upper()[:12]))
    return True


def offer_instead(turn: Turn, demand: DemandView, plan: sessions.Plan) -> None:
    """A local set takes no call from this texter: say why, and offer the demand's Congress call if it has one."""
    if not plan.instead:
        return turn.say(turn.t("{outside}, so there's no office for you to call about {keyword}. "
                               "Reply MENU for other ways to act.", outside=plan.outside, keyword=demand.keyword))
    turn.ask("call_instead", demand=plan.instead, delegate=False)
    turn.say(turn.t("{outside}. Reply YES to call your members of Congress about {keyword} instead.",
                    outside=plan.outside, keyword=plan.instead))


def offer_delegate(turn: Turn, demand: DemandView, seats: list[tuple[str, int]], plan: sessions.Plan) -> None:
    """A Senate-only demand from DC or a territory: they have no senators, so offer their delegate."""
    delegate = plan.targets[0]
    title = lookup.SPOKEN_TITLES.get(delegate.title, delegate.title)
    turn.ask("call_instead", demand=demand.keyword, delegate=True, seats=[list(s) for s in seats])
    place = plan.no_senators[0].upper() + plan.no_senators[1:]
    turn.say(budget.clean(turn.t("{place} has no senators. Reply YES to call your {title}, {name}, about {keyword} "
                                 "instead.", place=place, title=title, name=delegate.name, keyword=demand.keyword),
                          turn.budget.fold))  # a name's accents must not make an English text UCS-2


@words.answer("call_instead")
def answer_instead(turn: Turn) -> bool:
    """YES to the delegate standing in for senators, or to a Congress call instead of a local set's."""
    data = turn.conversation.data or {}
    demand = turn.catalogue.demand(data.get("demand", ""))
    if turn.key not in YES or demand is None:
        return False
    if data.get("delegate"):
        start(turn, demand, [(s, int(d)) for s, d in data.get("seats", [])], delegate_ok=True)
    else:
        turn.ask(None)
        proceed(turn, demand)
    return True


YES = ("YES", "Y", "OK", "SURE", "SI", "VALE", "CLARO")
"""A yes to a call question, in the languages spoken (SÍ folds to SI)."""


def calling_text(plan: sessions.Plan, segments: int = defaults.MAX_REPLY_SEGMENTS, language: str | None = None) -> str:
    """``Calling you now to connect you with Rep. X, Sen. Y, Sen. Z.`` within ``segments`` SMS segments.

    Fewer names ("and 2 more") before the notes go, and a count of offices as a last resort.
    """
    labels = [t.label for t in plan.targets]
    notes = f" ({'; '.join(plan.notes)}.)" if plan.notes else ""

    def t(source: str, **values: object) -> str:
        return languages.translate(language, source, **values)

    def forms() -> Iterator[str]:
        for tail in dict.fromkeys((notes, "")):
            for shown in range(len(labels), 0, -1):
                more = t(" and {count} more", count=len(labels) - shown) if shown < len(labels) else ""
                yield t("Calling you now to connect you with {who}.", who=", ".join(labels[:shown]) + more) + tail
        yield t("Calling you now to connect you with {count} offices.", count=len(labels))

    return budget.first_fit(forms(), segments)


def script_text(script: str, target: str, zip_code: str | None, state: str | None,
                segments: int = defaults.MAX_REPLY_SEGMENTS, language: str | None = None) -> str:
    """``Your script: ...`` after CALL: in full if it fits, else in short (the call reads the full one)."""
    return budget.script_text(script, lambda form: fill_script(form, target, zip_code, state), segments,
                              languages.script_labels(language))


def fill_script(script: str, target: str, zip_code: str | None, state: str | None) -> str:
    values = {"target": target, "zip": zip_code or "my community", "caller_city": state or "my community"}
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), m.group(0))), script)


def set_zip(turn: Turn, zip_code: str) -> lookup.Place | None:
    """Remember a known ZIP with its state, timezone and (if not split) district."""
    place = lookup.place_of(turn.session, zip_code)
    if place is not None:
        remember_place(turn.subscriber, place)
    return place


def remember_place(sub: Subscriber, place: lookup.Place) -> None:
    if sub.zip != place.zip:  # state districts, county and place found for another ZIP no longer hold
        sub.state_upper = sub.state_lower = sub.county_fips = sub.place_geoid = None
    sub.zip, sub.state = place.zip, place.states[0]
    sub.district = None if place.split else place.districts[0][1]
    sub.timezone = lookup.timezone_of(sub.state) or sub.timezone


def _zip_reply(turn: Turn, text: str) -> lookup.Place | None:
    """Validate and save a ZIP; on a problem say why and return None."""
    if not lookup.valid_zip(text):
        turn.say(turn.t(InvalidZip.reply))
        return None
    place = set_zip(turn, text)
    if place is None:
        turn.say(turn.t("We couldn't find ZIP {zip}. Check it and reply again, or text your district, e.g. "
                        "DISTRICT MA-7.", zip=text))
    return place


def zip_in(text: str) -> str | None:
    """The ZIP a text is (``02139``, ``02139-1234``, ``my zip is 02139``), or None."""
    match = ZIP_PATTERN.match(fold(text).strip())
    return match.group(1) if match else None


ZIP_PATTERN = re.compile(ZIP_TEXT)


@words.command("ZIP", "ZIPCODE", "CODIGOPOSTAL", "CP")
def zip_command(turn: Turn, rest: str) -> None:
    save_zip(turn, zip_in(f"zip {rest}") or keyword_key(rest))  # "ZIP 02139-1234", "zip code 02139"


@words.phrase(ZIP_TEXT)
def zip_text(turn: Turn, match: re.Match[str]) -> None:
    """A ZIP on its own, even as a first text, is kept for the calls to come."""
    save_zip(turn, match.group(1))


def save_zip(turn: Turn, code: str) -> None:
    """Keep a ZIP and say what it is for; go on with a call that was waiting for it."""
    place = _zip_reply(turn, code)
    if place is None:
        return
    pending = (turn.conversation.data or {}).get("demand") if turn.conversation.pending == "call_zip" else None
    demand = turn.catalogue.demand(pending) if pending else None
    if demand is not None:
        return proceed(turn, demand)
    then = turn.t("Reply CALL to be connected.") if turn.subscriber.last_demand else \
        turn.t("Reply MENU to see the demands, then CALL to be connected.")
    turn.say(turn.fit(saved_text(place, turn.t(" to connect your calls to your own lawmakers"), turn.language)
                      + " " + then, turn.t("Thanks, we saved ZIP {zip}.", zip=place.zip) + f" {then}"))


def saved_text(place: lookup.Place, purpose: str = "", language: str | None = None) -> str:
    """``Thanks, we saved ZIP 02139 (MA-5 or MA-7). Text DISTRICT with yours to choose.``"""
    where = languages.translate(language, " or ").join(lookup.district_label(*seat) for seat in place.districts)
    hint = languages.translate(language, " Text DISTRICT with yours to choose.") if place.split else ""
    return languages.translate(language, "Thanks, we saved ZIP {zip} ({where}){purpose}.", zip=place.zip,
                               where=where, purpose=purpose) + hint


@words.answer("call_zip")
def answer_zip(turn: Turn) -> bool:
    found = zip_in(turn.text) or (match.group() if (match := re.search(r"\b\d{5}\b", turn.text)) else None)
    if found is None and not any(ch.isdigit() for ch in turn.key):
        return False
    if _zip_reply(turn, found or turn.key) is not None:
        demand = turn.catalogue.demand(turn.conversation.data.get("demand", ""))
        if demand is not None:
            proceed(turn, demand)
    return True


@words.answer("call_demand")
def answer_demand(turn: Turn) -> bool:
    """Which issue to call about: a keyword, words naming one, a number from the choice, or a ZIP instead."""
    choices = (turn.conversation.data or {}).get("choices") or []
    if choices and turn.key.isdigit() and len(turn.key) <= MENU_DIGITS:
        if not 1 <= int(turn.key) <= len(choices):
            turn.say(turn.t("Reply 1-{count} for the issue to call about, or MENU for all demands.",
                            count=len(choices)))
            return True
        about = [d for d in [turn.catalogue.demand(choices[int(turn.key) - 1])] if d is not None]
    elif (code := zip_in(turn.text)) is not None:  # a ZIP instead: keep it, ask the issue again
        place = _zip_reply(turn, code)
        if place is not None:
            ask = turn.t(ASK_DEMAND)
            turn.say(turn.fit(f"{saved_text(place, '', turn.language)} {ask}",
                              turn.t("Thanks, we saved ZIP {zip}.", zip=place.zip) + f" {ask}"))
        return True
    else:
        about = demands_named(turn, turn.text)
    if len(about) > 1:
        ask_which(turn, about)
    elif about:
        proceed(turn, about[0])
    return bool(about)


@words.answer("call_district")
def answer_district(turn: Turn) -> bool:
    data = turn.conversation.data or {}
    seats = [(s, int(d)) for s, d in data.get("seats", [])]
    demand = turn.catalogue.demand(data.get("demand", ""))
    if demand is None or not seats:
        return False
    if turn.key in ("ALL", "BOTH", "EVERYONE", "TODOS", "TODAS", "AMBOS"):
        start(turn, demand, seats)
        return True
    if not turn.key.isdigit() or len(turn.key) > MENU_DIGITS:
        return False
    if not 1 <= int(turn.key) <= len(seats):
        turn.say(turn.t("Reply 1-{count} for your Rep, or ALL to call every one.", count=len(seats)))
        return True
    state, district = seats[int(turn.key) - 1]
    turn.subscriber.state, turn.subscriber.district = state, district
    turn.ask(None)
    proceed(turn, demand)  # the state districts may be asked next
    return True


@words.command("DISTRICT", "DISTRITO")
def district_command(turn: Turn, rest: str) -> None:
    """``DISTRICT MA-7`` overrides the district found from the ZIP."""
    seat = lookup.parse_district(rest)
    if seat is None or not lookup.seat_exists(turn.session, *seat):
        return turn.say((turn.t("We don't know that district.") + " " if rest else "") + turn.t(DISTRICT_HELP))
    sub = turn.subscriber
    sub.state, sub.district = seat
    sub.timezone = lookup.timezone_of(sub.state) or sub.timezone
    members = lookup.house_members(turn.session, [seat])
    who = members[0].label if members else turn.t("a vacant seat")
    turn.say(turn.t("Got it: you're in {district} ({who}). Reply CALL to be connected.",
                    district=lookup.district_label(*seat), who=who))
