"""`redbutton import deployments|incidents FILE.csv --team SLUG`."""

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from app.config import Settings
from app.delivery import imports, service
from app.delivery.models import Deployment, DeploymentIn, Incident, IncidentIn
from tests.conftest import server_environment
from tests.factories import make_incident, make_team

REDBUTTON = shutil.which("redbutton", path=str(Path(sys.executable).parent)) or "redbutton"

DEPLOYMENTS = """external_id,environment,status,finished_at,started_at,sha,is_rollback,rolls_back
r-1,production,success,2026-03-02T10:00:00+01:00,,abc,,
r-2,production,failure,2026-03-03T10:00:00Z,2026-03-03T09:50:00Z,,false,
r-3,production,success,2026-03-03T11:00:00Z,,,true,r-1
"""


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [REDBUTTON, *args],
        env=server_environment(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_parse_reads_every_column() -> None:
    parsed = imports.parse(DEPLOYMENTS, "deployments")
    assert parsed.errors == []
    assert parsed.lines == [2, 3, 4]
    first, second, third = parsed.records
    assert isinstance(first, DeploymentIn)
    assert first.finished_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert (first.sha, first.started_at, first.is_rollback) == ("abc", None, False)
    assert isinstance(second, DeploymentIn) and second.status == "failure"
    assert isinstance(third, DeploymentIn) and third.rolls_back == "r-1"


def test_parse_reports_every_bad_line() -> None:
    text = (
        "external_id,started_at,resolved_at,title\n"
        "i-1,2026-03-02T10:00:00Z,2026-03-02T11:00:00Z,fine\n"
        "i-2,2026-03-02T10:00:00,,naive\n"
        "i-3,2026-03-02T10:00:00Z,2026-03-02T09:00:00Z,backwards\n"
        "i-1,2026-03-04T10:00:00Z,,again\n"
        ",2026-03-02T10:00:00Z,,no id\n"
    )
    parsed = imports.parse(text, "incidents")
    assert [(e.line, e.message.split(":")[0]) for e in parsed.errors] == [
        (3, "started_at"),
        (4, "resolved_at is before started_at"),
        (5, "external_id 'i-1' is already on line 2"),
        (6, "external_id"),
    ]
    assert "UTC offset" in parsed.errors[0].message


def test_parse_checks_the_header() -> None:
    parsed = imports.parse("external_id,env,status\nx,prod,success\n", "deployments")
    (error,) = parsed.errors
    assert error.line == 1
    assert "unknown column(s) env" in error.message
    assert "missing column(s) environment, finished_at" in error.message
    assert imports.parse("", "incidents").errors[0].message.startswith("the file is empty")


def count(session: Session, model: type[Deployment] | type[Incident]) -> int:
    session.expire_all()
    value = int(session.exec(select(func.count()).select_from(model)).one())
    session.commit()
    return value


def test_import_is_all_or_nothing_and_idempotent(
    settings: Settings, session: Session, tmp_path: Path
) -> None:
    team = make_team(session, slug="payments").team
    session.commit()
    bad = tmp_path / "bad.csv"
    bad.write_text(DEPLOYMENTS + "r-4,production,maybe,2026-03-03T12:00:00Z,,,,\n")
    result = run_cli(settings, "import", "deployments", str(bad), "--team", "payments", "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["errors"] == [{"line": 5, "message": report["errors"][0]["message"]}]
    assert "status" in report["errors"][0]["message"]
    assert "bad.csv:5: status" in result.stderr
    assert count(session, Deployment) == 0

    good = tmp_path / "good.csv"
    good.write_text(DEPLOYMENTS)
    for expected in ({"created": 3, "updated": 0}, {"created": 0, "updated": 3}):
        result = run_cli(
            settings, "import", "deployments", str(good), "--team", "payments", "--json"
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {"team": "payments", "kind": "deployments", **expected}
    assert count(session, Deployment) == 3
    rolled = session.exec(select(Deployment).where(Deployment.external_id == "r-1")).one()
    assert rolled.rolled_back is True and rolled.team_id == team.id


def test_import_incidents_refuses_an_unknown_team(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "incidents.csv"
    path.write_text("external_id,started_at\ni-1,2026-03-02T10:00:00Z\n")
    result = run_cli(settings, "import", "incidents", str(path), "--team", "nobody", "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout) == {"error": "no team with slug 'nobody'"}


def test_a_row_that_conflicts_with_stored_data_names_its_record_and_nothing_is_kept(
    session: Session,
) -> None:
    team = make_team(session).team
    make_incident(
        session,
        team,
        external_id="i-old",
        started_at=datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
        resolved_at=datetime(2026, 3, 2, 13, 0, tzinfo=UTC),
    )
    parsed = imports.parse(
        "external_id,started_at\ni-new,2026-03-03T10:00:00Z\ni-old,2026-03-02T14:00:00Z\n",
        "incidents",
    )
    records = [r for r in parsed.records if isinstance(r, IncidentIn)]
    with pytest.raises(service.IngestError) as raised:
        service.import_incidents(session=session, team=team, records=records)
    assert raised.value.record == 1 and parsed.lines[1] == 3
    assert "before it started" in str(raised.value)
    assert count(session, Incident) == 1  # i-new was not kept
