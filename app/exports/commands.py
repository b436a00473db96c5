"""`redbutton export`: the retro export on the command line, written as it is read."""

import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from app.cli_support import emit, fail
from app.clock import utcnow
from app.config import get_settings
from app.db import make_engine
from app.exports import formats, service
from app.teams import service as team_service


def export(
    team: Annotated[str, typer.Option("--team", help="the team's slug")],
    format: Annotated[str, typer.Option("--format", help="csv, json or md")] = "csv",
    start: Annotated[
        str | None, typer.Option("--from", help="first week start, YYYY-MM-DD")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="last week start, YYYY-MM-DD")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="write to this file instead of stdout")
    ] = None,
    questions: Annotated[
        bool, typer.Option("--questions", help="csv: one row per week and question")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="with --output: print one JSON object about the file")
    ] = False,
) -> None:
    """Export a team's weeks, questions, comments and delivery events for a retrospective."""
    if as_json and output is None:
        fail("--json describes the written file: give --output too", as_json=True)
    settings = get_settings()
    # A read-only session: on SQLite a write-ready one would hold the write lock, and keep
    # answers from being stored, for as long as the export takes.
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            found = team_service.get_by_slug(session=session, slug=team)
            if found is None:
                fail(f"no team with slug '{team}'", as_json=as_json)
            try:
                plan = service.plan_export(
                    team=found,
                    settings=settings,
                    now=utcnow(),
                    format=format,
                    start=start,
                    end=end,
                    variant="questions" if questions else None,
                )
            except service.ExportError as exc:
                fail(str(exc), as_json=as_json)
            # End the look-up's transaction: the export reads from one fresh snapshot.
            session.rollback()
            if output is None:
                for piece in formats.render(session=session, plan=plan):
                    sys.stdout.write(piece)
                sys.stdout.flush()
                return
            written = 0
            with output.open("w", encoding="utf-8", newline="") as handle:
                for piece in formats.render(session=session, plan=plan):
                    written += handle.write(piece)
    finally:
        engine.dispose()
    emit(
        {
            "file": str(output),
            "format": plan.format,
            "from": plan.start.isoformat(),
            "to": plan.end.isoformat(),
            "weeks": len(plan.mondays),
            "characters": written,
        },
        as_json=as_json,
        text=f"Wrote the {plan.format} export of {len(plan.mondays)} weeks "
        f"({plan.start} to {plan.end}) to {output}.",
    )
