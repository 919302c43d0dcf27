"""Write a session's new and changed rows with cached Core statements instead of the unit of work.

On the webhook's hot path the unit of work costs several times the statements it sends: for a new
texter's seven rows the flush took a quarter of the text's time (0.7 of 2.7 ms in-process, issue
15's profile), where each Core statement takes about 15 µs. ``write_session`` sends each new row
as one ``INSERT`` and each changed row as one ``UPDATE … WHERE pk = ?``, both built once per table
and set of columns, in the order the rows were added, then leaves the written objects in the
session as if just loaded: the commit's flush has nothing left to do, and the objects keep their values.

Only what it can write exactly as the flush would is written here: rows of classes with one
primary-key column, Python-side defaults and plain columns, that have no relationships and are no
one-to-many relationship's children (the flush would fill their foreign key). The rest (an opt-out
review pointing at its message, a deletion) is left to the flush.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Executable, Insert, Update, bindparam, insert, inspect, update
from sqlalchemy.orm import ONETOMANY, Mapper, Session, make_transient, make_transient_to_detached
from sqlalchemy.orm.attributes import NO_VALUE
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.state import InstanceState

_LATER = "core_writes.later"


def later(session: Session, statement: Executable, params: dict[str, Any]) -> None:
    """Send ``statement`` with the session's other writes (``write_session``, or else at its commit).

    For writes that need no object, such as ``times = times + 1``: on SQLite the write lock is then
    taken at the end of the turn, not where the feature decided to write.
    """
    session.connection()  # in a transaction, so a rollback (``forget_later``) drops it
    session.info.setdefault(_LATER, []).append((statement, params))


def write_session(session: Session) -> int:
    """Write the new and changed objects of ``session`` that Core can write, then the ``later``
    statements; return how many objects."""
    new = sorted((inspect(obj) for obj in session.new), key=lambda state: state.insert_order)
    dirty = [inspect(obj) for obj in session.dirty]
    written = 0
    if new or dirty:
        connection = session.connection()
        for plan, objs in _by_insert_plan(new).items():  # the rows of one table and shape in one executemany
            written += _insert(connection, session, plan, objs)
        for state in dirty:
            if not state.deleted and (obj := state.obj()) is not None:
                written += _update(connection, state, obj)
    send_later(session)
    return written


def send_later(session: Session, *_: Any) -> None:
    """Send the ``later`` statements now (also the session's ``before_commit`` hook: ``store.Database``)."""
    for statement, params in session.info.pop(_LATER, ()):
        session.execute(statement, params)


def forget_later(session: Session, *_: Any) -> None:
    """A rolled-back turn's ``later`` statements go with it (the session's ``after_soft_rollback`` hook)."""
    session.info.pop(_LATER, None)


@dataclass(frozen=True)
class _InsertPlan:
    statement: Insert
    keys: tuple[str, ...]
    """Attributes sent, in the statement's parameter order."""
    defaults: tuple[tuple[str, Callable[[], Any]], ...]
    """Unset attributes and how to make their Python-side default."""
    returns: str | None
    """The autoincrement key to read back, if the object has none."""


def _by_insert_plan(new: list[InstanceState]) -> dict[_InsertPlan, list[Any]]:
    """New objects by the INSERT that writes them, each list in the order the objects were added."""
    plans: dict[_InsertPlan, list[Any]] = {}
    for state in new:
        obj = state.obj()
        given = frozenset(key for key in state.dict if key in state.mapper.column_attrs)
        if obj is not None and (plan := _insert_plan(state.mapper, given)) is not None:
            plans.setdefault(plan, []).append(obj)
    return plans


def _insert(connection: Any, session: Session, plan: _InsertPlan, objs: list[Any]) -> int:
    for obj in objs:
        for key, make in plan.defaults:
            setattr(obj, key, make())
    rows = [{key: getattr(obj, key) for key in plan.keys} for obj in objs]
    result = connection.execute(plan.statement, rows[0] if len(rows) == 1 else rows)
    if plan.returns is not None:
        for obj, key in zip(objs, result.scalars().all(), strict=True):
            setattr(obj, plan.returns, key)
    for obj in objs:
        _as_loaded(session, obj)
    return len(objs)


@functools.cache
def _insert_plan(mapper: Mapper, given: frozenset[str]) -> _InsertPlan | None:
    """The cached INSERT for a ``mapper`` object with ``given`` attributes set, or None to leave it to the flush."""
    columns = _plain_columns(mapper)
    if columns is None:
        return None
    (key_name, key_column), = ((k, c) for k, c in columns.items() if c.primary_key)
    defaults, keys = [], []
    for name, column in columns.items():
        if name in given:
            keys.append(name)
            continue
        if column.primary_key:
            if column is not mapper.local_table.autoincrement_column or column.default is not None:
                return None  # a key the database does not make: the flush's to raise about
            continue
        if column.server_default is not None or (column.default is not None and not (
                column.default.is_callable or column.default.is_scalar)):
            return None
        if column.default is not None:
            defaults.append((name, _default_maker(column)))
            keys.append(name)
        elif not column.nullable:
            return None  # the database would refuse it; let the flush raise as it always has
    returns = None if key_name in given else key_name
    statement = insert(mapper.local_table).values({columns[k]: bindparam(k) for k in keys})
    if returns is not None:
        statement = statement.returning(key_column, sort_by_parameter_order=True)
    return _InsertPlan(statement, tuple(keys), tuple(defaults), returns)


def _default_maker(column: Column) -> Callable[[], Any]:
    default = column.default
    if default.is_scalar:
        value = default.arg
        return lambda: value
    return functools.partial(default.arg, None)  # SQLAlchemy wraps a no-argument callable to take a context


@dataclass(frozen=True)
class _UpdatePlan:
    statement: Update
    keys: tuple[str, ...]
    stamps: tuple[tuple[str, Callable[[], Any]], ...]
    """Columns with ``onupdate`` not changed by the caller: stamped here, so the object holds what was written."""


def _update(connection: Any, state: InstanceState, obj: Any) -> int:
    changed = frozenset(key for key, before in state.committed_state.items() if _differs(before, state.dict.get(key)))
    if not changed:  # set back to what it was: nothing to write, as for the flush
        if _plain_columns(state.mapper) is not None:
            _as_loaded(state.session, obj, stored=True)
        return 0
    plan = _update_plan(state.mapper, changed)
    if plan is None:
        return 0
    for key, make in plan.stamps:
        setattr(obj, key, make())
    values = {key: getattr(obj, key) for key in (*plan.keys, *(key for key, _ in plan.stamps))}
    result = connection.execute(plan.statement, {**values, "_pk": state.identity[0]})
    if result.rowcount != 1:  # as the flush would: the row went away under us
        raise StaleDataError(f"UPDATE of {state.mapper.local_table.name} matched {result.rowcount} rows, expected 1")
    _as_loaded(state.session, obj, stored=True)
    return 1


def _as_loaded(session: Session, obj: Any, stored: bool = False) -> None:
    """Keep ``obj`` in ``session`` as if just loaded with its values: clean for the flush, and still there
    for an object pointing at it (an opt-out review at its message) to be written with its key."""
    session.expunge(obj)
    if stored:
        make_transient(obj)  # forget the identity and the history; the values stay
    make_transient_to_detached(obj)
    session.add(obj)


def _differs(before: Any, now: Any) -> bool:
    if before is NO_VALUE:  # not loaded before it was set
        return True
    try:
        return bool(before != now)
    except (TypeError, ValueError):  # values that do not compare: write them
        return True


@functools.cache
def _update_plan(mapper: Mapper, changed: frozenset[str]) -> _UpdatePlan | None:
    """The cached UPDATE for ``changed`` attributes of a ``mapper`` object, or None to leave it to the flush."""
    columns = _plain_columns(mapper)
    if columns is None or not changed <= columns.keys() or any(columns[key].primary_key for key in changed):
        return None
    stamps = []
    for name, column in columns.items():
        if name in changed or column.onupdate is None:
            continue
        if not column.onupdate.is_callable:
            return None
        stamps.append((name, functools.partial(column.onupdate.arg, None)))
    keys = tuple(sorted(changed))
    (key_column,) = (c for c in columns.values() if c.primary_key)
    statement = (update(mapper.local_table).where(key_column == bindparam("_pk"))
                 .values({columns[k]: bindparam(k) for k in (*keys, *(name for name, _ in stamps))}))
    return _UpdatePlan(statement, keys, tuple(stamps))


@functools.cache
def _plain_columns(mapper: Mapper) -> dict[str, Column] | None:
    """Attribute → column for a class Core can write like the flush, or None (relationships, inheritance...)."""
    if mapper.relationships or mapper.inherits or mapper.version_id_col is not None or len(mapper.tables) != 1:
        return None
    if len(mapper.primary_key) != 1 or _filled_by_a_parent(mapper):
        return None
    columns = {}
    for prop in mapper.column_attrs:
        if len(prop.columns) != 1 or prop.columns[0].table is not mapper.local_table:
            return None
        columns[prop.key] = prop.columns[0]
    return columns


def _filled_by_a_parent(mapper: Mapper) -> bool:
    """Whether another class's one-to-many relationship sets this class's foreign key at the flush."""
    return any(rel.mapper is mapper and rel.direction is ONETOMANY
               for other in mapper.registry.mappers for rel in other.relationships)
