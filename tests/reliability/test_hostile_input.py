"""DESIGN §9 hostile input: script payloads render escaped, oversized and deeply nested JSON is
refused with a 4xx and stores nothing, reverse scoring is an involution."""

import re
import shutil
from datetime import timedelta
from pathlib import Path

import yaml
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, func, select

from app.clock import utcnow
from app.config import Settings
from app.db import writer
from app.main import create_app
from app.pulses.models import Comment, Response
from app.pulses.surveys import Scale
from tests.factories import make_login, make_responses, make_round, make_team, make_user, settle

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "javascript:alert(1)//</textarea><script>x</script>",
]


def _no_raw_payload(html: str) -> None:
    for payload in PAYLOADS:
        assert payload not in html, f"unescaped: {payload}"
    for tag in ("<script>alert", "<script>x", "<img src=x", "<svg/onload"):
        assert tag not in html, f"a live tag: {tag}"


def test_script_payloads_in_team_name_comments_and_survey_text_render_escaped(
    settings: Settings, tmp_path: Path
) -> None:
    surveys = tmp_path / "surveys"
    shutil.copytree(settings.surveys_dir, surveys)
    pulse = yaml.safe_load((surveys / "release-pulse.yaml").read_text())
    pulse["title"] = PAYLOADS[0]
    pulse["questions"][0]["text"] = PAYLOADS[1]
    (surveys / "release-pulse.yaml").write_text(yaml.safe_dump(pulse))
    app = create_app(settings.model_copy(update={"surveys_dir": surveys}))
    with Session(writer(app.state.engine), expire_on_commit=False) as session:
        team = make_team(session, name=PAYLOADS[2]).team
        survey = app.state.surveys["release-pulse"]
        # Last week's round, closed, eligible (5 responses), with every payload as a comment.
        closed = make_round(session, team, now=utcnow() - timedelta(days=7), survey=survey)
        make_responses(session, closed, 5, comments=PAYLOADS)
        make_round(session, team, survey=survey)
        manager = make_user(session, teams=[team])
        settle(session)
        with TestClient(app) as client:
            make_login(client, session, manager)
            pages = {
                path: client.get(path)
                for path in [f"/p/{team.pulse_link}", f"/teams/{team.slug}", "/teams", "/org"]
            }
            exports = {
                kind: client.get(f"/teams/{team.slug}/export", params={"format": kind})
                for kind in ("csv", "json", "md")
            }
    # Exports are downloads, never pages a browser would render; the Markdown brief escapes.
    for kind, export in exports.items():
        assert export.status_code == 200, (kind, export.text[:300])
        assert "attachment" in export.headers["content-disposition"], kind
        assert not export.headers["content-type"].startswith("text/html"), kind
        assert export.headers["x-content-type-options"] == "nosniff"
    brief = exports["md"].text
    assert "alert(1)" in brief, "the comments are missing from the brief"
    # Markdown escapes with a backslash: no "<" may start a tag a renderer would keep.
    assert re.search(r"(?<!\\)<", brief) is None
    for path, page in pages.items():
        assert page.status_code == 200, path
        _no_raw_payload(page.text)
    # The payloads are there, as text.
    assert "&lt;svg/onload=alert(1)&gt;" in pages["/teams"].text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[f"/p/{team.pulse_link}"].text
    dashboard = pages[f"/teams/{team.slug}"].text
    assert "&lt;/textarea&gt;&lt;script&gt;x&lt;/script&gt;" in dashboard


def _stored(session: Session) -> tuple[int, int]:
    settle(session)
    responses = session.exec(select(func.count()).select_from(Response)).one()
    comments = session.exec(select(func.count()).select_from(Comment)).one()
    settle(session)
    return responses, comments


BAD_BODIES = {
    "deeply nested arrays": "[" * 30000 + "]" * 30000,
    "deeply nested objects": '{"a":' * 6000 + "1" + "}" * 6000,
    "nested inside answers": '{"answers": {"q": ' + "[" * 500 + "]" * 500 + "}}",
    "oversized comment": '{"answers": {}, "comment": "' + "x" * 70_000 + '"}',
    "oversized answers": '{"answers": {' + ",".join(f'"k{i}": 1' for i in range(9000)) + "}}",
    "not json": "answers=1",
    "truncated": '{"answers": {',
    "wrong types": '{"answers": "all fives", "comment": 5}',
    "null": "null",
    "NaN": '{"answers": {"q": NaN}}',
}


def test_oversized_and_deeply_nested_json_is_refused_with_4xx(
    client: TestClient, session: Session
) -> None:
    team = make_team(session).team
    settle(session)
    targets = [
        f"/api/v1/pulse/{team.pulse_link}/responses",
        "/api/v1/deployments",
        f"/api/v1/hooks/github/{team.slug}",
    ]
    answered = {}
    for target in targets:
        for name, body in BAD_BODIES.items():
            answer = client.post(target, content=body, headers={"Content-Type": "application/json"})
            answered[(target, name)] = answer.status_code
            assert 400 <= answer.status_code < 500, (target, name, answer.status_code)
            assert answer.json()["detail"], (target, name)
    assert answered[(targets[0], "oversized comment")] == 413
    assert answered[(targets[0], "deeply nested arrays")] in (400, 422)
    assert _stored(session) == (0, 0)


@given(
    bounds=st.tuples(st.integers(-10, 10), st.integers(1, 10)),
    offset=st.integers(0, 20),
    reverse=st.booleans(),
)
def test_reverse_scoring_is_an_involution(
    bounds: tuple[int, int], offset: int, reverse: bool
) -> None:
    low, width = bounds
    scale = Scale(min=low, max=low + width, labels=[str(i) for i in range(width + 1)])
    value = low + offset % (width + 1)
    once = scale.score(value, reverse=reverse)
    assert scale.min <= once <= scale.max
    assert scale.score(once, reverse=reverse) == value
    if reverse:
        assert scale.score(scale.min, reverse=True) == scale.max
