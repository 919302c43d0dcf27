"""Login, logout, and the admin pages: organizers and settings."""

from __future__ import annotations

import logging
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from handlers.console import admin_required, bp, services
from sms import ratelimit, settings_report
from sms.console import demand_editor, organizers
from sms.console.models import Organizer

log = logging.getLogger(__name__)
LOGIN_WINDOW = 15 * 60


def _safe_next(target: str | None) -> str:
    """Only follow ``next`` inside the console (no open redirect)."""
    if target and target.startswith("/console") and not target.startswith("//"):
        return target
    return url_for("console.dashboard")


def _login_allowed(email: str) -> bool:
    svc = services()
    limit = svc.settings.console_login_limit
    by_email = ratelimit.hit(svc.redis, "console-login-email", email.lower(), limit, LOGIN_WINDOW)
    by_addr = ratelimit.hit(svc.redis, "console-login-addr", request.remote_addr or "-", limit * 3, LOGIN_WINDOW)
    return by_email and by_addr


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    if request.method == "GET":
        return render_template("console/login.html", email="")
    from handlers.console import csrf

    csrf.protect()
    email = (request.form.get("email") or "").strip()
    if not _login_allowed(email):
        log.warning("console login rate limit reached")
        return render_template("console/login.html", email=email,
                               error="Too many login attempts. Wait 15 minutes and try again."), 429
    with services().db.session() as session:
        organizer = organizers.authenticate(session, email, request.form.get("password") or "")
        session.commit()
    if organizer is None:
        return render_template("console/login.html", email=email, error="Wrong email or password."), 401
    login_user(organizer, remember=bool(request.form.get("remember")))
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/logout")
def logout() -> Any:
    logout_user()
    return redirect(url_for("console.login"))


@bp.route("/organizers", methods=["GET", "POST"])
@admin_required
def organizers_page() -> Any:
    form = request.form
    if request.method == "POST":
        with services().db.session() as session:
            try:
                organizers.create(session, form.get("email", ""), form.get("password", ""),
                                  form.get("role", "organizer"))
                session.commit()
                flash(f"Organizer {form.get('email', '').strip().lower()} added.", "ok")
                return redirect(url_for("console.organizers_page"))
            except organizers.OrganizerError as exc:
                return _organizers(error=str(exc), email=form.get("email", "")), 400
    return _organizers()


def _organizers(error: str = "", email: str = "") -> str:
    with services().db.session() as session:
        people = organizers.listing(session)
    return render_template("console/organizers.html", people=people, error=error, email=email,
                           roles=organizers.ROLES)


@bp.post("/organizers/<int:organizer_id>")
@admin_required
def organizer_update(organizer_id: int) -> Any:
    form = request.form
    with services().db.session() as session:
        person = session.get(Organizer, organizer_id)
        if person is None:
            return "No such organizer.", 404
        try:
            _apply(session, person, form.get("action", ""), form)
        except organizers.OrganizerError as exc:
            return _organizers(error=str(exc)), 400
        session.commit()
    flash(f"Organizer {person.email} updated.", "ok")
    return redirect(url_for("console.organizers_page"))


def _apply(session: Any, person: Organizer, action: str, form: Any) -> None:
    demoting = action == "deactivate" or (action == "role" and form.get("role") != "admin")
    if demoting and person.is_admin and organizers.admins_left(session, excluding=person.id) == 0:
        raise organizers.OrganizerError("That would leave no active admin.")
    if action == "role":
        if form.get("role") not in organizers.ROLES:
            raise organizers.OrganizerError("Unknown role.")
        person.role = form["role"]
    elif action in ("activate", "deactivate"):
        person.active = action == "activate"
    elif action == "password":
        organizers.set_password(person, form.get("password", ""))
    else:
        raise organizers.OrganizerError("Unknown action.")


@bp.get("/settings")
@admin_required
def settings_page() -> str:
    return _settings()


@bp.post("/settings/texts/<key>")
@admin_required
def save_text(key: str) -> Any:
    text = (request.form.get("text") or "").strip()
    with services().db.session() as session:
        if key not in demand_editor.service_texts(session):
            return "No such text.", 404
        problem = demand_editor.text_problem(key, text, services().settings.max_reply_segments,
                                             demand_editor.demand_titles(session))
        if problem:
            return _settings(problem=(key, problem), draft=text), 400
        demand_editor.save_text(session, key, text)
    flash(f"Saved the {key} text.", "ok")
    return redirect(url_for("console.settings_page") + f"#text-{key}")


def _settings(problem: tuple[str, str] | None = None, draft: str = "") -> str:
    """Every setting this web process runs with (masked), beside the ones the worker published at its start."""
    svc = services()
    mine = settings_report.report(svc.settings)
    worker = settings_report.published(svc.redis)
    with svc.db.session() as session:
        texts = demand_editor.service_texts(session)
    if problem:
        texts[problem[0]] = draft
    return render_template(
        "console/settings.html", groups=settings_report.grouped(mine), worker=worker, texts=texts, problem=problem,
        differences=settings_report.differences(mine, worker.values) if worker else [],
        mode="outbox (nothing leaves this machine)" if svc.settings.outbox_mode else "Twilio",
        max_segments=svc.settings.max_reply_segments)
