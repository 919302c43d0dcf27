"""The demands editor: list, edit with live segment counter and SMS preview, save."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.console import bp, services
from sms import defaults
from sms.console import demand_editor, translation_editor
from sms.messaging import languages
from sms.store import Area, Demand


@bp.get("/demands")
def demands() -> str:
    with services().db.session() as session:
        rows = session.scalars(select(Demand).order_by(Demand.position)).all()
        areas = {a.number: a.title for a in session.scalars(select(Area))}
        ages = {d.keyword: demand_editor.ask_age(d.ask_as_of) for d in rows}
    return render_template("console/demands.html", demands=rows, areas=areas, ages=ages,
                           stale_days=defaults.ASK_STALE_DAYS)


@bp.post("/demands/<keyword>/retire")
def demand_retire(keyword: str) -> Any:
    """Retire (or, with action=restore, offer again) a demand; its people and calls stay."""
    restore = request.form.get("action") == "restore"
    with services().db.session() as session:
        if session.get(Demand, keyword) is None:
            return render_template("console/error.html", message="No such demand."), 404
        (demand_editor.restore if restore else demand_editor.retire)(session, keyword)
    flash(f"{keyword} is offered again." if restore else
          f"Retired {keyword}: no longer offered; texting it now says the campaign ended, then the menu.", "ok")
    return redirect(url_for("console.demands"))


@bp.route("/demands/<keyword>", methods=["GET", "POST"])
def demand(keyword: str) -> Any:
    with services().db.session() as session:
        row = session.get(Demand, keyword)
        if row is None:
            return render_template("console/error.html", message="No such demand."), 404
        if request.method == "GET":
            return _form(session, demand_editor.DemandEdit(
                keyword=row.keyword, aliases=list(row.aliases or []), title=row.title, ask=row.ask,
                reply=row.reply, script=row.script, targets=row.targets, target_order=list(row.target_order or []),
                mentions=list(row.mentions or []), ask_as_of=row.ask_as_of,
                ask_as_of_text=row.ask_as_of.isoformat() if row.ask_as_of else "",
            ), keyword, {}, row)
        edit = demand_editor.DemandEdit.from_form(request.form)
        problems = demand_editor.errors_for(session, keyword, edit, services().settings.max_reply_segments)
        if problems:
            return _form(session, edit, keyword, problems, row), 400
        demand_editor.save(session, keyword, edit)
    flash(f"Saved {edit.keyword}. The next text gets the new wording.", "ok")
    return redirect(url_for("console.demand", keyword=edit.keyword))


@bp.post("/demands/<keyword>/translation/<code>")
def demand_translation(keyword: str, code: str) -> Any:
    """Save the demand's text in language ``code`` (beside the default language's on the same page)."""
    with services().db.session() as session:
        row = session.get(Demand, keyword)
        if row is None or not languages.known(code) or code == languages.DEFAULT:
            return render_template("console/error.html", message="No such demand or language."), 404
        edit = translation_editor.TranslationEdit.from_form(code, request.form)
        problems = translation_editor.problems(session, keyword, edit, services().settings.max_reply_segments)
        if problems:
            original = demand_editor.DemandEdit(
                keyword=row.keyword, aliases=list(row.aliases or []), title=row.title, ask=row.ask, reply=row.reply,
                script=row.script, targets=row.targets, target_order=list(row.target_order or []),
                mentions=list(row.mentions or []), ask_as_of=row.ask_as_of,
                ask_as_of_text=row.ask_as_of.isoformat() if row.ask_as_of else "")
            return _form(session, original, keyword, {}, row, (code, edit, problems)), 400
        translation_editor.save(session, keyword, edit)
    flash(f"Saved {keyword} in {languages.get(code).name}.", "ok")
    return redirect(url_for("console.demand", keyword=keyword) + f"#translation-{code}")


def _form(session: Session, edit: demand_editor.DemandEdit, original: str, problems: dict[str, str],
          row: Demand, typed: tuple[str, translation_editor.TranslationEdit, dict[str, str]] | None = None) -> str:
    settings = services().settings
    texts = demand_editor.composed(session, original, edit, settings.max_reply_segments, settings.org_name)
    others = translation_editor.side_by_side(session, original, settings.max_reply_segments)
    for other in others:
        other["problems"] = {}
        if typed is not None and typed[0] == other["code"]:
            other["edit"], other["problems"] = typed[1], typed[2]
    chosen = demand_editor.chosen_kinds(edit)
    return render_template("console/demand.html", edit=edit, original=original, problems=problems,
                           max_segments=settings.max_reply_segments, composed=texts, row=row,
                           age=demand_editor.ask_age(row.ask_as_of), age_days=defaults.ASK_STALE_DAYS,
                           translations=others,
                           target_choices=demand_editor.target_choices(session),
                           target_slots=max(demand_editor.TARGET_SLOTS, len(chosen)),
                           chosen_kinds=chosen + [""] * demand_editor.TARGET_SLOTS)
