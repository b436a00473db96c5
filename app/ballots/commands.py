"""`redbutton member add|list|remove` and `redbutton remind`."""

from typing import Annotated

import typer
from sqlmodel import Session

from app.ballots import keys, mail
from app.ballots import service as ballot_service
from app.cli_support import cli_session, emit, fail
from app.clock import utcnow
from app.config import get_settings
from app.pulses import rounds
from app.pulses.surveys import SurveyFileError, load_surveys
from app.teams import service as team_service
from app.teams.models import Team

member_app = typer.Typer(help="Manage a team's roster for personal ballots.", no_args_is_help=True)

TeamOption = Annotated[str, typer.Option("--team", help="the team's slug")]
EmailOption = Annotated[str, typer.Option("--email", help="the member's e-mail address")]
JsonOption = Annotated[bool, typer.Option("--json", help="print one JSON object")]


def _team(session: Session, slug: str, *, as_json: bool) -> Team:
    team = team_service.get_by_slug(session=session, slug=slug)
    if team is None:
        fail(f"no team with slug {slug!r}", as_json=as_json)
    return team


@member_app.command("add")
def add(
    team: TeamOption,
    email: EmailOption,
    invite: Annotated[
        bool, typer.Option("--invite", help="e-mail the personal link to the member")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Add someone to the roster and print their personal link (shown only once)."""
    settings = get_settings()
    with cli_session() as session:
        found = _team(session, team, as_json=as_json)
        if invite and not settings.smtp_url:
            fail("--invite needs REDBUTTON_SMTP_URL (smtp://host:port)", as_json=as_json)
        try:
            added = ballot_service.add_member(session=session, team=found, email=email)
        except ballot_service.RosterError as exc:
            fail(str(exc), as_json=as_json)
        url = ballot_service.personal_url(base_url=settings.base_url, link=added.link)
        if invite:
            try:
                mail.send(
                    smtp_url=settings.smtp_url,
                    messages=[
                        mail.invitation(
                            team=found, email=added.member.email, url=url, sender=settings.smtp_from
                        )
                    ],
                )
            except mail.MailError as exc:
                fail(
                    f"{added.member.email} was added but the invitation failed ({exc}); "
                    f"send them this link yourself: {url}",
                    as_json=as_json,
                )
        emit(
            {"email": added.member.email, "personal_url": url, "invited": invite},
            as_json=as_json,
            text=(
                f"{added.member.email} is on the roster of {found.slug}.\n"
                f"Personal link (shown once): {url}" + ("\nInvitation sent." if invite else "")
            ),
        )


@member_app.command("list")
def list_(team: TeamOption, as_json: JsonOption = False) -> None:
    """Print the team's roster."""
    with cli_session() as session:
        found = _team(session, team, as_json=as_json)
        members = ballot_service.list_members(session=session, team=found)
        emit(
            {
                "team": found.slug,
                "members": [
                    {"email": member.email, "added_at": member.added_at.isoformat()}
                    for member in members
                ],
            },
            as_json=as_json,
            text="\n".join(member.email for member in members)
            or f"The roster of {found.slug} is empty.",
        )


@member_app.command("remove")
def remove(team: TeamOption, email: EmailOption, as_json: JsonOption = False) -> None:
    """Take someone off the roster; their personal link stops working."""
    with cli_session() as session:
        found = _team(session, team, as_json=as_json)
        try:
            ballot_service.remove_member(session=session, team=found, email=email)
        except ballot_service.RosterError as exc:
            fail(str(exc), as_json=as_json)
        emit(
            {"email": email.strip().lower(), "removed": True},
            as_json=as_json,
            text=f"{email.strip().lower()} is no longer on the roster of {found.slug}.",
        )


def remind(
    team: TeamOption,
    as_json: JsonOption = False,
) -> None:
    """E-mail the roster members who have not taken this round's ballot."""
    settings = get_settings()
    if not settings.smtp_url:
        fail("reminders need REDBUTTON_SMTP_URL (smtp://host:port)", as_json=as_json)
    try:
        surveys = load_surveys(settings.surveys_dir)
    except SurveyFileError as exc:
        fail(str(exc), as_json=as_json)
    with cli_session() as session:
        found = _team(session, team, as_json=as_json)
        if found.ballots != "personal":
            fail(
                f"{found.slug} answers through its shared link; reminders are for personal "
                "ballots (redbutton team set SLUG --ballots personal)",
                as_json=as_json,
            )
        survey = surveys.get(found.survey_id)
        if survey is None:
            fail(
                f"the survey {found.survey_id!r} of {found.slug} is not installed", as_json=as_json
            )
        keys.destroy_closed(session=session)
        round_ = rounds.current_round(session=session, team=found, survey=survey, now=utcnow())
        if not rounds.is_open(round_, utcnow()):
            fail(f"the {round_.period} round of {found.slug} is closed", as_json=as_json)
        assert round_.id is not None
        pending = ballot_service.members_without_ballot(
            session=session, team=found, round_id=round_.id
        )
        try:
            mail.send(
                smtp_url=settings.smtp_url,
                messages=[
                    mail.reminder(
                        team=found,
                        email=member.email,
                        period=round_.period,
                        sender=settings.smtp_from,
                    )
                    for member in pending
                ],
            )
        except mail.MailError as exc:
            fail(str(exc), as_json=as_json)
        emit(
            {"team": found.slug, "round": round_.period, "reminded": [m.email for m in pending]},
            as_json=as_json,
            text=f"Reminded {len(pending)} member(s) of {found.slug} for {round_.period}.",
        )


def apply_ballot_mode(*, session: Session, team: Team) -> None:
    """After a team's settings change: in personal mode the headcount is the roster size."""
    ballot_service.sync_headcount(session=session, team=team)
    session.commit()
