"""The export API: every format parsed back and checked against /trends and /questions."""

import csv
import io
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.exports.formats import QUESTION_COLUMNS, TREND_COLUMNS
from app.insights.trends import TrendsWeek
from tests.exports.scenario import (
    BELOW_THRESHOLD_COMMENT,
    ELIGIBLE_COMMENT,
    INCIDENT_TITLE,
    OPEN_ROUND_COMMENT,
    Retro,
    build_retro,
)
from tests.factories import bearer, make_api_token, make_incident, make_team, make_user, settle

# The week fields of /trends in the order DESIGN.md §7 lists them.
DESIGN_ORDER = [
    "week",
    "week_start",
    "responses",
    "response_rate",
    "suppressed",
    "trust_index",
    "trust_ci_low",
    "trust_ci_high",
    "favorable_pct",
    "deployments",
    "failed_deployments",
    "change_failure_rate",
    "mttr_minutes",
    "mttr_p90_minutes",
    "incidents",
    "open_incidents",
]


@pytest.fixture
def retro(session: Session) -> Retro:
    return build_retro(session)


def export(client: TestClient, retro: Retro, params: str) -> Any:
    response = client.get(
        f"/api/v1/teams/{retro.team.slug}/export?{params}", headers=bearer(retro.token)
    )
    assert response.status_code == 200, response.text
    return response


def api(client: TestClient, retro: Retro, what: str) -> dict[str, Any]:
    response = client.get(
        f"/api/v1/teams/{retro.team.slug}/{what}?{retro.query}", headers=bearer(retro.token)
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def cell_value(text: str, expected: object) -> object:
    """A csv cell read back as the type the API gives for that field."""
    if text == "":
        return None
    if isinstance(expected, bool):
        return {"true": True, "false": False}[text]
    if isinstance(expected, int):
        return int(text)
    if isinstance(expected, float):
        return float(text)
    return text


def test_csv_has_one_row_per_week_with_exactly_the_trends_fields(
    client: TestClient, retro: Retro
) -> None:
    response = export(client, retro, f"format=csv&{retro.query}")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="redbutton-{retro.team.slug}-{retro.start}-{retro.end}.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    header, body = rows[0], rows[1:]
    assert header[: len(DESIGN_ORDER)] == DESIGN_ORDER
    assert sorted(header) == sorted(TrendsWeek.model_fields) == sorted(TREND_COLUMNS)
    weeks = api(client, retro, "trends")["weeks"]
    assert len(body) == len(weeks) == 7
    for row, week in zip(body, weeks, strict=True):
        for name, text in zip(header, row, strict=True):
            assert cell_value(text, week[name]) == week[name], (week["week"], name, text)
    by_start = {row[1]: dict(zip(header, row, strict=True)) for row in body}
    # Hand-computed: five responses scoring 4 of 5 on every question is trust (4-1)/4 = 75.
    assert float(by_start[str(retro.eligible_weeks[0])]["trust_index"]) == pytest.approx(75.0)
    suppressed = by_start[str(retro.suppressed_week)]
    assert (suppressed["responses"], suppressed["suppressed"], suppressed["trust_index"]) == (
        "3",
        "true",
        "",
    )
    incident_week = by_start[str(retro.incident_week)]
    assert incident_week["deployments"] == "2" and incident_week["failed_deployments"] == "1"
    assert float(incident_week["change_failure_rate"]) == 0.5
    assert float(incident_week["mttr_minutes"]) == 90.0
    current = by_start[str(retro.open_week)]
    assert (current["open"], current["responses"], current["trust_index"]) == ("true", "5", "")


def test_questions_csv_has_a_row_per_eligible_week_and_question(
    client: TestClient, retro: Retro
) -> None:
    response = export(client, retro, f"format=csv&variant=questions&{retro.query}")
    assert response.headers["content-disposition"].endswith(
        f'redbutton-{retro.team.slug}-{retro.start}-{retro.end}-questions.csv"'
    )
    reader = csv.DictReader(io.StringIO(response.content.decode("utf-8")))
    assert reader.fieldnames == [*QUESTION_COLUMNS, *(f"count_{p}" for p in range(1, 6))]
    rows = list(reader)
    expected = [
        (week, question)
        for week in api(client, retro, "questions")["weeks"]
        if week["questions"] is not None
        for question in week["questions"]
    ]
    assert {row["week_start"] for row in rows} == {str(d) for d in retro.eligible_weeks}
    assert len(rows) == len(expected) > 0
    for row, (week, question) in zip(rows, expected, strict=True):
        assert (row["week"], row["question"], int(row["answers"])) == (
            week["week"],
            question["key"],
            question["answers"],
        )
        assert float(row["mean"]) == question["mean"]
        assert float(row["favorable_pct"]) == question["favorable_pct"]
        assert {p: int(row[f"count_{p}"]) for p in "12345"} == question["counts"]
    # Week -6: five answers scoring 4 on each question, so every count sits at 4.
    first = [row for row in rows if row["week_start"] == str(retro.eligible_weeks[0])]
    assert all(row["count_4"] == "5" and row["mean"] == "4.0" for row in first)


def test_json_holds_weeks_questions_comments_and_events(client: TestClient, retro: Retro) -> None:
    response = export(client, retro, f"format=json&{retro.query}")
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"].endswith('.json"')
    data = response.json()
    assert data["schema_version"] == 1
    assert (data["from"], data["to"]) == (str(retro.start), str(retro.end))
    assert data["min_responses"] == 5 == data["definitions"]["min_responses"]
    assert "association" in data["definitions"]
    assert data["weeks"] == api(client, retro, "trends")["weeks"]
    eligible = [w for w in api(client, retro, "questions")["weeks"] if w["questions"] is not None]
    assert [(q["week"], q["questions"]) for q in data["questions"]] == [
        (w["week"], w["questions"]) for w in eligible
    ]
    [comments] = data["comments"]
    assert comments["comments"] == [ELIGIBLE_COMMENT]
    assert comments["period"] == data["weeks"][0]["week"]
    deployments = {d["external_id"]: d for d in data["deployments"]}
    assert set(deployments) == {"web-101", "web-102"}  # staging is not production
    assert (deployments["web-102"]["failed"], deployments["web-101"]["failed"]) == (True, False)
    assert deployments["web-102"]["linked_to_incident"] is True
    [incident] = data["incidents"]
    assert incident["title"] == INCIDENT_TITLE and incident["duration_minutes"] == 90.0
    assert (incident["deployment"], incident["link_method"]) == ("web-102", "inferred_window")
    # The events agree with the weekly figures they are counted in.
    for week in data["weeks"]:
        events = [d for d in data["deployments"] if d["week"] == week["week"]]
        assert len(events) == week["deployments"]
        assert sum(d["failed"] for d in events) == week["failed_deployments"]


def test_markdown_brief_has_every_section_and_the_trends_figures(
    client: TestClient, retro: Retro
) -> None:
    response = export(client, retro, f"format=md&{retro.query}")
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    text = response.content.decode("utf-8")
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings[:9] == [
        "# Retro brief: Payments",
        "## Headline",
        "## Biggest movers",
        "## Lowest items",
        "## Week by week",
        "## Delivery events",
        "### Failed deployments",
        "### Incidents",
        "## Comments",
    ]
    assert headings[-1] == "## Caveats"
    weeks = api(client, retro, "trends")["weeks"]
    scored = [w for w in weeks if w["trust_index"] is not None]
    first, last = scored[0], scored[-1]
    headline = _table_after(text, "## Headline")
    assert headline[0] == ["Figure", "First", "Last", "Change"]
    trust = headline[1]
    assert trust[1] == f"{first['trust_index']:.1f} ({first['week']})" == f"75.0 ({first['week']})"
    assert trust[2] == f"{last['trust_index']:.1f} ({last['week']})"
    assert trust[3] == f"{last['trust_index'] - first['trust_index']:+.1f}"
    # Week -4: five responses at 5 and one at 2 on every question: (5*4 + 1) / 6 / 4 = 87.5.
    assert trust[2].startswith("87.5") and trust[3] == "+12.5"
    cfr = headline[3]
    assert cfr == ["Change failure rate", f"50% ({last['week']})", "—", "one week only"]
    table = _table_after(text, "## Week by week")
    assert [row[0] for row in table[1:]] == [w["week"] for w in weeks]
    assert [row[1] for row in table[1:]] == [str(w["responses"]) for w in weeks]
    suppressed = next(w for w in weeks if w["suppressed"] and not w["open"])
    assert f"Suppressed weeks (below 5 responses): {suppressed['week']}" in text
    assert "association, not causation" in text
    assert "- " + ELIGIBLE_COMMENT in text
    assert "web-102" in text and "90 min" in text and "web-101 " not in text
    # Free text cannot make a link, a table cell or HTML in the brief.
    assert r"Checkout 500s after the \| pipe \[deploy\](x)" in text


def _table_after(text: str, heading: str) -> list[list[str]]:
    lines = text.split(heading + "\n", 1)[1].splitlines()
    rows = lines[: next(i for i, line in enumerate(lines) if line.startswith("##"))]
    table = [
        line for line in rows if line.startswith("|") and not re.fullmatch(r"\|(---\|)+", line)
    ]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in table]


def test_no_format_shows_a_round_below_threshold_or_still_open(
    client: TestClient, retro: Retro
) -> None:
    suppressed = str(retro.suppressed_week)
    still_open = str(retro.open_week)
    for params in ("format=csv", "format=csv&variant=questions", "format=json", "format=md"):
        text = export(client, retro, f"{params}&{retro.query}").content.decode("utf-8")
        assert BELOW_THRESHOLD_COMMENT not in text, params
        assert OPEN_ROUND_COMMENT not in text, params
        # No raw response rows: no response id leaves the database.
        assert not [rid for rid in retro.response_ids if rid in text], params
    questions = export(client, retro, f"format=csv&variant=questions&{retro.query}").text
    assert suppressed not in questions and still_open not in questions
    data = export(client, retro, f"format=json&{retro.query}").json()
    assert {q["week_start"] for q in data["questions"]} == {str(d) for d in retro.eligible_weeks}
    hidden = [w for w in data["weeks"] if w["week_start"] in (suppressed, still_open)]
    assert len(hidden) == 2
    for week in hidden:
        assert week["responses"] in (3, 5)
        assert [week[f] for f in ("trust_index", "trust_ci_low", "trust_ci_high")] == [None] * 3
        assert week["favorable_pct"] is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("format=csv&from=2026-03-09&to=2026-03-01", "is after"),
        ("format=xlsx", "unknown format 'xlsx'"),
        ("format=csv&from=2026-13-01", "not a real date"),
        ("format=csv&from=03/02/2026", "YYYY-MM-DD"),
        ("format=csv&to=yesterday", "YYYY-MM-DD"),
        ("format=md&variant=questions", "csv layout"),
        ("format=csv&variant=answers", "unknown variant"),
        ("format=csv&from=2000-01-03&to=2026-01-05", "longer than"),
        ("format=csv&to=0001-01-01", "must be between"),
        ("format=json&from=9999-12-27", "must be between"),
    ],
)
def test_bad_input_is_a_422_with_a_message(
    client: TestClient, session: Session, params: str, message: str
) -> None:
    team = make_team(session).team
    token = make_api_token(session, make_user(session, teams=[team]))
    settle(session)
    response = client.get(f"/api/v1/teams/{team.slug}/export?{params}", headers=bearer(token))
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_the_export_needs_a_token_for_that_team(client: TestClient, session: Session) -> None:
    team = make_team(session).team
    other = make_team(session).team
    token = make_api_token(session, make_user(session, teams=[other]))
    settle(session)
    assert client.get(f"/api/v1/teams/{team.slug}/export").status_code == 401
    response = client.get(f"/api/v1/teams/{team.slug}/export", headers=bearer(token))
    assert response.status_code == 403


def test_the_default_range_is_the_trends_default(client: TestClient, retro: Retro) -> None:
    response = export(client, retro, "format=json")
    data = response.json()
    trends = client.get(
        f"/api/v1/teams/{retro.team.slug}/trends", headers=bearer(retro.token)
    ).json()
    assert data["weeks"] == trends["weeks"] and len(data["weeks"]) == 26
    assert f'-{data["from"]}-{data["to"]}.json"' in response.headers["content-disposition"]


def test_an_incident_resolved_in_range_after_starting_before_it_is_listed(
    client: TestClient, session: Session
) -> None:
    team = make_team(session).team
    make_incident(
        session,
        team,
        external_id="INC-long",
        started_at="2026-02-27T22:00:00Z",
        resolved_at="2026-03-03T10:00:00Z",
    )
    make_incident(session, team, external_id="INC-before", started_at="2026-02-20T10:00:00Z")
    token = make_api_token(session, make_user(session, teams=[team]))
    settle(session)
    data = client.get(
        f"/api/v1/teams/{team.slug}/export?format=json&from=2026-03-02&to=2026-03-15",
        headers=bearer(token),
    ).json()
    [incident] = data["incidents"]
    assert (incident["external_id"], incident["week"]) == ("INC-long", "2026-W10")
    assert incident["duration_minutes"] == (3 * 24 + 12) * 60
    # It is the incident behind that week's MTTR.
    assert data["weeks"][0]["mttr_minutes"] == incident["duration_minutes"]
