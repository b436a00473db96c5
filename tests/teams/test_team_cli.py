"""`redbutton team create` as an admin scripts it."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session

from app.config import Settings
from app.teams import service as team_service
from app.teams import tokens
from tests.conftest import server_environment

REDBUTTON = shutil.which("redbutton", path=str(Path(sys.executable).parent)) or "redbutton"


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [REDBUTTON, *args],
        env=server_environment(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_team_create_json_prints_the_credentials(settings: Settings, session: Session) -> None:
    result = run_cli(
        settings,
        "team",
        "create",
        "--slug",
        "payments",
        "--name",
        "Payments",
        "--size",
        "7",
        "--timezone",
        "Europe/Paris",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload) == {"slug", "pulse_url", "ingest_token", "webhook_secret"}
    team = team_service.get_by_slug(session=session, slug="payments")
    assert team is not None
    assert payload["pulse_url"].endswith(f"/p/{team.pulse_link}")
    assert len(team.pulse_link) >= 32
    assert team.timezone == "Europe/Paris" and team.size == 7
    # Only the hash of the ingest token is stored.
    assert team.ingest_token_hash == tokens.hash_token(payload["ingest_token"])
    assert payload["ingest_token"] not in team.model_dump_json()


def test_team_create_refuses_bad_input_with_a_message(settings: Settings, session: Session) -> None:
    result = run_cli(
        settings, "team", "create", "--slug", "Bad Slug", "--name", "X", "--size", "3", "--json"
    )
    assert result.returncode == 1
    assert "slug" in json.loads(result.stdout)["error"]
    result = run_cli(
        settings,
        "team",
        "create",
        "--slug",
        "ok",
        "--name",
        "X",
        "--size",
        "3",
        "--timezone",
        "Mars/Olympus",
    )
    assert result.returncode == 1
    assert "IANA timezone" in result.stderr
    assert team_service.list_all(session=session) == []


def test_a_duplicate_slug_is_refused(settings: Settings, session: Session) -> None:
    assert (
        run_cli(
            settings, "team", "create", "--slug", "ops", "--name", "Ops", "--size", "4"
        ).returncode
        == 0
    )
    result = run_cli(settings, "team", "create", "--slug", "ops", "--name", "Ops 2", "--size", "4")
    assert result.returncode == 1
    assert "already exists" in result.stderr
    assert len(team_service.list_all(session=session)) == 1


def test_team_set_changes_only_the_given_options(settings: Settings, session: Session) -> None:
    assert (
        run_cli(
            settings, "team", "create", "--slug", "ops", "--name", "Ops", "--size", "4"
        ).returncode
        == 0
    )
    result = run_cli(
        settings,
        "team",
        "set",
        "ops",
        "--size",
        "9",
        "--timezone",
        "Asia/Tokyo",
        "--production-environments",
        "prod-eu, prod-us",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "slug": "ops",
        "name": "Ops",
        "size": 9,
        "survey": "release-pulse",
        "timezone": "Asia/Tokyo",
        "cadence": "weekly",
        "ballots": "link",
        "production_environments": ["prod-eu", "prod-us"],
        "incident_link_window_hours": 24,
    }
    team = team_service.get_by_slug(session=session, slug="ops")
    assert team is not None and team.size == 9 and team.timezone == "Asia/Tokyo"


def test_team_set_refuses_bad_input_and_changes_nothing(
    settings: Settings, session: Session
) -> None:
    run_cli(settings, "team", "create", "--slug", "ops", "--name", "Ops", "--size", "4")
    unknown = run_cli(settings, "team", "set", "ghost", "--size", "3", "--json")
    assert unknown.returncode == 1
    assert json.loads(unknown.stdout) == {"error": "there is no team with slug 'ghost'"}
    for option, value, message in [
        ("--size", "0", "at least 1"),
        ("--timezone", "Mars/Olympus", "IANA timezone"),
        ("--ballots", "paper", "ballots must be one of link, personal"),
    ]:
        # The name is changed too: a refused option must leave every other one alone.
        result = run_cli(settings, "team", "set", "ops", "--name", "Renamed", option, value)
        assert result.returncode == 1, option
        assert message in result.stderr, option
    team = team_service.get_by_slug(session=session, slug="ops")
    assert team is not None and (team.name, team.size, team.timezone) == ("Ops", 4, "UTC")
