"""The roster section of /teams/{slug}/settings: answering mode, members, personal links.

The settings page itself belongs to the teams domain; it asks roster_context() for this
section's data, and these routes change the roster and render that page again.
"""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app.auth.csrf import CsrfLogin
from app.auth.deps import PageTeam
from app.ballots import mail
from app.ballots import service as ballot_service
from app.config import Settings
from app.db import WriteSessionDep
from app.teams import service as team_service
from app.teams.models import Team

pages = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class AddedMemberView:
    """A member just added from the page: their personal link is shown this once."""

    email: str
    personal_url: str
    invited: bool
    invite_error: str | None = None


def roster_context(
    *, request: Request, team: Team, added: AddedMemberView | None = None
) -> dict[str, Any]:
    """What the roster section of the settings page shows (read in a session of its own)."""
    settings: Settings = request.app.state.settings
    with Session(request.app.state.engine) as session:
        roster = ballot_service.list_members(session=session, team=team)
    return {
        "roster": roster,
        "roster_added": added,
        "roster_can_invite": bool(settings.smtp_url),
    }


def _render(request: Request, team: Team, **kwargs: Any) -> Response:
    # Imported here: the teams domain's page imports this module for roster_context().
    from app.teams.routes import _settings_page

    return _settings_page(request, team, **kwargs)


@pages.post("/teams/{slug}/settings/members")
def add_member(
    request: Request,
    login: CsrfLogin,
    team: PageTeam,
    session: WriteSessionDep,
    email: Annotated[str, Form()] = "",
    invite: Annotated[str, Form()] = "",
) -> Response:
    """Put someone on the roster and show their personal link once (and e-mail it if asked)."""
    settings: Settings = request.app.state.settings
    stored = session.get(Team, team.id)
    assert stored is not None
    try:
        added = ballot_service.add_member(session=session, team=stored, email=email)
    except ballot_service.RosterError as exc:
        session.rollback()
        return _render(request, stored, error=str(exc), status_code=400)
    url = ballot_service.personal_url(base_url=settings.base_url, link=added.link)
    invite_error = None
    if invite:
        try:
            mail.send(
                smtp_url=settings.smtp_url,
                messages=[
                    mail.invitation(
                        team=stored, email=added.member.email, url=url, sender=settings.smtp_from
                    )
                ],
            )
        except mail.MailError as exc:
            invite_error = str(exc)
    view = AddedMemberView(
        email=added.member.email,
        personal_url=url,
        invited=bool(invite) and invite_error is None,
        invite_error=invite_error,
    )
    return _render(request, stored, added_member=view)


@pages.post("/teams/{slug}/settings/members/remove")
def remove_member(
    login: CsrfLogin,
    team: PageTeam,
    session: WriteSessionDep,
    email: Annotated[str, Form()] = "",
) -> Response:
    """Take someone off the roster; their personal link stops working."""
    stored = session.get(Team, team.id)
    assert stored is not None
    try:
        ballot_service.remove_member(session=session, team=stored, email=email)
    except ballot_service.RosterError:
        session.rollback()
    return RedirectResponse(f"/teams/{team.slug}/settings?done=member-removed", status_code=303)


@pages.post("/teams/{slug}/settings/ballots")
def set_ballot_mode(
    request: Request,
    login: CsrfLogin,
    team: PageTeam,
    session: WriteSessionDep,
    ballots: Annotated[str, Form()] = "",
) -> Response:
    """Switch between the shared link and personal ballots."""
    stored = session.get(Team, team.id)
    assert stored is not None
    try:
        team_service.update(session=session, team=stored, ballots=ballots)
    except team_service.TeamError as exc:
        session.rollback()
        return _render(request, stored, error=str(exc), status_code=400)
    ballot_service.sync_headcount(session=session, team=stored)
    session.commit()
    return RedirectResponse(f"/teams/{team.slug}/settings?done=saved", status_code=303)
