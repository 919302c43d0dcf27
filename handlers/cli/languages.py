"""``flask languages``: the languages spoken, what is missing in each, and a texter's language."""

from __future__ import annotations

import click
from sqlalchemy import func, select

from handlers.cli.base import Commands
from handlers.context import services
from sms.errors import InvalidNumber
from sms.messaging import catalogue, languages, subscribers
from sms.store import Subscriber

commands = Commands()


@commands.group("languages")
def group() -> None:
    """The languages texters can choose (data/languages/*.yaml) and their translations."""


@group.command("list")
def list_languages() -> None:
    """Each language: how it is chosen, its reply budget, its voice and how many texters use it."""
    svc = services()
    with svc.db.session() as session:
        counts = dict(session.execute(select(Subscriber.language, func.count(Subscriber.id))
                                      .group_by(Subscriber.language)).all())
    for code in languages.codes():
        language = languages.get(code)
        limit = languages.reply_budget(code, svc.settings.max_reply_segments, svc.settings.language_segments)
        voice = languages.voice(code, svc.settings.voice_name, svc.settings.voice_language)
        voice = svc.settings.language_voices.get(code, voice)
        texters = counts.get(code, 0) + (counts.get(None, 0) if code == languages.DEFAULT else 0)
        click.echo(f"{code}  {language.name:<10} choose: {', '.join(sorted(language.choose)):<32} "
                   f"budget: {int(limit)} GSM-7 / {limit.ucs2} UCS-2  voice: {voice[0]} ({voice[1]})  "
                   f"texters: {texters}")


@group.command("missing")
@click.argument("code", required=False)
def missing(code: str | None) -> None:
    """The catalogue texts with no translation (they are sent in the default language)."""
    with services().db.session() as session:
        snapshot = catalogue.current(session)
    codes = [code] if code else [c for c in languages.codes() if c != languages.DEFAULT]
    for one in codes:
        if not languages.known(one) or one == languages.DEFAULT:
            raise click.BadParameter(f"{one!r} is not a language to translate into "
                                     f"({', '.join(languages.codes()[1:])})", param_hint="CODE")
        gaps = snapshot.missing(one)
        click.echo(f"{one}: {len(gaps)} catalogue text(s) missing" + (":" if gaps else "."))
        for kind, key, name in gaps:
            click.echo(f"  {kind} {key} {name}")


@group.command("set")
@click.argument("phone")
@click.argument("code")
def set_language(phone: str, code: str) -> None:
    """Set a texter's language (a subscriber.language_changed event, source cli)."""
    if not languages.known(code):
        raise click.BadParameter(f"{code!r} is not one of {', '.join(languages.codes())}", param_hint="CODE")
    try:
        number = subscribers.normalise_phone(phone)
    except InvalidNumber as exc:
        raise click.BadParameter(f"{phone!r} is not a phone number", param_hint="PHONE") from exc
    with services().db.session() as session:
        subscriber = subscribers.find(session, number)
        if subscriber is None:
            raise click.ClickException("no texter has that number")
        changed = subscribers.set_language(session, subscriber, code, "cli")
        session.commit()
    click.echo(f"{languages.get(code).name}." if changed else f"Already {languages.get(code).name}.")
