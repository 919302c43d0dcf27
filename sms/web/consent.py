"""A web opt-in: the unticked "Text me updates" box, ticked, kept word for word.

The consent event (source ``web``, the page as detail) goes into the same history as every
other opt-in (``sms.messaging.compliance``); ``WebConsent`` beside it keeps the exact wording
the person saw, in its language, the page, the time, the keyed hash of their IP (never the
IP) and whether the number was confirmed by a texted code. An opted-out number never gets
here: the call-back guards refuse it first, so a web form never opts a number back in.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from sms.messaging import compliance, subscribers
from sms.settings import Settings
from sms.store import Subscriber
from sms.targets import lookup
from sms.web import texts
from sms.web.models import WebConsent

SOURCE = "web"


def wording(settings: Settings, lang: str) -> str:
    """The checkbox's words as the page shows them."""
    return texts.text("consent", lang, org=settings.org_name)


def record(session: Session, settings: Settings, phone: str, lang: str, page: str, ip_hash: str,
           confirmed: bool, place: lookup.Place | None = None) -> tuple[Subscriber, bool]:
    """Opt ``phone`` in from the web; return its subscriber and whether the number is new."""
    sub, created = subscribers.get_or_create(session, phone)
    event = compliance.consent_given(session, sub, SOURCE, page, "joined" if created else "opted_in")
    if place is not None and not sub.zip:
        sub.zip, sub.state = place.zip, place.states[0]
        sub.district = None if place.split else place.districts[0][1]
        sub.timezone = lookup.timezone_of(sub.state) or sub.timezone
    session.flush()
    session.add(WebConsent(consent_event_id=event.id, subscriber_id=sub.id, wording=wording(settings, lang),
                           language=lang, page=page[:300], ip_hash=ip_hash, number_confirmed=confirmed))
    return sub, created
