"""Survey files: the shipped questionnaires, and a loader that names the file and field at fault."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlmodel import Session

from app.config import PROJECT_ROOT, Settings
from app.main import create_app
from app.pulses.surveys import Scale, SurveyFileError, load_surveys
from app.teams import service as team_service
from tests.conftest import server_environment
from tests.factories import shipped_surveys

REDBUTTON = shutil.which("redbutton", path=str(Path(sys.executable).parent)) or "redbutton"
SHIPPED = PROJECT_ROOT / "surveys"


def test_the_three_shipped_surveys_load_with_their_documented_shape() -> None:
    surveys = load_surveys(SHIPPED)
    assert set(surveys) == {"release-pulse", "psychological-safety", "westrum"}

    pulse = surveys["release-pulse"]
    assert (pulse.cadence, pulse.scale.min, pulse.scale.max) == ("weekly", 1, 5)
    assert len(pulse.questions) == 8
    assert {q.key for q in pulse.questions if q.reverse} == {
        "breaking_prod_changes_reputation",
        "mistakes_held_against",
    }

    safety = surveys["psychological-safety"]
    assert (safety.scale.min, safety.scale.max, len(safety.questions)) == (1, 7, 7)
    # Edmondson's three negatively worded items are reverse-scored, the other four are not.
    assert {q.key for q in safety.questions if q.reverse} == {
        "mistakes_held_against",
        "rejects_difference",
        "hard_to_ask_for_help",
    }
    assert safety.source and "Edmondson" in safety.source and "1999" in safety.source

    westrum = surveys["westrum"]
    assert (westrum.scale.max, len(westrum.questions)) == (7, 6)
    assert not any(q.reverse for q in westrum.questions)
    assert westrum.source and "Westrum" in westrum.source


def test_scoring_reverses_around_the_scale() -> None:
    scale = Scale(min=1, max=5, labels=["a", "b", "c", "d", "e"])
    assert [scale.score(v, reverse=True) for v in scale.points] == [5, 4, 3, 2, 1]
    assert scale.score(2, reverse=False) == 2
    seven = shipped_surveys()["westrum"].scale
    assert seven.score(2, reverse=True) == 6


def _write(directory: Path, name: str, content: dict[str, object] | str) -> Path:
    path = directory / name
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return path


def _valid() -> dict[str, object]:
    return {
        "id": "mini",
        "version": 1,
        "title": "Mini",
        "scale": {"min": 1, "max": 3, "labels": ["No", "Maybe", "Yes"]},
        "questions": [
            {"key": "a", "text": "A?", "dimension": "d", "reverse": False},
            {"key": "b", "text": "B?", "dimension": "d", "reverse": True},
        ],
        "comment": {"enabled": True, "prompt": "Say", "max_length": 100},
    }


def _broken(change: str) -> dict[str, object]:
    survey = _valid()
    questions = survey["questions"]
    assert isinstance(questions, list)
    if change == "duplicate key":
        questions[1]["key"] = "a"
    elif change == "min not below max":
        survey["scale"] = {"min": 3, "max": 3, "labels": ["x"]}
    elif change == "label count":
        survey["scale"] = {"min": 1, "max": 3, "labels": ["No", "Yes"]}
    elif change == "reverse not boolean":
        questions[0]["reverse"] = "yes"
    elif change == "version zero":
        survey["version"] = 0
    elif change == "version string":
        survey["version"] = "2"
    elif change == "missing text":
        del questions[1]["text"]
    elif change == "typo field":
        questions[0]["revers"] = True
    return survey


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ("duplicate key", "questions"),
        ("min not below max", "scale"),
        ("label count", "scale"),
        ("reverse not boolean", "questions.0.reverse"),
        ("version zero", "version"),
        ("version string", "version"),
        ("missing text", "questions.1.text"),
        ("typo field", "questions.0.revers"),
    ],
)
def test_a_broken_file_is_refused_naming_the_file_and_field(
    tmp_path: Path, change: str, field: str
) -> None:
    path = _write(tmp_path, "mini.yaml", _broken(change))
    with pytest.raises(SurveyFileError) as error:
        load_surveys(tmp_path)
    message = str(error.value)
    assert message.startswith(f"{path}: {field}"), message


def test_label_count_message_says_how_many_points(tmp_path: Path) -> None:
    _write(tmp_path, "mini.yaml", _broken("label count"))
    with pytest.raises(SurveyFileError, match="2 given but the scale 1..3 has 3 points"):
        load_surveys(tmp_path)


def test_the_id_must_match_the_file_name_and_be_unique(tmp_path: Path) -> None:
    path = _write(tmp_path, "other.yaml", _valid())
    with pytest.raises(SurveyFileError, match=f"{path}: id: 'mini' must match the file name"):
        load_surveys(tmp_path)
    path.unlink()
    _write(tmp_path, "mini.yaml", _valid())
    _write(tmp_path, "mini.yml", _valid())
    with pytest.raises(SurveyFileError, match="mini.yml: id: 'mini' is already defined"):
        load_surveys(tmp_path)


def test_invalid_yaml_and_missing_directory_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "mini.yaml", "id: [unclosed\n")
    with pytest.raises(SurveyFileError, match=f"{path}: is not valid YAML"):
        load_surveys(tmp_path)
    with pytest.raises(SurveyFileError, match="surveys directory does not exist"):
        load_surveys(tmp_path / "nowhere")


def test_a_valid_file_loads(tmp_path: Path) -> None:
    _write(tmp_path, "mini.yaml", _valid())
    survey = load_surveys(tmp_path)["mini"]
    assert survey.keys == ["a", "b"]
    assert survey.path == tmp_path / "mini.yaml"
    # The hash covers the content only, not where the file lives.
    assert survey.content_hash() == load_surveys(tmp_path)["mini"].content_hash()


def test_create_app_refuses_to_start_with_a_broken_file(settings: Settings, tmp_path: Path) -> None:
    _write(tmp_path, "mini.yaml", _broken("reverse not boolean"))
    broken = settings.model_copy(update={"surveys_dir": tmp_path})
    with pytest.raises(SurveyFileError, match="mini.yaml: questions.0.reverse"):
        create_app(broken)


def test_create_app_exposes_the_surveys(settings: Settings) -> None:
    app = create_app(settings)
    assert set(app.state.surveys) == {"release-pulse", "psychological-safety", "westrum"}


def test_serve_stops_with_the_message_when_a_file_is_broken(
    settings: Settings, tmp_path: Path
) -> None:
    _write(tmp_path, "mini.yaml", _broken("duplicate key"))
    env = server_environment(settings)
    env["REDBUTTON_SURVEYS_DIR"] = str(tmp_path)
    result = subprocess.run(
        [REDBUTTON, "serve", "--port", "1"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "mini.yaml: questions: question key 'a' is used twice" in result.stderr


def test_team_create_refuses_an_unknown_survey(settings: Settings, session: Session) -> None:
    result = subprocess.run(
        [REDBUTTON, "team", "create", "--slug", "x", "--name", "X", "--size", "3"]
        + ["--survey", "nope", "--json"],
        env=server_environment(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert "survey 'nope' is not installed" in error and "release-pulse" in error

    ok = subprocess.run(
        [REDBUTTON, "team", "create", "--slug", "x", "--name", "X", "--size", "3"]
        + ["--survey", "westrum", "--json"],
        env=server_environment(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr


def test_the_team_service_refuses_an_unknown_survey_when_given_the_installed_ones(
    session: Session,
) -> None:
    with pytest.raises(team_service.TeamError, match="'nope' is not installed"):
        team_service.create(
            session=session, slug="a", name="A", size=3, survey_id="nope", known_surveys=["westrum"]
        )
    assert team_service.list_all(session=session) == []
