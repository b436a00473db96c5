"""The member's side: the anonymous answer form, its JSON twin and the /privacy page.

Routes stay thin: find the team and its current round, call the service, render. The checks run
in the same order everywhere: unknown link (404), personal ballots (403), round closed (409),
already answered (409), invalid answers (422), stored (201 / thank-you page).
"""

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, StringConstraints
from sqlmodel import Session
from starlette.datastructures import FormData

from app.ballots import service as ballot_service
from app.ballots.schemas import BallotIn
from app.clock import utcnow
from app.config import Settings
from app.db import WriteSessionDep
from app.pulses import cookies, rounds, service
from app.pulses.models import Round
from app.pulses.surveys import RESERVED_KEYS, Survey
from app.pulses.throttle import SubmissionThrottle
from app.teams import service as team_service
from app.teams.models import Team
from app.templating import templates

router = APIRouter(tags=["pulse"])

UNKNOWN_LINK = (
    "This pulse link is not valid. It may have been replaced by a new one: "
    "ask your team lead for the current link."
)
PERSONAL_BALLOTS = (
    "This team answers with personal ballots, so the shared link does not take answers: "
    "use the personal link you received by e-mail."
)
ALREADY_ANSWERED = "You have already answered this round. Thank you! The next round opens soon."
INTEGER = re.compile(r"^[+-]?\d{1,9}$")


def throttle_submissions(team_link: str, request: Request) -> None:
    """429 once too many submissions came through this link this minute (nothing is stored)."""
    throttle: SubmissionThrottle = request.app.state.submission_throttle
    wait = throttle.retry_after(team_link)
    if wait is not None:
        raise HTTPException(
            status_code=429,
            detail="Too many answers were sent through this link in the last minute. "
            f"Nothing was stored; please try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )


Throttled = Depends(throttle_submissions)


def _closed_message(round: Round) -> str:
    return f"The {round.period} round is closed and no longer takes answers."


@dataclass(frozen=True)
class PulseContext:
    """Everything a pulse request needs to know about the link it came through."""

    team: Team
    round: Round
    survey: Survey  # as frozen for this round: the text the member sees and answers
    settings: Settings
    open: bool
    answered: bool


def pulse_context(*, request: Request, session: Session, team_link: str) -> PulseContext:
    """The team, its current round (created on first use) and the round's survey; 404 if unknown."""
    team = team_service.get_by_pulse_link(session=session, link=team_link)
    if team is None:
        raise HTTPException(status_code=404, detail=UNKNOWN_LINK)
    now = utcnow()
    file_survey: Survey | None = request.app.state.surveys.get(team.survey_id)
    if file_survey is None:
        period = rounds.period_for(cadence=team.cadence, timezone=team.timezone, now=now)
        round_ = rounds.get_round(session=session, team=team, period=period.label)
        if round_ is None:
            raise HTTPException(
                status_code=503,
                detail=f"This team's survey {team.survey_id!r} is not installed on the server; "
                "please tell an administrator.",
            )
    else:
        try:
            round_ = rounds.current_round(session=session, team=team, survey=file_survey, now=now)
        except service.SurveyFrozenError as exc:
            raise HTTPException(status_code=503, detail=str(exc)) from exc
    settings: Settings = request.app.state.settings
    return PulseContext(
        team=team,
        round=round_,
        survey=service.survey_of_round(session=session, round=round_),
        settings=settings,
        open=rounds.is_open(round_, utcnow()),
        answered=cookies.has_answered(request=request, settings=settings, round=round_),
    )


def _render_form(
    request: Request,
    pulse: PulseContext,
    *,
    status_code: int = 200,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    comment: str | None = None,
) -> HTMLResponse:
    if notice is None:
        if pulse.team.ballots == "personal":
            notice = PERSONAL_BALLOTS
        elif not pulse.open:
            notice = _closed_message(pulse.round)
        elif pulse.answered:
            notice = ALREADY_ANSWERED
    return templates.TemplateResponse(
        request,
        "pulses/form.html",
        {
            "team": pulse.team,
            "round": pulse.round,
            "survey": pulse.survey,
            "period_text": rounds.describe_period(pulse.round),
            "notice": notice,
            "errors": errors or {},
            "values": values or {},
            "comment": comment,
        },
        status_code=status_code,
    )


@router.get("/p/{team_link}", response_class=HTMLResponse, include_in_schema=False)
def pulse_form(team_link: str, request: Request, session: WriteSessionDep) -> HTMLResponse:
    """The answer form for the team's current round."""
    pulse = pulse_context(request=request, session=session, team_link=team_link)
    return _render_form(request, pulse)


async def read_form(request: Request) -> FormData:
    """The posted form (Starlette answers 400 itself when a multipart body is malformed)."""
    return await request.form(max_files=0, max_fields=200)


def _form_answers(form: FormData) -> dict[str, object]:
    """Answers from form fields: every field but the form's own (comment, round) is a key."""
    answers: dict[str, object] = {}
    for key, raw in form.multi_items():
        if key in RESERVED_KEYS:
            continue
        if not isinstance(raw, str):
            answers[key] = raw.filename or "a file"
        elif raw == "":
            continue
        else:
            answers[key] = int(raw) if INTEGER.match(raw) else raw
    return answers


@router.post(
    "/p/{team_link}",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Throttled],
)
def submit_form(
    team_link: str,
    request: Request,
    session: WriteSessionDep,
    form: Annotated[FormData, Depends(read_form)],
) -> HTMLResponse:
    """Store the posted answers and thank the member, or show the form again with what to fix."""
    pulse = pulse_context(request=request, session=session, team_link=team_link)
    if pulse.team.ballots == "personal":
        return _render_form(request, pulse, status_code=403)
    if not pulse.open:
        return _render_form(request, pulse, status_code=409)
    if pulse.answered:
        return _render_form(request, pulse, status_code=409)
    raw_comment = form.get("comment")
    # Browsers send line breaks as CRLF; count them as one character, as the textarea does.
    comment = raw_comment.replace("\r\n", "\n") if isinstance(raw_comment, str) else None
    answers = _form_answers(form)
    opened_in = form.get("round")
    if isinstance(opened_in, str) and opened_in and opened_in != pulse.round.period:
        # The form was opened in a round that has ended since: these answers were meant for
        # that round, so they are not filed under the new one without the member seeing it.
        return _render_form(
            request,
            pulse,
            status_code=409,
            errors={
                "round": f"The round you opened this form in ({opened_in[:16]}) has ended. "
                f"This is the form for {pulse.round.period}: check your answers and send again."
            },
            values=answers,
            comment=comment,
        )
    try:
        service.submit_response(
            session=session,
            round=pulse.round,
            survey=pulse.survey,
            answers=answers,
            comment=comment,
        )
    except service.SubmissionError as exc:
        return _render_form(
            request,
            pulse,
            status_code=422,
            errors=exc.errors,
            values=answers,
            comment=comment,
        )
    except service.RoundClosedError:
        return _render_form(request, pulse, status_code=409, notice=_closed_message(pulse.round))
    page = templates.TemplateResponse(
        request,
        "pulses/thanks.html",
        {
            "team": pulse.team,
            "round": pulse.round,
            "period_text": rounds.describe_period(pulse.round),
            "min_responses": pulse.settings.min_responses,
        },
    )
    cookies.mark_answered(response=page, settings=pulse.settings, round=pulse.round)
    return page


@router.get("/privacy", response_class=HTMLResponse, include_in_schema=False)
def privacy(request: Request) -> HTMLResponse:
    """What Redbutton stores about an answer, and what it never stores, in plain words."""
    settings: Settings = request.app.state.settings
    return templates.TemplateResponse(
        request, "pulses/privacy.html", {"min_responses": settings.min_responses}
    )


# --- JSON twin ---------------------------------------------------------------------------


class RoundOut(BaseModel):
    """The current round of a team, as the form shows it."""

    team: str
    round: str = Field(description="the period label, e.g. 2026-W48")
    starts_on: str
    ends_on: str
    closes_at: str
    open: bool
    answered: bool = Field(description="this client already answered (round cookie)")
    ballots: str = Field(description="link: answer here; personal: use a personal ballot")
    survey: dict[str, Any]


class ResponseIn(BaseModel):
    """One member's answers: every question key of the round's survey with a whole number."""

    model_config = ConfigDict(extra="forbid", strict=True)

    answers: dict[Annotated[str, StringConstraints(max_length=64)], StrictInt]
    comment: StrictStr | None = None
    ballot: BallotIn | None = Field(
        default=None, description="required when the team uses personal ballots (DESIGN 4b)"
    )


class ResponseOut(BaseModel):
    """The round the answers were stored in."""

    round: str


def _problem(status_code: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status_code)


@router.get("/api/v1/pulse/{team_link}", response_model=RoundOut)
def pulse_round(team_link: str, request: Request, session: WriteSessionDep) -> RoundOut:
    """The team's current round and its questions (open to whoever holds the link)."""
    pulse = pulse_context(request=request, session=session, team_link=team_link)
    return RoundOut(
        team=pulse.team.name,
        round=pulse.round.period,
        starts_on=pulse.round.starts_on.isoformat(),
        ends_on=pulse.round.ends_on.isoformat(),
        closes_at=pulse.round.closes_at.isoformat(),
        open=pulse.open,
        answered=pulse.answered,
        ballots=pulse.team.ballots,
        survey=pulse.survey.model_dump(mode="json"),
    )


@router.post(
    "/api/v1/pulse/{team_link}/responses",
    status_code=201,
    response_model=ResponseOut,
    dependencies=[Throttled],
    responses={
        403: {"description": "personal ballots: missing, forged or wrong-round ballot"},
        404: {"description": "unknown pulse link"},
        409: {"description": "already answered (cookie or spent ballot), or the round is closed"},
        413: {"description": "body too large"},
        429: {"description": "too many submissions through this link this minute"},
        422: {"description": "missing, unknown or out-of-range answers, or a too long comment"},
    },
)
def submit_api(
    team_link: str, body: ResponseIn, request: Request, session: WriteSessionDep
) -> Response:
    """Store one anonymous response; sets the round cookie that refuses a second one."""
    pulse = pulse_context(request=request, session=session, team_link=team_link)
    # Personal ballots replace the round cookie: one blind-signed ballot per member and round.
    personal = pulse.team.ballots == "personal"
    if personal and body.ballot is None:
        return _problem(403, PERSONAL_BALLOTS)
    if not pulse.open:
        return _problem(409, _closed_message(pulse.round))
    if pulse.answered and not personal:
        return _problem(409, ALREADY_ANSWERED)
    try:
        if personal and body.ballot is not None:
            ballot_service.spend(
                session=session,
                round_=pulse.round,
                token=body.ballot.token_bytes(),
                signature=body.ballot.signature_bytes(),
            )
        service.submit_response(
            session=session,
            round=pulse.round,
            survey=pulse.survey,
            answers=body.answers,
            comment=body.comment,
        )
    except service.SubmissionError as exc:
        session.rollback()  # nor is the ballot spent
        return JSONResponse(
            {
                "detail": "The answers are not valid.",
                "errors": [
                    {"field": field, "message": message} for field, message in exc.errors.items()
                ],
            },
            status_code=422,
        )
    except service.RoundClosedError as exc:
        return _problem(409, str(exc))
    except (ballot_service.SpentBallotError, ballot_service.RoundClosedError) as exc:
        session.rollback()
        return _problem(409, str(exc))
    except ballot_service.BallotError as exc:
        session.rollback()
        return _problem(403, str(exc))
    result = JSONResponse({"round": pulse.round.period}, status_code=201)
    if not personal:
        cookies.mark_answered(response=result, settings=pulse.settings, round=pulse.round)
    return result
