"""Who may call what: every route × every kind of caller, with the status each one gets.

The table is the contract. A new route without a row fails `test_every_route_has_a_row`, so
nobody can add an endpoint without deciding who may use it.

Callers: `anon` knows no link and has no login; `member` holds the team's pulse link (and a
personal ballot link) and nothing else; `manager` manages team A (logged in, with an API token);
`other` manages team B only; `admin`; `ingest` sends team A's ingest token; `revoked` sends a
revoked API token of A's manager. Requests carry a minimal body (the CSRF token for forms, `{}`
for JSON), so a caller who gets past access control sees a validation answer (400/422), and
one who does not sees 401/403/404 or the redirect to /login (303). Rotating the ingest token
shows the new one once (200).
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth import service as auth_service
from app.ballots import service as ballot_service
from app.teams.models import Team
from tests.factories import make_api_token, make_login, make_team, make_user, settle
from tests.reliability.routes import app_routes

CALLERS = ("anon", "member", "manager", "other", "admin", "ingest", "revoked")

# Rows run in this order; the ones that rotate credentials or close the round come last, so
# earlier rows see the team as created: the API close (200) leaves the page's Close button a
# 409, and /logout ends every login last. /login sends a logged-in manager on to /teams (303).
# POST /login without its CSRF token is refused (403)
# before any password is checked; the ballot API is 403 because team A uses the shared link.
# fmt: off
MATRIX: dict[tuple[str, str], tuple[int, int, int, int, int, int, int]] = {
    # columns: anon, member, manager, other, admin, ingest, revoked
    ("GET", "/healthz"):                                  (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/readyz"):                                   (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/openapi.json"):                             (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/docs"):                                     (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/docs/oauth2-redirect"):                     (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/redoc"):                                    (200, 200, 200, 200, 200, 200, 200),
    ("MOUNT", "/static"):                                 (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/privacy"):                                  (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/"):                                         (303, 303, 303, 303, 303, 303, 303),
    ("GET", "/login"):                                    (200, 200, 303, 303, 303, 200, 200),
    ("POST", "/login"):                                   (403, 403, 403, 403, 403, 403, 403),
    ("GET", "/p/{team_link}"):                            (404, 200, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/pulse/{team_link}"):                 (404, 200, 200, 200, 200, 200, 200),
    ("POST", "/p/{team_link}"):                           (404, 422, 422, 422, 422, 422, 422),
    ("POST", "/api/v1/pulse/{team_link}/responses"):      (422, 422, 422, 422, 422, 422, 422),
    ("GET", "/b/{member_link}"):                          (404, 200, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/ballots/{member_link}"):             (404, 403, 403, 403, 403, 403, 403),
    ("POST", "/api/v1/ballots/{member_link}/issue"):      (422, 422, 422, 422, 422, 422, 422),
    ("GET", "/teams"):                                    (303, 303, 200, 200, 200, 303, 303),
    ("GET", "/org"):                                      (303, 303, 200, 200, 200, 303, 303),
    ("GET", "/teams/{slug}"):                             (303, 303, 200, 403, 200, 303, 303),
    ("GET", "/teams/{slug}/settings"):                    (303, 303, 200, 403, 200, 303, 303),
    ("POST", "/teams/{slug}/settings"):                   (303, 303, 400, 403, 400, 303, 303),
    ("GET", "/admin"):                                    (303, 303, 403, 403, 200, 303, 303),
    ("POST", "/admin/users"):                             (303, 303, 403, 403, 400, 303, 303),
    ("POST", "/admin/managers"):                          (303, 303, 403, 403, 400, 303, 303),
    ("POST", "/admin/teams"):                             (303, 303, 403, 403, 400, 303, 303),
    ("GET", "/api/v1/teams"):                             (401, 401, 200, 200, 200, 401, 401),
    ("GET", "/api/v1/teams/{slug}/trends"):               (401, 401, 200, 403, 200, 401, 401),
    ("GET", "/api/v1/teams/{slug}/questions"):            (401, 401, 200, 403, 200, 401, 401),
    ("GET", "/api/v1/org/trends"):                        (401, 401, 200, 200, 200, 401, 401),
    ("POST", "/api/v1/deployments"):                      (401, 401, 401, 401, 401, 422, 401),
    ("POST", "/api/v1/incidents"):                        (401, 401, 401, 401, 401, 422, 401),
    ("POST", "/api/v1/hooks/github/{team_slug}"):         (401, 401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/hooks/gitlab/{team_slug}"):         (401, 401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/hooks/pagerduty/{team_slug}"):      (401, 401, 401, 401, 401, 401, 401),
    ("GET", "/teams/{slug}/export"):                      (303, 303, 200, 403, 200, 303, 303),
    ("GET", "/api/v1/teams/{slug}/export"):               (401, 401, 200, 403, 200, 401, 401),
    ("POST", "/teams/{slug}/settings/members"):           (303, 303, 400, 403, 400, 303, 303),
    ("POST", "/teams/{slug}/settings/members/remove"):    (303, 303, 303, 403, 303, 303, 303),
    ("POST", "/teams/{slug}/settings/ballots"):           (303, 303, 400, 403, 400, 303, 303),
    ("POST", "/teams/{slug}/settings/pulse-link"):        (303, 303, 303, 403, 303, 303, 303),
    ("POST", "/teams/{slug}/settings/ingest-token"):      (303, 303, 200, 403, 200, 303, 303),
    ("POST", "/teams/{slug}/settings/webhook-secret"):    (303, 303, 303, 403, 303, 303, 303),
    ("POST", "/api/v1/teams/{slug}/rounds/current/close"):(401, 401, 200, 403, 409, 401, 401),
    ("POST", "/teams/{slug}/rounds/current/close"):       (303, 303, 409, 403, 409, 303, 303),
    ("POST", "/logout"):                                  (303, 303, 303, 303, 303, 303, 303),
}
# fmt: on


@dataclass
class Caller:
    """One kind of caller: a client (its own cookie jar), headers and a CSRF token if logged in."""

    client: TestClient
    headers: dict[str, str]
    csrf: str | None = None


@dataclass
class World:
    """The two teams and the links the rows need (re-read: rows may rotate them)."""

    team: Team
    member_link: str


def _path(template: str, world: World, session: Session, caller: str) -> str:
    session.refresh(world.team)
    settle(session)  # the read must not keep SQLite's write lock while the app answers
    knows_links = caller != "anon"
    return (
        template.replace("{slug}", world.team.slug)
        .replace("{team_slug}", world.team.slug)
        .replace("{team_link}", world.team.pulse_link if knows_links else "not-a-link")
        .replace("{member_link}", world.member_link if knows_links else "not-a-link")
    )


@pytest.fixture
def callers(app: FastAPI, session: Session) -> Iterator[tuple[World, dict[str, Caller]]]:
    issued = make_team(session, slug="team-a", name="Team A")
    other_team = make_team(session, slug="team-b", name="Team B").team
    team = issued.team
    member_link = ballot_service.add_member(session=session, team=team, email="m@example.com").link
    manager = make_user(session, teams=[team])
    other = make_user(session, teams=[other_team])
    admin = make_user(session, role="admin")
    revoked_token = make_api_token(session, manager)
    auth_service.revoke_api_token(session=session, token=revoked_token)
    settle(session)
    clients: list[TestClient] = []

    def client() -> TestClient:
        made = TestClient(app, follow_redirects=False)
        made.__enter__()
        clients.append(made)
        return made

    found: dict[str, Caller] = {
        "anon": Caller(client(), {}),
        "member": Caller(client(), {}),
        "ingest": Caller(client(), {"Authorization": f"Bearer {issued.ingest_token}"}),
        "revoked": Caller(client(), {"Authorization": f"Bearer {revoked_token}"}),
    }
    for name, user in (("manager", manager), ("other", other), ("admin", admin)):
        logged_in = client()
        csrf = make_login(logged_in, session, user)
        token = make_api_token(session, user)
        settle(session)
        found[name] = Caller(logged_in, {"Authorization": f"Bearer {token}"}, csrf)
    yield World(team=team, member_link=member_link), found
    for made in clients:
        made.__exit__(None, None, None)


def _call(caller: Caller, method: str, path: str) -> int:
    if method == "MOUNT":
        return int(
            caller.client.get(f"{path}/css/redbutton.css", headers=caller.headers).status_code
        )
    if method == "GET":
        return int(caller.client.get(path, headers=caller.headers).status_code)
    if path.startswith("/api/"):
        return int(caller.client.post(path, json={}, headers=caller.headers).status_code)
    data = {"csrf_token": caller.csrf} if caller.csrf else {}
    return int(caller.client.post(path, data=data, headers=caller.headers).status_code)


def test_every_route_has_a_row(app: FastAPI) -> None:
    routes = app_routes(app)
    assert routes - MATRIX.keys() == set(), "routes without an access-matrix row"
    assert MATRIX.keys() - routes == set(), "matrix rows for routes that no longer exist"


def test_access_matrix(
    app: FastAPI, session: Session, callers: tuple[World, dict[str, Caller]]
) -> None:
    world, by_name = callers
    observed: dict[tuple[str, str], tuple[int, ...]] = {}
    for (method, template), _expected in MATRIX.items():
        observed[(method, template)] = tuple(
            _call(by_name[name], method, _path(template, world, session, name)) for name in CALLERS
        )
        settle(session)
    if os.environ.get("REDBUTTON_PRINT_MATRIX"):
        for key, row in observed.items():
            print(f"    {key!r}: {row},")
    wrong = {
        f"{method} {path}": {
            name: f"expected {want}, got {got}"
            for name, want, got in zip(CALLERS, MATRIX[(method, path)], row, strict=True)
            if want != got
        }
        for (method, path), row in observed.items()
        if row != MATRIX[(method, path)]
    }
    assert wrong == {}
