"""Reading delivery history from CSV: every row checked, every error reported with its line.

The columns are the fields of the ingest API (DESIGN.md section 6), so a row means exactly
what the same JSON body would mean.
"""

import csv
import io
from dataclasses import dataclass
from typing import Literal, TypeVar

from pydantic import BaseModel, ValidationError

from app.delivery.models import DeploymentIn, IncidentIn

Kind = Literal["deployments", "incidents"]
COLUMNS: dict[Kind, tuple[str, ...]] = {
    "deployments": tuple(DeploymentIn.model_fields),
    "incidents": tuple(IncidentIn.model_fields),
}
REQUIRED: dict[Kind, tuple[str, ...]] = {
    kind: tuple(
        name
        for name, field in (
            DeploymentIn if kind == "deployments" else IncidentIn
        ).model_fields.items()
        if field.is_required()
    )
    for kind in ("deployments", "incidents")
}
TRUE = {"true", "yes", "1", "y"}
FALSE = {"false", "no", "0", "n", ""}

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class LineError:
    """What is wrong, and on which line of the file (1 is the header)."""

    line: int
    message: str


@dataclass(frozen=True)
class ParsedFile:
    """The records of a file with the line each came from, or the errors that stop the import."""

    records: list[DeploymentIn] | list[IncidentIn]
    lines: list[int]
    errors: list[LineError]


def parse(text: str, kind: Kind) -> ParsedFile:
    """Read a CSV export of deployments or incidents; nothing is valid unless every row is."""
    model: type[DeploymentIn] | type[IncidentIn] = (
        DeploymentIn if kind == "deployments" else IncidentIn
    )
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    errors: list[LineError] = []
    try:
        header = [name.strip().lower() for name in (reader.fieldnames or [])]
    except csv.Error as exc:
        return ParsedFile([], [], [LineError(1, f"not a CSV file: {exc}")])
    if not header:
        return ParsedFile([], [], [LineError(1, "the file is empty: expected a header line")])
    unknown = [name for name in header if name not in COLUMNS[kind]]
    missing = [name for name in REQUIRED[kind] if name not in header]
    if unknown or missing:
        problems = []
        if unknown:
            problems.append(f"unknown column(s) {', '.join(unknown)}")
        if missing:
            problems.append(f"missing column(s) {', '.join(missing)}")
        expected = ", ".join(COLUMNS[kind])
        message = f"{'; '.join(problems)} (the columns are: {expected})"
        return ParsedFile([], [], [LineError(1, message)])
    reader.fieldnames = header

    records: list[DeploymentIn | IncidentIn] = []
    lines: list[int] = []
    seen: dict[str, int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                errors.append(LineError(line, "more values than columns"))
                continue
            values = {name: (value or "").strip() for name, value in row.items()}
            if not any(values.values()):
                continue  # blank lines are harmless
            record = _record(model, values, line, errors)
            if record is None:
                continue
            if record.external_id in seen:
                errors.append(
                    LineError(
                        line,
                        f"external_id {record.external_id!r} is already on line "
                        f"{seen[record.external_id]}",
                    )
                )
                continue
            seen[record.external_id] = line
            records.append(record)
            lines.append(line)
    except csv.Error as exc:
        errors.append(LineError(reader.line_num, f"not valid CSV: {exc}"))
    return ParsedFile(records, lines, errors)  # type: ignore[arg-type]


def _record(
    model: type[DeploymentIn] | type[IncidentIn],
    values: dict[str, str],
    line: int,
    errors: list[LineError],
) -> DeploymentIn | IncidentIn | None:
    data: dict[str, object] = {name: value for name, value in values.items() if value != ""}
    if "is_rollback" in values:
        flag = values["is_rollback"].lower()
        if flag not in TRUE | FALSE:
            errors.append(LineError(line, "is_rollback: use true or false"))
            return None
        data["is_rollback"] = flag in TRUE
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()))
            message = error.get("msg", "invalid value").removeprefix("Value error, ")
            errors.append(LineError(line, f"{where}: {message}" if where else message))
        return None
