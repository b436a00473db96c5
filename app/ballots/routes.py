"""The member's personal ballot: its page, the round key, and blind issuance.

Routes stay thin: find the member and the round, call the service, answer. The check order is
the same everywhere: unknown link (404), team not in personal mode (403), round closed (409),
already issued (409), bad blinded message (422), issued (200).
"""

import base64
from dataclasses import dataclass

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlmodel import Session

from app.ballots import blind_rsa
from app.ballots import service as ballot_service
from app.ballots.models import RosterMember
from app.ballots.schemas import BallotStatusOut, IssueIn, IssueOut, decode_base64
from app.db import WriteSessionDep
from app.pulses import rounds
from app.pulses.routes import PulseContext, pulse_context
from app.teams.models import Team
from app.templating import templates

router = APIRouter(tags=["ballots"])

UNKNOWN_MEMBER = (
    "This personal link is not valid. You may have been removed from the roster or given a new "
    "link: ask your team lead."
)
NOT_PERSONAL = (
    "This team currently answers through its shared pulse link, not personal ballots: ask your "
    "team lead for the shared link."
)


@dataclass(frozen=True)
class MemberContext:
    """The member behind a personal link, and their team's current round."""

    member: RosterMember
    pulse: PulseContext


def member_context(*, request: Request, session: Session, member_link: str) -> MemberContext:
    """The member and the current round of their team; 404 for an unknown link."""
    member = ballot_service.get_member_by_link(session=session, link=member_link)
    team = session.get(Team, member.team_id) if member is not None else None
    if member is None or team is None:
        raise HTTPException(status_code=404, detail=UNKNOWN_MEMBER)
    pulse = pulse_context(request=request, session=session, team_link=team.pulse_link)
    return MemberContext(member=member, pulse=pulse)


def _problem(status_code: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status_code)


def _closed(ctx: MemberContext) -> str:
    return f"The {ctx.pulse.round.period} round is closed and no longer takes answers."


@router.get(
    "/api/v1/ballots/{member_link}",
    response_model=BallotStatusOut,
    responses={
        403: {"description": "the team does not use personal ballots"},
        404: {"description": "unknown personal link"},
        409: {"description": "the round is closed"},
    },
)
def ballot_status(member_link: str, request: Request, session: WriteSessionDep) -> Response:
    """The current round, its public key (base64 SPKI) and whether this member took a ballot."""
    ctx = member_context(request=request, session=session, member_link=member_link)
    if ctx.pulse.team.ballots != "personal":
        return _problem(403, NOT_PERSONAL)
    settings = ctx.pulse.settings
    try:
        round_key = ballot_service.round_public_key(
            session=session, round_=ctx.pulse.round, secret_key=settings.secret_key
        )
    except ballot_service.RoundClosedError:
        return _problem(409, _closed(ctx))
    assert ctx.pulse.round.id is not None
    issued = ballot_service.has_ballot(
        session=session, member=ctx.member, round_id=ctx.pulse.round.id
    )
    return JSONResponse(
        BallotStatusOut(
            round=ctx.pulse.round.period, public_key=round_key.public_key, issued=issued
        ).model_dump()
    )


@router.post(
    "/api/v1/ballots/{member_link}/issue",
    response_model=IssueOut,
    responses={
        403: {"description": "the team does not use personal ballots"},
        404: {"description": "unknown personal link"},
        409: {"description": "already issued this round, or the round is closed"},
        422: {"description": "the blinded message is not base64 or not in range"},
    },
)
def issue_ballot(
    member_link: str, body: IssueIn, request: Request, session: WriteSessionDep
) -> Response:
    """Blind-sign this member's ballot for the current round, once."""
    ctx = member_context(request=request, session=session, member_link=member_link)
    if ctx.pulse.team.ballots != "personal":
        return _problem(403, NOT_PERSONAL)
    try:
        blind_sig = ballot_service.issue(
            session=session,
            member=ctx.member,
            round_=ctx.pulse.round,
            blinded_msg=decode_base64(body.blinded_msg),
            secret_key=ctx.pulse.settings.secret_key,
        )
    except ballot_service.RoundClosedError:
        return _problem(409, _closed(ctx))
    except ballot_service.AlreadyIssuedError:
        return _problem(
            409,
            "You already received this round's ballot. If you have not answered yet, answer "
            "from the browser that received it.",
        )
    except blind_rsa.BlindSignError as exc:
        return JSONResponse(
            {
                "detail": "The blinded message cannot be signed.",
                "errors": [{"field": "blinded_msg", "message": str(exc)}],
            },
            status_code=422,
        )
    return JSONResponse(IssueOut(blind_sig=base64.b64encode(blind_sig).decode()).model_dump())


@router.get("/b/{member_link}", response_class=HTMLResponse, include_in_schema=False)
def member_page(member_link: str, request: Request, session: WriteSessionDep) -> HTMLResponse:
    """The member's personal form: the shared form, driven by static/js/ballot.js."""
    ctx = member_context(request=request, session=session, member_link=member_link)
    pulse = ctx.pulse
    notice = None
    if pulse.team.ballots != "personal":
        notice = NOT_PERSONAL
    elif not pulse.open:
        notice = _closed(ctx)
    return templates.TemplateResponse(
        request,
        "ballots/member.html",
        {
            "team": pulse.team,
            "round": pulse.round,
            "survey": pulse.survey,
            "period_text": rounds.describe_period(pulse.round),
            "notice": notice,
            "errors": {},
            "values": {},
            "comment": None,
            "member_link": member_link,
        },
    )
