"""Storing an answer sheet: validation, reverse scoring, one transaction, frozen survey text."""

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, func
from sqlmodel import Session, SQLModel, select

from app.config import PROJECT_ROOT, Settings
from app.db import writer
from app.main import create_app
from app.pulses.models import Answer, Comment, Response, SurveyVersion
from app.pulses.service import (
    RoundClosedError,
    SubmissionError,
    SurveyFrozenError,
    comments_in_random_order,
    freeze_survey,
    submit_response,
    survey_of_round,
)
from app.pulses.surveys import load_surveys
from tests.factories import make_responses, make_round, make_team, shipped_surveys

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _count(session: Session, model: type[SQLModel]) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def _sheet(value: int = 4) -> dict[str, object]:
    return dict.fromkeys(shipped_surveys()["release-pulse"].keys, value)


def test_answers_are_stored_with_their_reverse_score_and_the_comment_apart(
    session: Session,
) -> None:
    round_ = make_round(session, make_team(session).team, now=NOW)
    survey = shipped_surveys()["release-pulse"]
    answers = _sheet(4)
    answers["mistakes_held_against"] = 2  # reverse item on 1..5: scored 1 + 5 - 2 = 4
    answers["trusts_rollback"] = 1
    response_id = submit_response(
        session=session,
        round=round_,
        survey=survey,
        answers=answers,
        comment="  Rollback drill helped.  ",
        now=NOW,
    )
    stored = {
        a.question_key: (a.value, a.score)
        for a in session.exec(select(Answer).where(Answer.response_id == response_id))
    }
    assert stored["mistakes_held_against"] == (2, 4)
    assert stored["breaking_prod_changes_reputation"] == (4, 2)
    assert stored["trusts_rollback"] == (1, 1)
    assert stored["comfortable_shipping"] == (4, 4)
    assert len(stored) == 8
    comment = session.exec(select(Comment)).one()
    assert comment.body == "Rollback drill helped." and comment.round_id == round_.id
    assert comment.id != response_id


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"trusts_rollback": None}, "answers.trusts_rollback", "Please choose an answer."),
        ({"trusts_rollback": 6}, "answers.trusts_rollback", "6 is not on the scale"),
        ({"trusts_rollback": 0}, "answers.trusts_rollback", "choose a value from 1 to 5"),
        ({"trusts_rollback": True}, "answers.trusts_rollback", "whole number"),
        ({"trusts_rollback": "3"}, "answers.trusts_rollback", "whole number"),
        ({"trusts_rollback": 3.0}, "answers.trusts_rollback", "whole number"),
        ({"favourite_colour": 3}, "answers.favourite_colour", "not part of the survey"),
    ],
)
def test_a_wrong_answer_is_refused_by_field_and_nothing_is_stored(
    session: Session, change: dict[str, object], field: str, message: str
) -> None:
    round_ = make_round(session, make_team(session).team, now=NOW)
    answers = _sheet()
    answers.update(change)
    with pytest.raises(SubmissionError) as error:
        submit_response(
            session=session,
            round=round_,
            survey=shipped_surveys()["release-pulse"],
            answers=answers,
            comment="kept?",
            now=NOW,
        )
    assert list(error.value.errors) == [field]
    assert message in error.value.errors[field]
    assert (_count(session, Response), _count(session, Answer), _count(session, Comment)) == (
        0,
        0,
        0,
    )


def test_every_missing_answer_is_reported_at_once(session: Session) -> None:
    round_ = make_round(session, make_team(session).team, now=NOW)
    with pytest.raises(SubmissionError) as error:
        submit_response(
            session=session,
            round=round_,
            survey=shipped_surveys()["release-pulse"],
            answers={"trusts_rollback": 3},
            comment=None,
            now=NOW,
        )
    assert len(error.value.errors) == 7 and "answers.trusts_rollback" not in error.value.errors


def test_a_comment_over_the_limit_is_refused(session: Session) -> None:
    round_ = make_round(session, make_team(session).team, now=NOW)
    with pytest.raises(SubmissionError) as error:
        submit_response(
            session=session,
            round=round_,
            survey=shipped_surveys()["release-pulse"],
            answers=_sheet(),
            comment="x" * 2001,
            now=NOW,
        )
    assert error.value.errors == {
        "comment": "The comment is 2001 characters long; the limit is 2000."
    }
    assert _count(session, Response) == 0
    # Exactly at the limit is fine; blank is no comment at all.
    submit_response(
        session=session,
        round=round_,
        survey=shipped_surveys()["release-pulse"],
        answers=_sheet(),
        comment="x" * 2000,
        now=NOW,
    )
    submit_response(
        session=session,
        round=round_,
        survey=shipped_surveys()["release-pulse"],
        answers=_sheet(),
        comment="   ",
        now=NOW,
    )
    assert (_count(session, Response), _count(session, Comment)) == (2, 1)


def test_a_closed_round_takes_no_answers(session: Session) -> None:
    round_ = make_round(session, make_team(session).team, now=NOW)
    with pytest.raises(RoundClosedError, match="2026-W48 round is closed"):
        submit_response(
            session=session,
            round=round_,
            survey=shipped_surveys()["release-pulse"],
            answers=_sheet(),
            comment=None,
            now=round_.closes_at,
        )
    assert _count(session, Response) == 0


def test_comments_come_back_complete_and_in_a_fresh_random_order(session: Session) -> None:
    round_ = make_round(session, make_team(session).team, now=NOW)
    bodies = [f"comment {i}" for i in range(8)]
    make_responses(session, round_, 8, comments=bodies)
    orders = {tuple(comments_in_random_order(session=session, round=round_)) for _ in range(20)}
    assert all(sorted(order) == sorted(bodies) for order in orders)
    # 20 draws of 8! orders all equal has probability (1/40320)^19.
    assert len(orders) > 1


def test_factories_build_a_closed_round_with_chosen_answers(session: Session) -> None:
    round_ = make_round(session, make_team(session).team, now=NOW - timedelta(days=14))
    make_responses(
        session,
        round_,
        3,
        answers=[{"trusts_rollback": 1}, {"trusts_rollback": 2}, {}],
        comments=["only one"],
    )
    values = sorted(
        session.exec(select(Answer.value).where(Answer.question_key == "trusts_rollback"))
    )
    assert values == [1, 2, 5]
    assert (_count(session, Response), _count(session, Comment)) == (3, 1)


def _edited_survey_dir(tmp_path: Path, *, version: int, text: str) -> Path:
    raw = yaml.safe_load((PROJECT_ROOT / "surveys" / "release-pulse.yaml").read_text())
    raw["version"] = version
    raw["questions"][0]["text"] = text
    (tmp_path / "release-pulse.yaml").write_text(yaml.safe_dump(raw))
    return tmp_path


def test_an_answered_version_is_frozen_and_old_rounds_keep_their_text(
    session: Session, tmp_path: Path
) -> None:
    team = make_team(session).team
    old_round = make_round(session, team, now=NOW)
    original_text = shipped_surveys()["release-pulse"].questions[0].text

    # Edited with the same version before anyone answered: the snapshot follows the file.
    unanswered = load_surveys(_edited_survey_dir(tmp_path, version=1, text="Draft wording?"))
    freeze_survey(session=session, survey=unanswered["release-pulse"])
    assert survey_of_round(session=session, round=old_round).questions[0].text == "Draft wording?"
    freeze_survey(session=session, survey=shipped_surveys()["release-pulse"])

    make_responses(session, old_round, 2)
    edited = load_surveys(_edited_survey_dir(tmp_path, version=1, text="New wording?"))
    with pytest.raises(SurveyFrozenError, match="bump the version") as error:
        freeze_survey(session=session, survey=edited["release-pulse"])
    assert "release-pulse.yaml" in str(error.value)

    bumped = load_surveys(_edited_survey_dir(tmp_path, version=2, text="New wording?"))
    new_round = make_round(
        session, team, now=NOW + timedelta(days=7), survey=bumped["release-pulse"]
    )
    assert survey_of_round(session=session, round=new_round).questions[0].text == "New wording?"
    assert survey_of_round(session=session, round=old_round).questions[0].text == original_text
    assert _count(session, SurveyVersion) == 2


def test_start_up_refuses_a_changed_file_for_an_answered_version(
    settings: Settings, session: Session, tmp_path: Path
) -> None:
    round_ = make_round(session, make_team(session).team, now=NOW)
    make_responses(session, round_, 1)
    session.commit()
    edited = _edited_survey_dir(tmp_path, version=1, text="Sneaky new wording?")
    with pytest.raises(SurveyFrozenError, match="bump the version"):
        create_app(settings.model_copy(update={"surveys_dir": edited}))
    bumped = _edited_survey_dir(tmp_path, version=2, text="Sneaky new wording?")
    assert create_app(settings.model_copy(update={"surveys_dir": bumped})).state.surveys


def test_concurrent_submissions_are_all_stored(engine: Engine, session: Session) -> None:
    round_ = make_round(session, make_team(session).team)
    survey = shipped_surveys()["release-pulse"]
    barrier = threading.Barrier(8)
    failures: list[BaseException] = []

    def answer(value: int) -> None:
        try:
            with Session(writer(engine)) as own:
                barrier.wait()
                submit_response(
                    session=own,
                    round=round_,
                    survey=survey,
                    answers=dict.fromkeys(survey.keys, value),
                    comment=f"comment {value}",
                )
        except BaseException as exc:  # collected and asserted on below
            failures.append(exc)

    threads = [threading.Thread(target=answer, args=(1 + i % 5,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    with Session(engine) as own:
        assert (_count(own, Response), _count(own, Answer), _count(own, Comment)) == (8, 64, 8)
        total = own.exec(select(func.sum(Answer.value))).one()
    assert total == 8 * sum(1 + i % 5 for i in range(8))
