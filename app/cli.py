"""The `redbutton` command."""

import copy
from typing import Annotated

import typer

from app.auth.commands import create_admin, token_app, user_app
from app.ballots.commands import member_app, remind
from app.config import get_settings
from app.delivery.commands import import_app
from app.demo.commands import demo
from app.exports.commands import export
from app.teams.commands import team_app

cli = typer.Typer(
    help="Redbutton: the anonymous weekly pulse on release fear and trust.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
cli.add_typer(team_app, name="team")
cli.add_typer(import_app, name="import")
cli.add_typer(member_app, name="member")
cli.command("remind")(remind)
cli.add_typer(user_app, name="user")
cli.add_typer(token_app, name="token")
cli.command("create-admin")(create_admin)
cli.command("demo")(demo)
cli.command("export")(export)


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from app.migrations import upgrade

    upgrade(get_settings().database_url)
    typer.echo("Database is up to date.")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Apply migrations, then serve the app."""
    import uvicorn
    import uvicorn.config

    from app.cli_support import fail
    from app.db import make_engine
    from app.migrations import upgrade
    from app.pulses.startup import load_and_check_surveys
    from app.pulses.surveys import SurveyFileError

    settings = get_settings()
    upgrade(settings.database_url)
    # Say what is wrong with a survey file in one line, before uvicorn would print a traceback.
    engine = make_engine(settings.database_url)
    try:
        load_and_check_surveys(settings=settings, engine=engine)
    except SurveyFileError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    typer.echo(f"Redbutton is serving on http://{host}:{port}  (pulse forms, dashboards, /docs)")
    # Uvicorn's access log prints client addresses; ours (app.access_log) never does.
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    log_config["loggers"]["redbutton"] = {"handlers": ["default"], "level": "INFO"}
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_level="info",
        log_config=log_config,
        proxy_headers=False,
        # Workers answer the supervisor's health pings from a thread while importing the app;
        # on a busy host that takes longer than uvicorn's 5 s default, and the supervisor then
        # kills and restarts them forever. 30 s still catches a worker that is really hung.
        timeout_worker_healthcheck=30,
    )


def main() -> None:
    """Entry point of the console script."""
    cli()
