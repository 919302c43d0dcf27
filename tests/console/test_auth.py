"""Console access: login, logout, CSRF, roles, rate limit, 401 for APIs, cookies, the CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sms.console import organizers
from sms.console.models import Organizer
from tests.support.console import PASSWORD, csrf_token, login, make_organizer, post


@pytest.fixture
def organizer(svc) -> str:
    make_organizer(svc)
    return "org@example.org"


@pytest.fixture
def admin(svc) -> str:
    make_organizer(svc, "boss@example.org", "admin")
    return "boss@example.org"


@pytest.mark.parametrize("path", ["/console/", "/console/demands", "/console/inbox", "/console/export/messages.csv",
                                  "/console/queues/", "/console/simulator"])
def test_pages_redirect_anonymous_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.location.startswith("/console/login?next=")


@pytest.mark.parametrize("path, headers", [("/console/api/stats", {}),
                                           ("/console/", {"Accept": "application/json"}),
                                           ("/console/queues/0/data/queues.json", {"Accept": "application/json"})])
def test_api_requests_get_401(client, path, headers):
    response = client.get(path, headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {"error": "login required"}


def test_login_then_pages_then_logout(client, organizer):
    response = login(client)
    assert response.status_code == 302 and response.location == "/console/"
    assert client.get("/console/").status_code == 200
    assert client.get("/console/api/stats").status_code == 200
    response = post(client, "/console/logout", {})
    assert response.status_code == 302
    assert client.get("/console/").status_code == 302


def test_login_follows_next_only_inside_console(client, organizer):
    token = csrf_token(client)
    data = {"email": organizer, "password": PASSWORD, "csrf_token": token}
    assert client.post("/console/login?next=/console/inbox", data=data).location == "/console/inbox"
    post(client, "/console/logout", {})
    data["csrf_token"] = csrf_token(client)
    assert client.post("/console/login?next=//evil.example/x", data=data).location == "/console/"


@pytest.mark.parametrize("email, password", [("org@example.org", "wrong password!"),
                                             ("nobody@example.org", PASSWORD), ("", "")])
def test_wrong_credentials_refused(client, organizer, email, password):
    response = login(client, email, password)
    assert response.status_code == 401
    assert "Wrong email or password" in response.get_data(as_text=True)
    assert client.get("/console/").status_code == 302


def test_deactivated_organizer_cannot_log_in(client, svc, organizer):
    with svc.db.session() as session:
        session.scalars(select(Organizer)).one().active = False
        session.commit()
    assert login(client).status_code == 401


def test_passwords_are_hashed(svc, organizer):
    with svc.db.session() as session:
        stored = session.scalars(select(Organizer)).one().password_hash
    assert PASSWORD not in stored and stored.startswith(("scrypt:", "pbkdf2:"))


def test_login_without_csrf_token_is_refused(client, organizer):
    client.get("/console/login")
    response = client.post("/console/login", data={"email": organizer, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/console/").status_code == 302


def test_console_forms_require_csrf(client, organizer):
    login(client)
    response = client.post("/console/demands/CHOKEHOLD", data={"keyword": "CHOKEHOLD"})
    assert response.status_code == 400
    response = client.post("/console/api/simulator", json={"body": "MENU"})
    assert response.status_code == 400
    response = client.post("/console/logout", data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert client.get("/console/").status_code == 200


def test_login_rate_limited(client, config, svc, organizer):
    limit = svc.settings.console_login_limit
    for _ in range(limit):
        assert login(client, organizer, "wrong password!").status_code == 401
    response = login(client, organizer, PASSWORD)  # even the right password waits
    assert response.status_code == 429
    assert "Too many login attempts" in response.get_data(as_text=True)


def test_organizer_cannot_reach_admin_pages(client, organizer):
    login(client)
    assert client.get("/console/organizers").status_code == 403
    assert client.get("/console/settings").status_code == 403
    assert post(client, "/console/organizers", {"email": "x@example.org", "password": PASSWORD}).status_code == 403


def test_admin_adds_and_manages_organizers(client, svc, admin):
    login(client, admin)
    response = post(client, "/console/organizers", {"email": "New@Example.org", "password": PASSWORD,
                                                    "role": "organizer"})
    assert response.status_code == 302
    with svc.db.session() as session:
        new = organizers.find(session, "new@example.org")
    assert new is not None and new.role == "organizer"
    assert post(client, f"/console/organizers/{new.id}", {"action": "role", "role": "admin"}).status_code == 302
    assert post(client, f"/console/organizers/{new.id}", {"action": "deactivate"}).status_code == 302
    with svc.db.session() as session:
        changed = session.get(Organizer, new.id)
    assert changed.role == "admin" and not changed.active
    assert "TWILIO" in client.get("/console/settings").get_data(as_text=True)


@pytest.mark.parametrize("data, message", [
    ({"email": "not-an-email", "password": PASSWORD, "role": "organizer"}, "valid email"),
    ({"email": "a@example.org", "password": "short", "role": "organizer"}, "at least 10"),
    ({"email": "a@example.org", "password": PASSWORD, "role": "king"}, "Role must be"),
    ({"email": "boss@example.org", "password": PASSWORD, "role": "organizer"}, "already exists"),
])
def test_add_organizer_validation(client, svc, admin, data, message):
    login(client, admin)
    response = post(client, "/console/organizers", data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with svc.db.session() as session:
        assert len(organizers.listing(session)) == 1


def test_last_admin_cannot_be_demoted_or_deactivated(client, svc, admin):
    login(client, admin)
    with svc.db.session() as session:
        me = organizers.find(session, admin)
    for data in ({"action": "deactivate"}, {"action": "role", "role": "organizer"}):
        response = post(client, f"/console/organizers/{me.id}", data)
        assert response.status_code == 400 and "no active admin" in response.get_data(as_text=True)
    response = post(client, f"/console/organizers/{me.id}", {"action": "password", "password": "short"})
    assert response.status_code == 400


def test_session_cookie_is_secure_and_httponly_over_https(client, organizer):
    response = login(client)
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_console_pages_send_security_headers(client, organizer):
    login(client)
    response = client.get("/console/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def _fail() -> None:
    raise RuntimeError("boom")


def test_queue_dashboard_behind_login_and_admin_for_actions(client, svc, organizer, admin, run_jobs):
    job = svc.enqueue("default", _fail)
    run_jobs()
    login(client)
    assert client.get("/console/queues/").status_code == 200
    failed = client.get("/console/queues/0/data/jobs/default/failed/8/asc/1.json").get_json()
    assert [j["id"] for j in failed["jobs"]] == [job.id]
    assert client.get(f"/console/queues/0/view/job/{job.id}").status_code == 200
    same_origin = {"Origin": "https://localhost"}
    assert client.post(f"/console/queues/job/{job.id}/requeue", headers=same_origin).status_code == 403
    assert client.get("/console/queues/requeue/default").status_code == 403
    post(client, "/console/logout", {})
    login(client, admin)
    assert client.post(f"/console/queues/job/{job.id}/requeue", headers={"Origin": "https://evil.example"}
                       ).status_code == 403
    assert client.post(f"/console/queues/job/{job.id}/requeue", headers=same_origin).get_json()["status"] == "OK"
    assert svc.queue("default").job_ids == [job.id]


def test_deactivated_organizer_is_logged_out(client, svc, organizer):
    login(client)
    with svc.db.session() as session:
        session.scalars(select(Organizer)).one().active = False
        session.commit()
    assert client.get("/console/").status_code == 302


def test_create_organizer_command(runner, svc):
    result = runner.invoke(args=["create-organizer", "cli@example.org", "--password", PASSWORD, "--admin"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["create-organizer", "prompt@example.org"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["create-organizer", "cli@example.org", "--password", PASSWORD])
    assert result.exit_code != 0 and "already exists" in result.output
    with svc.db.session() as session:
        roles = {o.email: o.role for o in organizers.listing(session)}
    assert roles == {"cli@example.org": "admin", "prompt@example.org": "organizer"}


@pytest.mark.parametrize("data, status, message", [
    ({"action": "role", "role": "king"}, 400, "Unknown role"),
    ({"action": "explode"}, 400, "Unknown action"),
    ({"action": "password", "password": "short"}, 400, "at least 10"),
])
def test_organizer_update_validation(client, svc, admin, organizer, data, status, message):
    login(client, admin)
    with svc.db.session() as session:
        target = organizers.find(session, organizer)
    response = post(client, f"/console/organizers/{target.id}", data)
    assert response.status_code == status and message in response.get_data(as_text=True)
    with svc.db.session() as session:
        unchanged = session.get(Organizer, target.id)
    assert (unchanged.role, unchanged.active, unchanged.password_hash) == ("organizer", True, target.password_hash)
    assert post(client, "/console/organizers/99999", {"action": "activate"}).status_code == 404


def test_admin_resets_a_password(client, svc, admin, organizer):
    login(client, admin)
    with svc.db.session() as session:
        target_id = organizers.find(session, organizer).id
    assert post(client, f"/console/organizers/{target_id}", {"action": "password",
                                                             "password": "a brand new secret"}).status_code == 302
    post(client, "/console/logout", {})
    assert login(client, organizer, PASSWORD).status_code == 401
    assert login(client, organizer, "a brand new secret").status_code == 302
