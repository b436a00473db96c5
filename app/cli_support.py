"""What every `redbutton` command shares: a database session and --json output."""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from sqlmodel import Session

from app.config import get_settings
from app.db import make_engine, writer


@contextmanager
def cli_session() -> Iterator[Session]:
    """A write-ready session on the configured database."""
    engine = make_engine(get_settings().database_url)
    try:
        with Session(writer(engine)) as session:
            yield session
    finally:
        engine.dispose()


def emit(payload: dict[str, Any], *, as_json: bool, text: str) -> None:
    """Print one JSON object for scripts, or a sentence for people."""
    if as_json:
        typer.echo(json.dumps(payload, default=str))
    else:
        typer.echo(text)


def fail(message: str, *, as_json: bool = False, code: int = 1) -> NoReturn:
    """Stop with a message on stderr (and a JSON error object on stdout for --json)."""
    if as_json:
        typer.echo(json.dumps({"error": message}))
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(code)
