"""The Targets page: who each demand calls, custom target sets (edit), Congress data status, ZIP lookup.

Also the Congress data warning every console page shows organizers (``congress_warnings``).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from handlers.console import bp, services
from sms.errors import DataError
from sms.store import Demand
from sms.targets import datasets, editing, local_officials, lookup, terms, verification
from sms.targets.models import CustomTarget

log = logging.getLogger(__name__)


@bp.context_processor
def congress_data() -> dict[str, Any]:
    """``congress_warnings()`` for the base template: what is wrong with the Congress data right now
    (computed only when a page for a logged-in organizer shows it; a database error shows nothing)."""

    def congress_warnings() -> list[str]:
        svc = services()
        try:
            with svc.db.session() as session:
                return datasets.report(session, svc.settings.call_ended_terms).warnings()
        except SQLAlchemyError as exc:
            log.warning("console: Congress data status unavailable: %s", type(exc).__name__)
            return []

    return {"congress_warnings": congress_warnings}


@bp.get("/targets", endpoint="targets")
def targets_page() -> Any:
    return _page()


def _page(failed_form: str = "", edit: editing.TargetEdit | None = None, problems: dict[str, str] | None = None,
          new_set: str = "") -> Any:
    """Render the page; ``failed_form`` names the form a failed edit came from (``new`` or a target id)."""
    svc = services()
    zip_code = (request.args.get("zip") or "").strip()
    keyword = (request.args.get("demand") or "").strip().upper()
    with svc.db.session() as session:
        demands = session.scalars(select(Demand).order_by(Demand.position)).all()
        found = editing.preview(session, svc.settings, zip_code, keyword) if zip_code else None
        html = render_template(
            "console/targets.html", demands=demands, sets=editing.sets(session),
            status=editing.data_status(session), report=datasets.report(session, svc.settings.call_ended_terms),
            labels=datasets.LABELS, ordinal=terms.ordinal, data_refresh=svc.settings.data_refresh,
            zip=zip_code, demand=keyword, lookup=found,
            zip_valid=lookup.valid_zip(zip_code), editing=failed_form, edit=edit or editing.TargetEdit(),
            problems=problems or {}, new_set=new_set,
            unverified=verification.unverified(session, svc.settings.targets_verified_since),
            verified_since=svc.settings.targets_verified_since, flagged=verification.is_flagged,
        )
    return html, 400 if problems else 200


@bp.post("/targets/custom")
def target_add() -> Any:
    set_name = (request.form.get("set_name") or "").strip().lower()
    edit = editing.TargetEdit.from_form(request.form)
    problems = editing.problems(edit)
    if editing.set_problem(set_name):
        problems["set_name"] = editing.set_problem(set_name) or ""
    if problems:
        return _page("new", edit, problems, set_name)
    with services().db.session() as session:
        row = editing.add(session, set_name, edit)
        flash(f"Added {row.name} to {set_name}.", "ok")
    _log("added to", set_name)
    return redirect(url_for("console.targets") + f"#set-{set_name}")


@bp.post("/targets/upload")
def targets_upload() -> Any:
    """A local officials CSV (sms.targets.local_officials): each line's problems, or the sets it names replaced."""
    file = request.files.get("file")
    text = file.read().decode("utf-8-sig", errors="replace") if file is not None else ""
    try:
        upload = local_officials.read(text, file.filename if file is not None and file.filename else "upload")
    except DataError as exc:
        flash(f"Not loaded: {exc}", "error")
        return redirect(url_for("console.targets") + "#upload")
    if upload.problems or not upload.rows:
        flash("Not loaded, nothing was changed: " + ("; ".join(upload.problems[:20]) or "the file has no rows"),
              "error")
        return redirect(url_for("console.targets") + "#upload")
    with services().db.session() as session:
        summary = local_officials.load(session, upload)
    flash(f"Loaded {', '.join(sorted(upload.sets))}: {summary}.", "ok")
    _log("uploaded", ", ".join(sorted(upload.sets)))
    return redirect(url_for("console.targets") + "#custom")


@bp.post("/targets/custom/<int:target_id>")
def target_update(target_id: int) -> Any:
    action = request.form.get("action", "save")
    with services().db.session() as session:
        row = session.get(CustomTarget, target_id)
        if row is None:
            return render_template("console/error.html", message="No such target."), 404
        set_name = row.set_name
        if action == "save":
            edit = editing.TargetEdit.from_form(request.form)
            problems = editing.problems(edit)
            if problems:
                return _page(str(target_id), edit, problems)
            editing.save(session, row, edit)
            flash(f"Saved {edit.name}.", "ok")
        elif action == "verified":
            verification.mark_verified(session, row)
            flash(f"{row.name}: verified today.", "ok")
        elif action in ("up", "down"):
            editing.move(session, row, -1 if action == "up" else 1)
        elif action == "delete":
            flash(f"Removed {row.name} from {set_name}.", "ok")
            editing.remove(session, row)
        else:
            return render_template("console/error.html", message="Unknown action."), 400
    _log(f"{action} in", set_name)
    return redirect(url_for("console.targets") + f"#set-{set_name}")


def _log(what: str, set_name: str) -> None:
    log.info("organizer %s: custom target %s %s", current_user.email, what, set_name)
