"""`redbutton create-admin`, `redbutton user create` and `redbutton token create|revoke`."""

from typing import Annotated

import typer

from app.auth import service as auth_service
from app.cli_support import cli_session, emit, fail
from app.teams import service as team_service

user_app = typer.Typer(help="Create users (admins and managers).", no_args_is_help=True)
token_app = typer.Typer(help="Personal API tokens.", no_args_is_help=True)

EmailOption = Annotated[str, typer.Option(help="the user's email address")]
JsonOption = Annotated[bool, typer.Option("--json", help="print one JSON object")]


def _create(*, email: str, password: str, role: str, team_slugs: list[str], as_json: bool) -> None:
    with cli_session() as session:
        teams = []
        for slug in team_slugs:
            team = team_service.get_by_slug(session=session, slug=slug)
            if team is None:
                fail(f"there is no team with slug {slug!r}", as_json=as_json)
            teams.append(team)
        try:
            user = auth_service.create_user(
                session=session, email=email, password=password, role=role, teams=teams
            )
        except auth_service.AuthError as exc:
            fail(str(exc), as_json=as_json)
        slugs = [team.slug for team in auth_service.teams_of(session=session, user=user)]
        emit(
            {"email": user.email, "role": user.role, "teams": slugs},
            as_json=as_json,
            text=f"{user.role.capitalize()} {user.email} created"
            + (f" for {', '.join(slugs)}." if slugs else "."),
        )


def create_admin(
    email: EmailOption,
    password: Annotated[str, typer.Option(help="at least 10 characters")],
    as_json: JsonOption = False,
) -> None:
    """Create an administrator (sees every team, manages users and teams)."""
    _create(email=email, password=password, role="admin", team_slugs=[], as_json=as_json)


@user_app.command("create")
def create_user(
    email: EmailOption,
    password: Annotated[str, typer.Option(help="at least 10 characters")],
    role: Annotated[str, typer.Option(help="admin or manager")] = "manager",
    team: Annotated[
        list[str] | None, typer.Option("--team", help="a team this manager sees (repeatable)")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create an admin or a manager of the given teams."""
    _create(email=email, password=password, role=role, team_slugs=team or [], as_json=as_json)


@token_app.command("create")
def create_token(email: EmailOption, as_json: JsonOption = False) -> None:
    """Issue a personal API token (shown once; only its hash is stored)."""
    with cli_session() as session:
        user = auth_service.get_user_by_email(session=session, email=email)
        if user is None:
            fail(f"there is no user with email {email!r}", as_json=as_json)
        token = auth_service.create_api_token(session=session, user=user)
        emit(
            {"token": token},
            as_json=as_json,
            text=f"API token for {user.email} (shown once):\n{token}",
        )


@token_app.command("revoke")
def revoke_token(
    token: Annotated[str | None, typer.Option(help="the token to revoke")] = None,
    email: Annotated[
        str | None, typer.Option(help="revoke every token of this user instead")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke one API token, or every token of a user."""
    if (token is None) == (email is None):
        fail("give either --token or --email", as_json=as_json)
    with cli_session() as session:
        if token is not None:
            if not auth_service.revoke_api_token(session=session, token=token):
                fail("no active token matches", as_json=as_json)
            revoked = 1
        else:
            assert email is not None
            user = auth_service.get_user_by_email(session=session, email=email)
            if user is None:
                fail(f"there is no user with email {email!r}", as_json=as_json)
            revoked = auth_service.revoke_api_tokens_of(session=session, user=user)
        emit({"revoked": revoked}, as_json=as_json, text=f"{revoked} token(s) revoked.")
