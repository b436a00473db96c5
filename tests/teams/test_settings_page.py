"""The team settings page: who may open it, what it changes, and credential rotation."""

from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.clock import utcnow
from app.pulses.rounds import find_by_pulse_link
from app.teams import service as team_service
from app.teams import tokens
from app.teams.models import Team
from tests.factories import make_login, make_team, make_user


def _reload(session: Session, team: Team) -> Team:
    session.expire_all()
    fresh = session.get(Team, team.id)
    assert fresh is not None
    return fresh


def test_managers_of_the_team_and_admins_may_open_it(client: TestClient, session: Session) -> None:
    team = make_team(session).team
    other = make_team(session).team
    manager = make_user(session, teams=[team])
    make_login(client, session, manager)
    page = client.get(f"/teams/{team.slug}/settings")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.context["pulse_url"] == f"http://testserver/p/{team.pulse_link}"
    assert team.webhook_secret in page.text
    assert client.get(f"/teams/{other.slug}/settings").status_code == 403
    assert client.get("/teams/ghost/settings").status_code == 404
    admin = make_user(session, role="admin")
    client.cookies.clear()
    make_login(client, session, admin)
    assert client.get(f"/teams/{other.slug}/settings").status_code == 200


def test_a_manager_outside_the_team_cannot_change_it(client: TestClient, session: Session) -> None:
    team = make_team(session).team
    outsider = make_user(session, teams=[make_team(session).team])
    csrf = make_login(client, session, outsider)
    before = team.pulse_link
    response = client.post(f"/teams/{team.slug}/settings/pulse-link", data={"csrf_token": csrf})
    assert response.status_code == 403
    assert _reload(session, team).pulse_link == before


def test_saving_the_settings(client: TestClient, session: Session) -> None:
    team = make_team(session, size=8).team
    manager = make_user(session, teams=[team])
    csrf = make_login(client, session, manager)
    response = client.post(
        f"/teams/{team.slug}/settings",
        data={
            "csrf_token": csrf,
            "size": "11",
            "timezone": "America/New_York",
            "survey": "westrum",
            "production_environments": " Production, prod-eu ,production",
            "incident_link_window_hours": "12",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/teams/{team.slug}/settings?done=saved"
    saved = _reload(session, team)
    assert (saved.size, saved.timezone, saved.survey_id) == (11, "America/New_York", "westrum")
    assert saved.production_environment_names == ["production", "prod-eu"]
    assert saved.incident_link_window_hours == 12


def test_bad_settings_are_refused_and_nothing_changes(client: TestClient, session: Session) -> None:
    team = make_team(session, size=8, timezone="Europe/Paris").team
    manager = make_user(session, teams=[team])
    csrf = make_login(client, session, manager)
    good = {
        "csrf_token": csrf,
        "size": "9",
        "timezone": "UTC",
        "survey": "release-pulse",
        "production_environments": "production",
        "incident_link_window_hours": "24",
    }
    for change, message in [
        ({"size": "0"}, "at least 1"),
        ({"size": "ten"}, "whole number"),
        ({"timezone": "Mars/Olympus"}, "IANA timezone"),
        ({"production_environments": " , "}, "at least one production environment"),
        ({"production_environments": "prod; drop"}, "not valid"),
        ({"incident_link_window_hours": "200"}, "between 0 and 168"),
        ({"survey": "Not a survey"}, "survey"),
    ]:
        response = client.post(f"/teams/{team.slug}/settings", data={**good, **change})
        assert response.status_code == 400, change
        assert message in response.text, change
    saved = _reload(session, team)
    assert (saved.size, saved.timezone) == (8, "Europe/Paris")


def test_the_survey_must_be_a_loaded_one_when_surveys_are_loaded(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    app.state.surveys = {"release-pulse": object(), "westrum": object()}
    team = make_team(session).team
    manager = make_user(session, teams=[team])
    csrf = make_login(client, session, manager)
    page = client.get(f"/teams/{team.slug}/settings")
    assert page.context["surveys"] == ["release-pulse", "westrum"]
    assert '<select id="survey" name="survey">' in page.text
    response = client.post(
        f"/teams/{team.slug}/settings",
        data={
            "csrf_token": csrf,
            "size": "8",
            "timezone": "UTC",
            "survey": "psychological-safety",
            "production_environments": "production",
            "incident_link_window_hours": "24",
        },
    )
    assert response.status_code == 400
    assert "not one of the loaded surveys: release-pulse, westrum" in response.text


def test_rotating_the_pulse_link_invalidates_the_old_one(
    client: TestClient, session: Session
) -> None:
    team = make_team(session).team
    old_link = team.pulse_link
    manager = make_user(session, teams=[team])
    csrf = make_login(client, session, manager)
    response = client.post(
        f"/teams/{team.slug}/settings/pulse-link",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303
    new_link = _reload(session, team).pulse_link
    assert new_link != old_link and len(new_link) >= 32
    assert find_by_pulse_link(session=session, link=old_link, now=utcnow()) is None
    found = find_by_pulse_link(session=session, link=new_link, now=utcnow())
    assert found is not None and found.team.id == team.id
    assert new_link in client.get(f"/teams/{team.slug}/settings").text


def test_rotating_the_ingest_token_shows_the_new_one_once(
    client: TestClient, session: Session
) -> None:
    issued = make_team(session)
    manager = make_user(session, teams=[issued.team])
    csrf = make_login(client, session, manager)
    response = client.post(
        f"/teams/{issued.team.slug}/settings/ingest-token", data={"csrf_token": csrf}
    )
    assert response.status_code == 200
    token = response.context["ingest_token"]
    assert token in response.text
    assert _reload(session, issued.team).ingest_token_hash == tokens.hash_token(token)
    assert team_service.get_by_ingest_token(session=session, token=issued.ingest_token) is None
    assert team_service.get_by_ingest_token(session=session, token=token) is not None
    assert token not in client.get(f"/teams/{issued.team.slug}/settings").text


def test_a_rotated_webhook_secret_stays_valid_for_24_hours(
    client: TestClient, session: Session
) -> None:
    issued = make_team(session)
    manager = make_user(session, teams=[issued.team])
    csrf = make_login(client, session, manager)
    response = client.post(
        f"/teams/{issued.team.slug}/settings/webhook-secret",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303
    team = _reload(session, issued.team)
    assert team.webhook_secret != issued.webhook_secret
    assert team_service.webhook_secrets(team) == [team.webhook_secret, issued.webhook_secret]
    page = client.get(f"/teams/{team.slug}/settings")
    assert team.webhook_secret in page.text and "previous secret keeps working" in page.text
    # 24 hours later only the new secret is accepted.
    assert team.webhook_secret_rotated_at is not None
    team.webhook_secret_rotated_at -= timedelta(hours=24)
    session.add(team)
    session.commit()
    assert team_service.webhook_secrets(team) == [team.webhook_secret]
    assert "previous secret keeps working" not in client.get(f"/teams/{team.slug}/settings").text


def test_settings_forms_refuse_a_missing_or_wrong_csrf_token(
    client: TestClient, session: Session
) -> None:
    issued = make_team(session)
    manager = make_user(session, teams=[issued.team])
    make_login(client, session, manager)
    slug = issued.team.slug
    for path in (
        "settings",
        "settings/pulse-link",
        "settings/ingest-token",
        "settings/webhook-secret",
    ):
        for data in ({}, {"csrf_token": "forged"}):
            response = client.post(f"/teams/{slug}/{path}", data={**data, "size": "3"})
            assert response.status_code == 403, path
    team = _reload(session, issued.team)
    assert team.pulse_link == issued.team.pulse_link and team.size == issued.team.size
    assert team.webhook_secret == issued.webhook_secret
    assert team.ingest_token_hash == tokens.hash_token(issued.ingest_token)
