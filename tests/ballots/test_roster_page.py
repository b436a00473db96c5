"""The roster section of the team settings page: mode, adding (link shown once), removing."""

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.ballots.models import RosterMember
from app.teams import tokens
from app.teams.models import Team
from tests.factories import make_login, make_team, make_user


def _team(session: Session, team_id: int | None) -> Team:
    session.expire_all()
    fresh = session.get(Team, team_id)
    assert fresh is not None
    session.commit()
    return fresh


def _members(session: Session) -> list[str]:
    emails = [m.email for m in session.exec(select(RosterMember).order_by(RosterMember.email))]
    session.commit()
    return emails


def test_a_manager_switches_to_personal_ballots_and_manages_the_roster(
    client: TestClient, session: Session
) -> None:
    team = make_team(session, size=10).team
    manager = make_user(session, teams=[team])
    csrf = make_login(client, session, manager)

    page = client.get(f"/teams/{team.slug}/settings")
    assert page.status_code == 200
    assert "Nobody is on the roster yet." in page.text

    switched = client.post(
        f"/teams/{team.slug}/settings/ballots",
        data={"csrf_token": csrf, "ballots": "personal"},
        follow_redirects=False,
    )
    assert switched.status_code == 303
    assert _team(session, team.id).ballots == "personal"
    assert _team(session, team.id).size == 1  # the (empty) roster, at least one

    added = client.post(
        f"/teams/{team.slug}/settings/members",
        data={"csrf_token": csrf, "email": "Ada@Example.com"},
    )
    assert added.status_code == 200
    view = added.context["roster_added"]
    assert view.email == "ada@example.com"
    link = view.personal_url.removeprefix("http://testserver/b/")
    assert f'<code class="secret" id="personal-url">{view.personal_url}</code>' in added.text
    member = session.exec(select(RosterMember)).one()
    assert member.link_hash == tokens.hash_token(link)
    session.commit()
    client.post(
        f"/teams/{team.slug}/settings/members",
        data={"csrf_token": csrf, "email": "bob@example.com"},
    )
    assert _members(session) == ["ada@example.com", "bob@example.com"]
    assert _team(session, team.id).size == 2
    # Shown once: the page never shows it again.
    assert link not in client.get(f"/teams/{team.slug}/settings").text

    removed = client.post(
        f"/teams/{team.slug}/settings/members/remove",
        data={"csrf_token": csrf, "email": "ada@example.com"},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert _members(session) == ["bob@example.com"]
    assert client.get(f"/b/{link}").status_code == 404


def test_roster_changes_need_the_csrf_token_and_the_team(
    client: TestClient, session: Session
) -> None:
    team = make_team(session, ballots="personal").team
    other = make_team(session).team
    manager = make_user(session, teams=[other])
    csrf = make_login(client, session, manager)
    outside = client.post(
        f"/teams/{team.slug}/settings/members", data={"csrf_token": csrf, "email": "a@example.com"}
    )
    assert outside.status_code == 403
    forged = client.post(
        f"/teams/{other.slug}/settings/members", data={"csrf_token": "x", "email": "a@example.com"}
    )
    assert forged.status_code == 403
    assert _members(session) == []


def test_a_bad_address_is_refused_with_a_reason(client: TestClient, session: Session) -> None:
    team = make_team(session, ballots="personal").team
    csrf = make_login(client, session, make_user(session, teams=[team]))
    refused = client.post(
        f"/teams/{team.slug}/settings/members", data={"csrf_token": csrf, "email": "nope"}
    )
    assert refused.status_code == 400
    assert "is not an e-mail address" in refused.text
    assert _members(session) == []
