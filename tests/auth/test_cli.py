"""`redbutton create-admin`, `user create` and `token create|revoke`, run as admins script them."""

import json

from sqlmodel import Session, select

from app.auth import service as auth_service
from app.auth.models import ApiToken, User
from app.auth.passwords import verify_password
from app.config import Settings
from app.teams import tokens
from tests.factories import make_team
from tests.teams.test_team_cli import run_cli


def test_create_admin_json(settings: Settings, session: Session) -> None:
    result = run_cli(
        settings,
        "create-admin",
        "--email",
        "Root@Example.com",
        "--password",
        "s3cret-enough!",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"email": "root@example.com", "role": "admin", "teams": []}
    user = auth_service.get_user_by_email(session=session, email="root@example.com")
    assert user is not None and user.is_admin
    assert verify_password("s3cret-enough!", user.password_hash)
    assert "s3cret-enough!" not in user.password_hash


def test_user_create_manager_with_teams_json(settings: Settings, session: Session) -> None:
    make_team(session, slug="payments")
    make_team(session, slug="search")
    make_team(session, slug="ops")
    session.commit()
    result = run_cli(
        settings,
        "user",
        "create",
        "--email",
        "mia@example.com",
        "--password",
        "long enough pw",
        "--role",
        "manager",
        "--team",
        "search",
        "--team",
        "payments",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "email": "mia@example.com",
        "role": "manager",
        "teams": ["payments", "search"],
    }


def test_user_create_refuses_bad_input_with_exit_code_1(
    settings: Settings, session: Session
) -> None:
    session.add(User(email="taken@example.com", password_hash="x", role="manager"))
    make_team(session, slug="ops")
    session.commit()
    base = ["user", "create", "--password", "long enough pw", "--json"]
    cases = [
        (["--email", "a@example.com", "--team", "ghost"], "no team with slug 'ghost'"),
        (["--email", "taken@example.com"], "already exists"),
        (["--email", "a@example.com", "--role", "boss"], "role must be one of admin, manager"),
        (["--email", "not-an-email"], "not an email address"),
        (["--email", "a@example.com", "--role", "admin", "--team", "ops"], "admins see every"),
    ]
    for extra, message in cases:
        result = run_cli(settings, *base, *extra)
        assert result.returncode == 1, extra
        assert message in json.loads(result.stdout)["error"], extra
        assert message in result.stderr
    short = run_cli(settings, "user", "create", "--email", "a@example.com", "--password", "short")
    assert short.returncode == 1 and "at least 10 characters" in short.stderr
    session.expire_all()
    assert [u.email for u in session.exec(select(User))] == ["taken@example.com"]


def test_token_create_and_revoke(settings: Settings, session: Session) -> None:
    assert (
        run_cli(
            settings, "create-admin", "--email", "root@example.com", "--password", "long enough pw"
        ).returncode
        == 0
    )
    result = run_cli(settings, "token", "create", "--email", "root@example.com", "--json")
    assert result.returncode == 0, result.stderr
    token = json.loads(result.stdout)["token"]
    row = session.exec(select(ApiToken)).one()
    assert row.token_hash == tokens.hash_token(token) and row.revoked_at is None
    session.commit()

    revoked = run_cli(settings, "token", "revoke", "--token", token, "--json")
    assert revoked.returncode == 0, revoked.stderr
    assert json.loads(revoked.stdout) == {"revoked": 1}
    session.expire_all()
    assert session.exec(select(ApiToken)).one().revoked_at is not None
    session.commit()
    again = run_cli(settings, "token", "revoke", "--token", token)
    assert again.returncode == 1 and "no active token" in again.stderr


def test_token_revoke_every_token_of_a_user(settings: Settings, session: Session) -> None:
    run_cli(settings, "create-admin", "--email", "root@example.com", "--password", "long enough pw")
    for _ in range(2):
        run_cli(settings, "token", "create", "--email", "root@example.com")
    result = run_cli(settings, "token", "revoke", "--email", "root@example.com", "--json")
    assert json.loads(result.stdout) == {"revoked": 2}
    assert all(row.revoked_at is not None for row in session.exec(select(ApiToken)))


def test_token_commands_refuse_unknown_users(settings: Settings) -> None:
    result = run_cli(settings, "token", "create", "--email", "ghost@example.com", "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout) == {"error": "there is no user with email 'ghost@example.com'"}
    neither = run_cli(settings, "token", "revoke")
    assert neither.returncode == 1 and "either --token or --email" in neither.stderr
