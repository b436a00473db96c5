"""`redbutton team create|set`."""

from typing import Annotated

import typer

from app.ballots.commands import apply_ballot_mode
from app.cli_support import cli_session, emit, fail
from app.config import get_settings
from app.pulses.surveys import SurveyFileError, load_surveys
from app.teams import service as team_service

team_app = typer.Typer(help="Create and change teams.", no_args_is_help=True)


def pulse_url(link: str) -> str:
    """The full shared pulse link for a team link token."""
    return team_service.pulse_url(base_url=get_settings().base_url, link=link)


@team_app.command("create")
def create(
    slug: Annotated[str, typer.Option(help="short name used in URLs, e.g. payments")],
    name: Annotated[str, typer.Option(help="display name")],
    size: Annotated[int, typer.Option(help="headcount, for the response rate")],
    survey: Annotated[str, typer.Option(help="survey id")] = "release-pulse",
    timezone: Annotated[str, typer.Option(help="IANA timezone")] = "UTC",
    cadence: Annotated[str, typer.Option(help="weekly, monthly or quarterly")] = "weekly",
    ballots: Annotated[str, typer.Option(help="link (shared) or personal")] = "link",
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Create a team and print its pulse link, ingest token and webhook secret."""
    try:
        surveys = load_surveys(get_settings().surveys_dir)
    except SurveyFileError as exc:
        fail(str(exc), as_json=as_json)
    with cli_session() as session:
        try:
            issued = team_service.create(
                session=session,
                slug=slug,
                name=name,
                size=size,
                survey_id=survey,
                timezone=timezone,
                cadence=cadence,
                ballots=ballots,
                known_surveys=surveys,
            )
        except team_service.TeamError as exc:
            fail(str(exc), as_json=as_json)
        url = pulse_url(issued.team.pulse_link)
        emit(
            {
                "slug": issued.team.slug,
                "pulse_url": url,
                "ingest_token": issued.ingest_token,
                "webhook_secret": issued.webhook_secret,
            },
            as_json=as_json,
            text=(
                f"Team {issued.team.name} ({issued.team.slug}) created.\n"
                f"Pulse link for members: {url}\n"
                f"Ingest token (shown once): {issued.ingest_token}\n"
                f"Webhook secret: {issued.webhook_secret}"
            ),
        )


@team_app.command("set")
def set_(
    slug: Annotated[str, typer.Argument(help="the team to change")],
    name: Annotated[str | None, typer.Option(help="display name")] = None,
    size: Annotated[int | None, typer.Option(help="headcount, for the response rate")] = None,
    survey: Annotated[str | None, typer.Option(help="survey id")] = None,
    timezone: Annotated[str | None, typer.Option(help="IANA timezone")] = None,
    cadence: Annotated[str | None, typer.Option(help="weekly, monthly or quarterly")] = None,
    ballots: Annotated[str | None, typer.Option(help="link (shared) or personal")] = None,
    production_environments: Annotated[
        str | None, typer.Option(help="comma-separated environment names that count")
    ] = None,
    incident_link_window_hours: Annotated[
        int | None, typer.Option(help="hours for inferring an incident's deployment")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Change a team's settings; options left out keep their value."""
    with cli_session() as session:
        team = team_service.get_by_slug(session=session, slug=slug)
        if team is None:
            fail(f"there is no team with slug {slug!r}", as_json=as_json)
        try:
            team = team_service.update(
                session=session,
                team=team,
                name=name,
                size=size,
                survey_id=survey,
                timezone=timezone,
                cadence=cadence,
                ballots=ballots,
                production_environments=production_environments,
                incident_link_window_hours=incident_link_window_hours,
            )
        except team_service.TeamError as exc:
            fail(str(exc), as_json=as_json)
        apply_ballot_mode(session=session, team=team)
        emit(
            {
                "slug": team.slug,
                "name": team.name,
                "size": team.size,
                "survey": team.survey_id,
                "timezone": team.timezone,
                "cadence": team.cadence,
                "ballots": team.ballots,
                "production_environments": team.production_environment_names,
                "incident_link_window_hours": team.incident_link_window_hours,
            },
            as_json=as_json,
            text=f"Team {team.name} ({team.slug}) updated.",
        )
