"""Every voice webhook step in one table: the call-back flow and the call-in steps.

``handlers/voice.py`` maps ``/voice/<step>`` here; the steps themselves live in
``sms.calls.voice`` (answer, connect, next, dialed, status) and ``sms.calls.incoming``
(incoming, zip, district).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

from sqlalchemy import Update, bindparam, inspect, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import PASSIVE_NO_INITIALIZE, get_history
from sqlalchemy.orm.exc import StaleDataError

from sms.calls import incoming, voice
from sms.calls.models import CallLeg, CallSession
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
        write_changes(session)
        session.commit()
        return xml


WRITTEN: tuple[type, ...] = (CallSession, CallLeg)
"""What a step changes on every request: its call session and the leg it settles."""


def write_changes(session: Session) -> None:
    """Write the changes a step left on its call session and legs, one Core ``UPDATE`` each.

    The same columns the unit of work would write at the commit (only those whose value changed),
    without its per-flush cost, which was the largest part of a step. The objects are then taken
    out of the session, so the commit writes the rest (new rows, other tables) as before. A row
    gone meanwhile fails as the flush did (``StaleDataError``).
    """
    for obj in [o for o in session.dirty if isinstance(o, WRITTEN)]:
        state = inspect(obj)
        changed = {key: state.dict.get(key) for key in _columns(type(obj)).keys() - state.unmodified
                   if get_history(obj, key, PASSIVE_NO_INITIALIZE).has_changes()}
        if changed:
            table = type(obj).__table__
            matched = session.connection().execute(_update(type(obj)), {"_pk": state.identity[0], **{
                _columns(type(obj))[key]: value for key, value in changed.items()}}).rowcount
            if matched != 1:
                raise StaleDataError(f"UPDATE statement on table '{table.name}' expected to update 1 row(s); "
                                     f"{matched} were matched.")
        session.expunge(obj)


@functools.cache
def _columns(model: type) -> dict[str, str]:
    """Mapped attribute → column name."""
    return {attr.key: attr.columns[0].key for attr in inspect(model).column_attrs}


@functools.cache
def _update(model: type) -> Update:
    """``UPDATE`` of one row by primary key; the columns set are the parameters given."""
    return update(model.__table__).where(inspect(model).primary_key[0] == bindparam("_pk"))
