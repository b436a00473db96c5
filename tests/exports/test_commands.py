"""`redbutton export` writes the same file as the API."""

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.config import Settings
from tests.conftest import server_environment
from tests.exports.scenario import BELOW_THRESHOLD_COMMENT, build_retro
from tests.factories import bearer

REDBUTTON = str(Path(sys.executable).parent / "redbutton")


def run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [REDBUTTON, "export", *args],
        env=server_environment(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_cli_writes_the_api_export_to_a_file(
    client: TestClient, session: Session, settings: Settings, tmp_path: Path
) -> None:
    retro = build_retro(session)
    target = tmp_path / "retro.csv"
    done = run(
        settings,
        "--team",
        retro.team.slug,
        "--format",
        "csv",
        "--from",
        str(retro.start),
        "--to",
        str(retro.end),
        "--output",
        str(target),
        "--json",
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["file"], summary["weeks"]) == (str(target), 7)
    api = client.get(
        f"/api/v1/teams/{retro.team.slug}/export?format=csv&{retro.query}",
        headers=bearer(retro.token),
    )
    assert target.read_bytes() == api.content  # the same bytes, CRLF rows included
    assert len(list(csv.reader(io.StringIO(api.text)))) == 8

    printed = run(
        settings, "--team", retro.team.slug, "--format", "json", "--from", str(retro.start)
    )
    assert printed.returncode == 0, printed.stderr
    data = json.loads(printed.stdout)
    assert data["schema_version"] == 1 and data["from"] == str(retro.start)
    assert BELOW_THRESHOLD_COMMENT not in printed.stdout


def test_the_cli_refuses_bad_input_with_a_message(session: Session, settings: Settings) -> None:
    retro = build_retro(session)
    bad_format = run(settings, "--team", retro.team.slug, "--format", "xlsx")
    assert bad_format.returncode == 1 and "unknown format 'xlsx'" in bad_format.stderr
    backwards = run(
        settings, "--team", retro.team.slug, "--from", "2026-03-09", "--to", "2026-03-01"
    )
    assert backwards.returncode == 1 and "is after" in backwards.stderr
    unknown = run(settings, "--team", "nobody")
    assert unknown.returncode == 1 and "no team with slug 'nobody'" in unknown.stderr
