"""DESIGN §9 hardening: security headers on every page, no inline script or style in any
template, CSRF on every state-changing form, rate limits on login and submission, and no
secret in any log line."""

import logging
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.auth.deps import SESSION_COOKIE
from app.config import PROJECT_ROOT, Settings
from app.main import create_app
from app.pulses.models import Response
from tests.factories import (
    csrf_from,
    make_api_token,
    make_login,
    make_team,
    make_user,
    settle,
    shipped_surveys,
)

TEMPLATES = sorted((PROJECT_ROOT / "app" / "templates").rglob("*.html"))
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
POST_FORM = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", re.I | re.S)
# The anonymous answer form has no login to ride on: whoever can post to it already holds the
# pulse link, so a token would add nothing (and the form must work with no session at all).
CSRF_EXEMPT_FORMS = {"pulses/form.html"}
ANSWERS = dict.fromkeys(shipped_surveys()["release-pulse"].keys, 3)


def test_templates_have_no_inline_script_style_or_handlers() -> None:
    assert TEMPLATES, "no templates found"
    found = []
    for template in TEMPLATES:
        text = template.read_text()
        for pattern in (INLINE_SCRIPT, STYLE_ATTRIBUTE, EVENT_HANDLER):
            found += [f"{template.name}: {hit}" for hit in pattern.findall(text)]
    assert found == []


def test_every_post_form_in_the_templates_carries_the_csrf_token() -> None:
    missing = []
    forms = 0
    for template in TEMPLATES:
        name = template.relative_to(PROJECT_ROOT / "app" / "templates").as_posix()
        for body in POST_FORM.findall(template.read_text()):
            forms += 1
            if 'name="csrf_token"' not in body and name not in CSRF_EXEMPT_FORMS:
                missing.append(name)
    assert forms >= 10
    assert missing == []


def test_every_page_sends_the_security_headers(client: TestClient, session: Session) -> None:
    team = make_team(session).team
    admin = make_user(session, role="admin")
    make_login(client, session, admin)
    pages = [
        "/login",
        "/privacy",
        "/teams",
        "/org",
        f"/teams/{team.slug}",
        f"/teams/{team.slug}/settings",
        "/admin",
        f"/p/{team.pulse_link}",
        "/p/unknown-link",
        "/healthz",
        "/api/v1/teams",
    ]
    for path in pages:
        page = client.get(path, headers={"Accept": "text/html"})
        assert page.status_code in (200, 401, 404), path
        csp = page.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "unsafe-inline" not in csp, path
        assert "frame-ancestors 'none'" in csp, path
        assert page.headers["x-content-type-options"] == "nosniff", path
        assert page.headers["referrer-policy"] == "no-referrer", path
        assert page.headers["x-frame-options"] == "DENY", path


def test_state_changing_forms_refuse_a_post_without_the_csrf_token(
    client: TestClient, session: Session
) -> None:
    team = make_team(session).team
    admin = make_user(session, role="admin")
    make_login(client, session, admin)
    link = team.pulse_link
    for path in [
        f"/teams/{team.slug}/settings/pulse-link",
        f"/teams/{team.slug}/settings/ingest-token",
        f"/teams/{team.slug}/settings/webhook-secret",
        f"/teams/{team.slug}/rounds/current/close",
        f"/teams/{team.slug}/settings",
        "/admin/users",
        "/admin/teams",
        "/admin/managers",
        "/logout",
    ]:
        refused = client.post(path, data={"csrf_token": "forged"}, follow_redirects=False)
        assert refused.status_code == 403, (path, refused.status_code)
    session.refresh(team)
    assert team.pulse_link == link, "a forged POST rotated the pulse link"
    # Still logged in: the forged /logout did nothing either.
    assert client.get("/admin").status_code == 200


def test_submissions_are_rate_limited_per_team_with_retry_after(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"submit_rate_limit": 3}))
    from sqlmodel import Session as DbSession

    from app.db import writer

    with DbSession(writer(app.state.engine)) as session:
        team = make_team(session).team
        link = team.pulse_link
        settle(session)
    statuses = []
    for _ in range(4):
        # A new client each time: different members, so the round cookie does not refuse them.
        with TestClient(app) as member:
            answer = member.post(f"/api/v1/pulse/{link}/responses", json={"answers": ANSWERS})
            statuses.append(answer.status_code)
    assert statuses == [201, 201, 201, 429]
    assert 1 <= int(answer.headers["retry-after"]) <= 60
    assert "nothing was stored" in answer.json()["detail"].lower()
    with DbSession(app.state.engine) as session:
        assert session.exec(select(func.count()).select_from(Response)).one() == 3
    with TestClient(app) as browser:
        page = browser.post(f"/p/{link}", data=ANSWERS, headers={"Accept": "text/html"})
    assert page.status_code == 429
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["retry-after"]


def test_logins_are_rate_limited_with_retry_after(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"login_rate_limit": 2}))
    from sqlmodel import Session as DbSession

    from app.db import writer

    with DbSession(writer(app.state.engine)) as session:
        user = make_user(session)
        email = user.email
        settle(session)
    with TestClient(app) as client:
        statuses = []
        for _ in range(3):
            form = client.get("/login")
            attempt = client.post(
                "/login",
                data={"email": email, "password": "wrong", "csrf_token": csrf_from(form.text)},
            )
            statuses.append(attempt.status_code)
    assert statuses == [400, 400, 429]
    assert 1 <= int(attempt.headers["retry-after"]) <= 60


def test_secrets_never_reach_a_log_line(
    app: FastAPI, client: TestClient, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    issued = make_team(session)
    password = "an-unlikely-password-4711"
    manager = make_user(session, teams=[issued.team], password=password)
    api_token = make_api_token(session, manager)
    settle(session)
    make_login(client, session, manager, password=password)
    cookie = client.cookies.get(SESSION_COOKIE)
    client.get("/api/v1/teams", headers={"Authorization": f"Bearer {api_token}"})
    client.get("/api/v1/teams", headers={"Authorization": "Bearer wrong-token"})
    client.post(
        "/api/v1/deployments",
        json={"external_id": "d1", "environment": "production", "status": "success"},
        headers={"Authorization": f"Bearer {issued.ingest_token}"},
    )
    client.post(
        f"/api/v1/hooks/gitlab/{issued.team.slug}",
        json={"object_kind": "deployment"},
        headers={"X-Gitlab-Token": issued.webhook_secret},
    )
    client.post(f"/api/v1/pulse/{issued.team.pulse_link}/responses", json={"answers": ANSWERS})
    client.get(f"/p/{issued.team.pulse_link}")
    # Everything the server side logged (the test's own HTTP client logs its URLs: not ours).
    lines = [record.getMessage() for record in caplog.records if record.name != "httpx"]
    assert len(lines) >= 5, "the requests left no log lines to check"
    secrets = {
        "password": password,
        "api token": api_token,
        "ingest token": issued.ingest_token,
        "webhook secret": issued.webhook_secret,
        "session cookie": cookie or "",
        "pulse link": issued.team.pulse_link,
    }
    leaked = {
        f"{name}: {line}" for name, secret in secrets.items() for line in lines if secret in line
    }
    assert leaked == set()
