"""`redbutton import deployments|incidents FILE.csv --team SLUG`: delivery history in bulk."""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from app.cli_support import cli_session, emit, fail
from app.delivery import imports, service
from app.delivery.models import DeploymentIn, IncidentIn
from app.teams import service as team_service

import_app = typer.Typer(
    help="Import delivery history from CSV files (all rows or none).", no_args_is_help=True
)

FileArgument = Annotated[
    Path, typer.Argument(help="CSV file with a header line", exists=True, dir_okay=False)
]
TeamOption = Annotated[str, typer.Option("--team", help="slug of the team")]
JsonOption = Annotated[bool, typer.Option("--json", help="print one JSON object")]


def _run(path: Path, team_slug: str, kind: imports.Kind, as_json: bool) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {path}: {exc}", as_json=as_json)
    parsed = imports.parse(text, kind)
    with cli_session() as session:
        team = team_service.get_by_slug(session=session, slug=team_slug)
        if team is None:
            fail(f"no team with slug {team_slug!r}", as_json=as_json)
        errors = parsed.errors
        created = updated = 0
        if not errors:
            try:
                if kind == "deployments":
                    created, updated = service.import_deployments(
                        session=session,
                        team=team,
                        records=[r for r in parsed.records if isinstance(r, DeploymentIn)],
                    )
                else:
                    created, updated = service.import_incidents(
                        session=session,
                        team=team,
                        records=[r for r in parsed.records if isinstance(r, IncidentIn)],
                    )
            except service.IngestError as exc:
                line = parsed.lines[exc.record] if exc.record is not None else 0
                errors = [imports.LineError(line, str(exc))]
    if errors:
        _report(path, errors, as_json=as_json)
    emit(
        {"team": team_slug, "kind": kind, "created": created, "updated": updated},
        as_json=as_json,
        text=f"Imported {kind} for {team_slug}: {created} new, {updated} updated.",
    )


def _report(path: Path, errors: list[imports.LineError], *, as_json: bool) -> None:
    """Print every error with its line; nothing was imported."""
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "error": f"{path.name}: {len(errors)} error(s); nothing was imported",
                    "errors": [{"line": e.line, "message": e.message} for e in errors],
                }
            )
        )
    for error in errors:
        print(f"{path.name}:{error.line}: {error.message}", file=sys.stderr)
    print(f"error: {len(errors)} error(s); nothing was imported", file=sys.stderr)
    raise typer.Exit(1)


@import_app.command("deployments")
def import_deployments(file: FileArgument, team: TeamOption, as_json: JsonOption = False) -> None:
    """Columns: external_id, environment, status, finished_at, started_at, sha, is_rollback,
    rolls_back."""
    _run(file, team, "deployments", as_json)


@import_app.command("incidents")
def import_incidents(file: FileArgument, team: TeamOption, as_json: JsonOption = False) -> None:
    """Columns: external_id, started_at, resolved_at, severity, title, deployment_external_id,
    sha."""
    _run(file, team, "incidents", as_json)
