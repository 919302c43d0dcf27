"""Every voice webhook step in one table: the call-back flow and the call-in steps.

``handlers/voice.py`` maps ``/voice/<step>`` here; the steps themselves live in
``sms.calls.voice`` (answer, connect, next, dialed, status) and ``sms.calls.incoming``
(incoming, zip, district).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy.exc import IntegrityError

from sms import core_writes
from sms.calls import incoming, voice
from sms.calls.voice import Flow
from sms.messaging.inbound import clean
from sms.services import Services

Step = Callable[[Flow, Mapping[str, str], str], str]
STEPS: dict[str, Step] = {
    "answer": voice.answer, "connect": voice.connect, "next": voice.next_target, "dialed": voice.dialed,
    "status": voice.status,
    "incoming": incoming.incoming, "zip": incoming.zip_entered, "district": incoming.district_chosen,
}
"""Step name → handler."""
FIELD_LIMIT = 1600
"""No voice webhook field Action Line reads is longer; longer values are cut, not refused."""


def run(services: Services, step: str, form: Mapping[str, str], arg: str = "") -> str:
    """Answer one voice webhook ``step``; commit what it changed.

    Twilio's fields are cleaned once here (control characters dropped: PostgreSQL refuses a
    NUL in a query parameter), so no step queries with raw request text.
    """
    form = {key: clean(value, FIELD_LIMIT) for key, value in form.items()}
    arg = clean(arg, FIELD_LIMIT)
    try:
        return _once(services, step, form, arg)
    except IntegrityError:
        # The same webhook twice at once (a Twilio retry racing the first): one wrote the session or the
        # leg first. Asked again, the step sees that row and answers as a repeat does.
        return _once(services, step, form, arg)


def _once(services: Services, step: str, form: Mapping[str, str], arg: str) -> str:
    with services.db.session() as session:
        flow = Flow(services, session)
        xml = STEPS[step](flow, form, arg)
        core_writes.write_session(session)  # the step's rows without the unit of work (sms.core_writes)
        session.commit()
        return xml
