"""The member's side: the anonymous answer form, its JSON twin and the /privacy page.

Routes stay thin: find the team and its current round, call the service, render. The checks run
in the same order everywhere: unknown link (404), personal ballots (403), round closed (409),
already answered (409), invalid answers (422), stored (201 / thank-you page).
"""

import re
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, StringConstraints
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from app.ballots import service as ballot_service
from app.ballots.schemas import BallotIn
from app.clock import utcnow
from app.config import Settings
from app.db import SessionDep, is_writing, request_session, write_session_blocking
from app.group_commit import GroupCommitter, RowLock
from app.pulses import cookies, rounds, service
from app.pulses.freezing import parse_snapshot
from app.pulses.link_cache import PulseLinkCache
from app.pulses.models import Round
from app.pulses.surveys import RESERVED_KEYS, Survey
from app.pulses.throttle import SubmissionThrottle
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


async def throttle_submissions(team_link: str, request: Request) -> None:
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
    """The team, its current round (created on first use) and the round's survey; 404 if unknown.

    Reads only, in the request's own session; a round that does not exist yet is created in a
    short writing transaction of its own (once per team and period).
    """
    now = utcnow()
    found = rounds.find_by_pulse_link(session=session, link=team_link, now=now)
    if found is None:
        raise HTTPException(status_code=404, detail=UNKNOWN_LINK)
    team, round_ = found.team, found.round
    if round_ is not None and found.snapshot is not None:
        survey = parse_snapshot(found.snapshot)
    else:
        file_survey: Survey | None = request.app.state.surveys.get(team.survey_id)
        if file_survey is None:
            raise HTTPException(
                status_code=503,
                detail=f"This team's survey {team.survey_id!r} is not installed on the server; "
                "please tell an administrator.",
            )
        with ExitStack() as stack:
            # A caller already writing (the ballot pages) creates it in its own transaction.
            writing = session
            if not is_writing(session):
                # Hand the reading connection back first: requests that each held one while
                # waiting for a second could take the whole pool and wait on each other.
                session.close()
                writing = stack.enter_context(write_session_blocking(request.app.state.engine))
            try:
                round_ = rounds.current_round(
                    session=writing, team=team, survey=file_survey, now=now
                )
            except service.SurveyFrozenError as exc:
                raise HTTPException(status_code=503, detail=str(exc)) from exc
            survey = service.survey_of_round(session=writing, round=round_)
    settings: Settings = request.app.state.settings
    return PulseContext(
        team=team,
        round=round_,
        survey=survey,
        settings=settings,
        open=rounds.is_open(round_, now),
        answered=cookies.has_answered(request=request, settings=settings, round=round_),
    )


def store(
    request: Request,
    session: Session,
    job: Callable[[Session], object],
    round: Round,
    *,
    isolated: bool = True,
) -> None:
    """Write through the process's group committer, holding the round for the batch.

    The request's reading session hands its connection back first: dozens of requests waiting
    for one commit must not hold every pooled connection while the committer needs one.
    """
    committer: GroupCommitter = request.app.state.committer
    session.close()
    committer.run(job, lock=_round_lock(round), isolated=isolated)


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
def pulse_form(team_link: str, request: Request, session: SessionDep) -> HTMLResponse:
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
    session: SessionDep,
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
        response = service.prepare_submission(
            round=pulse.round, survey=pulse.survey, answers=answers, comment=comment
        )
        store(request, session, response, pulse.round, isolated=False)
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
def pulse_round(team_link: str, request: Request, session: SessionDep) -> RoundOut:
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
async def submit_api(team_link: str, body: ResponseIn, request: Request) -> Response:
    """Store one anonymous response; sets the round cookie that refuses a second one."""
    links: PulseLinkCache = request.app.state.pulse_links
    target = links.get(team_link, now=utcnow())
    if target is None:
        return await run_in_threadpool(_submit_after_reading, request, team_link, body)
    # The usual case while a team answers: link, round and survey are known to this process,
    # and the committer checks them again as it writes. No query, no worker thread.
    settings: Settings = request.app.state.settings
    if cookies.has_answered(request=request, settings=settings, round=target.round):
        return _problem(409, ALREADY_ANSWERED)
    committer: GroupCommitter = request.app.state.committer
    try:
        response = service.prepare_submission(
            round=target.round,
            survey=target.survey,
            answers=body.answers,
            comment=body.comment,
            through_link=team_link,
        )
        await committer.submit(response, lock=_round_lock(target.round), isolated=False)
    except service.SubmissionError as exc:
        return _invalid_answers(exc)
    except service.RoundClosedError as exc:
        links.forget(team_link)
        return _problem(409, str(exc))
    except service.LinkChangedError:
        # Rotated, or moved to personal ballots: read it afresh and answer as that requires.
        links.forget(team_link)
        return await run_in_threadpool(_submit_after_reading, request, team_link, body)
    return _stored(target.round, settings, personal=False)


def _submit_after_reading(request: Request, team_link: str, body: ResponseIn) -> Response:
    """The submission when the link is not remembered, or the team uses personal ballots."""
    with request_session(request.app.state.engine) as session:
        pulse = pulse_context(request=request, session=session, team_link=team_link)
        # Personal ballots replace the round cookie: one blind-signed ballot per member and round.
        personal = pulse.team.ballots == "personal"
        if personal and body.ballot is None:
            return _problem(403, PERSONAL_BALLOTS)
        if not pulse.open:
            return _problem(409, _closed_message(pulse.round))
        if not personal:
            links: PulseLinkCache = request.app.state.pulse_links
            links.remember(
                team_link, team=pulse.team, round=pulse.round, survey=pulse.survey, now=utcnow()
            )
        if pulse.answered and not personal:
            return _problem(409, ALREADY_ANSWERED)
        ballot = body.ballot if personal else None
        try:
            response = service.prepare_submission(
                round=pulse.round,
                survey=pulse.survey,
                answers=body.answers,
                comment=body.comment,
                through_link=None if personal else team_link,
            )

            def spend_and_store(writing: Session) -> None:
                # One transaction: a ballot is spent exactly when its answers are stored.
                if ballot is not None:
                    ballot_service.spend(
                        session=writing,
                        round_=pulse.round,
                        token=ballot.token_bytes(),
                        signature=ballot.signature_bytes(),
                    )
                response(writing)

            store(request, session, spend_and_store, pulse.round, isolated=ballot is not None)
        except service.SubmissionError as exc:
            # Nothing was written, nor the ballot spent.
            return _invalid_answers(exc)
        except (
            service.RoundClosedError,
            ballot_service.SpentBallotError,
            ballot_service.RoundClosedError,
        ) as exc:
            return _problem(409, str(exc))
        except service.LinkChangedError:
            return _problem(404, UNKNOWN_LINK)
        except ballot_service.BallotError as exc:
            return _problem(403, str(exc))
        return _stored(pulse.round, pulse.settings, personal=personal)


def _round_lock(round: Round) -> RowLock:
    assert round.id is not None
    return RowLock(table=service.ROUND_TABLE, key=round.id)


def _invalid_answers(exc: service.SubmissionError) -> JSONResponse:
    return JSONResponse(
        {
            "detail": "The answers are not valid.",
            "errors": [
                {"field": field, "message": message} for field, message in exc.errors.items()
            ],
        },
        status_code=422,
    )


def _stored(round: Round, settings: Settings, *, personal: bool) -> JSONResponse:
    result = JSONResponse({"round": round.period}, status_code=201)
    if not personal:
        cookies.mark_answered(response=result, settings=settings, round=round)
    return result
