"""`redbutton member add|list|remove`, invitations over SMTP, and the roster-driven headcount."""

import json

from sqlmodel import Session, select

from app.ballots import service as ballot_service
from app.ballots.models import RosterMember
from app.config import Settings
from app.teams import tokens
from app.teams.models import Team
from tests.ballots.conftest import Inbox, run_cli
from tests.factories import make_team


def test_member_add_prints_a_personal_url_whose_hash_alone_is_stored(
    settings: Settings, session: Session
) -> None:
    make_team(session, slug="payments", ballots="personal")
    session.commit()  # release SQLite's write lock for the CLI process
    result = run_cli(
        settings, "member", "add", "--team", "payments", "--email", " Ada@Example.com", "--json"
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["email"] == "ada@example.com"
    prefix = "https://pulse.example.com/b/"
    assert payload["personal_url"].startswith(prefix)
    link = payload["personal_url"].removeprefix(prefix)
    assert len(link) == 32
    session.expire_all()
    member = session.exec(select(RosterMember)).one()
    assert member.email == "ada@example.com"
    assert member.link_hash == tokens.hash_token(link)
    assert link not in member.link_hash


def test_in_personal_mode_the_headcount_follows_the_roster(
    settings: Settings, session: Session
) -> None:
    team = make_team(session, slug="payments", size=9, ballots="personal").team
    session.commit()  # release SQLite's write lock for the CLI process
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        assert (
            run_cli(settings, "member", "add", "--team", "payments", "--email", email).returncode
            == 0
        )
    session.expire_all()
    assert session.get(Team, team.id).size == 3  # type: ignore[union-attr]
    session.commit()
    removed = run_cli(
        settings, "member", "remove", "--team", "payments", "--email", "b@example.com", "--json"
    )
    assert json.loads(removed.stdout) == {"email": "b@example.com", "removed": True}
    listed = json.loads(run_cli(settings, "member", "list", "--team", "payments", "--json").stdout)
    assert [m["email"] for m in listed["members"]] == ["a@example.com", "c@example.com"]
    session.expire_all()
    assert session.get(Team, team.id).size == 2  # type: ignore[union-attr]


def test_in_link_mode_the_headcount_is_left_alone(settings: Settings, session: Session) -> None:
    team = make_team(session, size=9).team
    ballot_service.add_member(session=session, team=team, email="a@example.com")
    session.refresh(team)
    assert team.size == 9


def test_bad_roster_changes_are_refused_with_a_reason(settings: Settings, session: Session) -> None:
    make_team(session, slug="payments", ballots="personal")
    session.commit()  # release SQLite's write lock for the CLI process
    ok = run_cli(settings, "member", "add", "--team", "payments", "--email", "a@example.com")
    assert ok.returncode == 0
    twice = run_cli(settings, "member", "add", "--team", "payments", "--email", "A@example.com")
    assert twice.returncode == 1 and "already on the roster" in twice.stderr
    bad = run_cli(settings, "member", "add", "--team", "payments", "--email", "not-an-address")
    assert bad.returncode == 1 and "is not an e-mail address" in bad.stderr
    unknown = run_cli(settings, "member", "add", "--team", "nope", "--email", "b@example.com")
    assert unknown.returncode == 1 and "no team with slug 'nope'" in unknown.stderr
    absent = run_cli(settings, "member", "remove", "--team", "payments", "--email", "z@example.com")
    assert absent.returncode == 1 and "is not on the roster" in absent.stderr
    assert len(session.exec(select(RosterMember)).all()) == 1


def test_invite_delivers_the_personal_link_by_smtp(
    settings: Settings, session: Session, smtp_server: tuple[str, Inbox]
) -> None:
    smtp_url, inbox = smtp_server
    make_team(session, slug="payments", name="Payments", ballots="personal")
    session.commit()  # release SQLite's write lock for the CLI process
    result = run_cli(
        settings,
        "member",
        "add",
        "--team",
        "payments",
        "--email",
        "ada@example.com",
        "--invite",
        "--json",
        smtp_url=smtp_url,
    )
    assert result.returncode == 0, result.stderr
    url = json.loads(result.stdout)["personal_url"]
    [message] = inbox.to("ada@example.com")
    assert message["From"] == "redbutton@example.com"
    assert message["Subject"] == "Your personal link for the Payments pulse"
    body = message.get_content()
    assert url in body
    assert "cannot tell which answers are yours" in body


def test_invite_without_smtp_is_refused_before_anything_is_stored(
    settings: Settings, session: Session
) -> None:
    make_team(session, slug="payments", ballots="personal")
    session.commit()  # release SQLite's write lock for the CLI process
    result = run_cli(
        settings, "member", "add", "--team", "payments", "--email", "a@example.com", "--invite"
    )
    assert result.returncode == 1
    assert "REDBUTTON_SMTP_URL" in result.stderr
    assert len(session.exec(select(RosterMember)).all()) == 0
