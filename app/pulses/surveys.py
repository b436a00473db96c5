"""Survey definitions as YAML files: the models, and a loader that refuses anything doubtful.

A survey file is data an operator edits by hand, so every mistake must stop start-up with the
file and the field named, rather than surface later as a wrong score.
"""

import hashlib
import json
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

SURVEY_SUFFIXES = (".yaml", ".yml")
Slug = Annotated[
    str, StringConstraints(strict=True, pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
]
QuestionKey = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Text = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1)]
# The answer form posts each question under its key, next to these fields of its own.
RESERVED_KEYS = frozenset({"comment", "round"})


class SurveyFileError(ValueError):
    """A survey file cannot be used; the message names the file and the field."""


class Scale(BaseModel):
    """The answer scale: whole points from min to max, one label per point."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min: StrictInt
    max: StrictInt
    labels: list[Text]

    @model_validator(mode="after")
    def _labels_match_points(self) -> "Scale":
        if self.min >= self.max:
            raise ValueError(f"min ({self.min}) must be smaller than max ({self.max})")
        points = self.max - self.min + 1
        if len(self.labels) != points:
            raise ValueError(
                f"labels: {len(self.labels)} given but the scale {self.min}..{self.max} "
                f"has {points} points, one label each"
            )
        return self

    @property
    def points(self) -> list[int]:
        """Every value a member may choose, lowest first."""
        return list(range(self.min, self.max + 1))

    def labelled_points(self) -> list[tuple[int, str]]:
        """(value, label) pairs, lowest first."""
        return list(zip(self.points, self.labels, strict=True))

    def score(self, value: int, *, reverse: bool) -> int:
        """The value after reverse scoring (min + max - value when the item is reversed)."""
        return self.min + self.max - value if reverse else value


class Question(BaseModel):
    """One statement to rate; `key` is stable across versions so trends can join on it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: QuestionKey
    text: Text
    dimension: QuestionKey
    reverse: StrictBool


class CommentSpec(BaseModel):
    """The optional free-text comment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: StrictBool
    prompt: Text
    max_length: Annotated[StrictInt, Field(ge=1, le=10_000)]


class Survey(BaseModel):
    """One version of a survey, as written in its file (or as frozen in the database)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    version: Annotated[StrictInt, Field(ge=1)]
    title: Text
    cadence: Literal["weekly", "monthly", "quarterly"] | None = None
    source: Text | None = None
    scale: Scale
    questions: Annotated[list[Question], Field(min_length=1)]
    comment: CommentSpec

    _path: Path | None = PrivateAttr(default=None)

    @field_validator("questions")
    @classmethod
    def _keys_are_unique_and_free(cls, questions: list[Question]) -> list[Question]:
        seen: set[str] = set()
        for question in questions:
            if question.key in seen:
                raise ValueError(f"question key {question.key!r} is used twice: keys are unique")
            if question.key in RESERVED_KEYS:
                raise ValueError(f"question key {question.key!r} is reserved; choose another key")
            seen.add(question.key)
        return questions

    @property
    def keys(self) -> list[str]:
        """The question keys, in the order they are asked."""
        return [question.key for question in self.questions]

    @property
    def path(self) -> Path | None:
        """The file this survey was loaded from (None for a frozen snapshot)."""
        return self._path

    def content_json(self) -> str:
        """The canonical JSON of the content: the same survey always gives the same text."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON: a changed word changes the hash."""
        return hashlib.sha256(self.content_json().encode()).hexdigest()

    def where(self) -> str:
        """How to name this survey in a message: its file, or its id and version."""
        return str(self._path) if self._path else f"survey {self.id!r} version {self.version}"


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{location}: {message}")
    return "; ".join(parts)


def load_survey(path: Path) -> Survey:
    """Read and validate one survey file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SurveyFileError(f"{path}: cannot be read ({exc})") from exc
    except yaml.YAMLError as exc:
        raise SurveyFileError(f"{path}: is not valid YAML ({exc})") from exc
    if not isinstance(raw, dict):
        raise SurveyFileError(f"{path}: must be a mapping with id, version, title, scale, …")
    try:
        survey = Survey.model_validate(raw)
    except ValidationError as exc:
        raise SurveyFileError(f"{path}: {_describe(exc)}") from exc
    if survey.id != path.stem:
        raise SurveyFileError(f"{path}: id: {survey.id!r} must match the file name {path.stem!r}")
    survey._path = path
    return survey


def load_surveys(directory: Path) -> dict[str, Survey]:
    """Every survey in the directory by id; raises SurveyFileError on the first bad file."""
    if not directory.is_dir():
        raise SurveyFileError(
            f"{directory}: the surveys directory does not exist (set REDBUTTON_SURVEYS_DIR)"
        )
    surveys: dict[str, Survey] = {}
    paths = sorted(p for p in directory.iterdir() if p.suffix in SURVEY_SUFFIXES and p.is_file())
    for path in paths:
        survey = load_survey(path)
        if survey.id in surveys:
            raise SurveyFileError(
                f"{path}: id: {survey.id!r} is already defined in {surveys[survey.id].path}"
            )
        surveys[survey.id] = survey
    if not surveys:
        raise SurveyFileError(f"{directory}: no survey files (*.yaml) found")
    return surveys
