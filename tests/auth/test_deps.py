"""Who may see which team: the rule every page and API shares."""

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.deps import ApiTeam
from app.clock import utcnow
from tests.factories import bearer, make_api_token, make_team, make_user


def _probe(app: FastAPI) -> None:
    @app.get("/probe/{slug}")
    def probe(team: ApiTeam) -> dict[str, str]:
        return {"slug": team.slug}


def test_api_team_access(app: FastAPI, session: Session) -> None:
    _probe(app)
    mine = make_team(session).team
    other = make_team(session).team
    manager = make_user(session, teams=[mine])
    admin = make_user(session, role="admin")
    manager_token = make_api_token(session, manager)
    admin_token = make_api_token(session, admin)
    with TestClient(app) as client:
        assert client.get(f"/probe/{mine.slug}").status_code == 401
        assert client.get(f"/probe/{mine.slug}", headers=bearer("nope")).status_code == 401
        assert client.get(f"/probe/{mine.slug}", headers=bearer(manager_token)).json() == {
            "slug": mine.slug
        }
        assert client.get(f"/probe/{other.slug}", headers=bearer(manager_token)).status_code == 403
        assert client.get("/probe/unknown", headers=bearer(manager_token)).status_code == 404
        assert client.get(f"/probe/{other.slug}", headers=bearer(admin_token)).status_code == 200


def test_a_revoked_token_is_refused(app: FastAPI, session: Session) -> None:
    _probe(app)
    team = make_team(session).team
    user = make_user(session, teams=[team])
    token = make_api_token(session, user)
    from sqlmodel import select

    from app.auth.models import ApiToken

    row = session.exec(select(ApiToken)).one()
    row.revoked_at = utcnow()
    session.add(row)
    session.commit()
    with TestClient(app) as client:
        assert client.get(f"/probe/{team.slug}", headers=bearer(token)).status_code == 401
