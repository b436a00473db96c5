"""`redbutton demo`: a realistic dataset to explore the product with."""

from dataclasses import asdict
from typing import Annotated

import typer

from app.cli_support import cli_session, emit, fail
from app.config import get_settings
from app.demo.seed import DemoError, is_empty, load_demo
from app.pulses.surveys import load_surveys


def demo(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="do nothing (successfully) when teams exist")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Load several teams with months of pulses, deployments and incidents, and demo logins."""
    settings = get_settings()
    surveys = load_surveys(settings.surveys_dir)
    with cli_session() as session:
        if if_empty and not is_empty(session=session):
            emit({"loaded": False}, as_json=as_json, text="Teams exist already: demo not loaded.")
            return
        try:
            summary = load_demo(session=session, surveys=surveys)
        except DemoError as exc:
            fail(str(exc), as_json=as_json)
    emit(
        {"loaded": True, **asdict(summary)},
        as_json=as_json,
        text=(
            f"Demo loaded: {len(summary.teams)} teams ({', '.join(summary.teams)}), "
            f"{summary.rounds} rounds, {summary.responses} responses, "
            f"{summary.deployments} deployments, {summary.incidents} incidents.\n"
            f"Log in at {settings.base_url.rstrip('/')}/login as {summary.manager_email} "
            f"(manager of Payments and Mobile apps) or {summary.admin_email} (admin), "
            f"password: {summary.password}"
        ),
    )
