"""DESIGN §9 "no request can produce a 500": schemathesis over every operation of the OpenAPI
schema, with valid credentials and real path parameters, finds no 5xx and no response that
breaks its documented schema."""

import itertools
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlmodel import Session

from tests.factories import make_api_token, make_team, make_user, settle

pytestmark = pytest.mark.slow

MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)

EXAMPLES_PER_OPERATION = 40  # per generation mode: valid, then invalid data


def test_no_operation_answers_5xx_or_breaks_its_schema(app: FastAPI, session: Session) -> None:
    issued = make_team(session, slug="fuzzed")
    team = issued.team
    admin = make_user(session, role="admin")
    token = make_api_token(session, admin)
    path_values = {"slug": team.slug, "team_slug": team.slug, "team_link": team.pulse_link}
    settle(session)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 12, "the schema lost operations"
    cases_run = 0
    for operation, mode in itertools.product(operations, MODES):
        ingest = operation.path in ("/api/v1/deployments", "/api/v1/incidents")
        credential = issued.ingest_token if ingest else token
        headers = {"Authorization": f"Bearer {credential}"}
        known = {
            name: value for name, value in path_values.items() if "{" + name + "}" in operation.path
        }

        @given(case=operation.as_strategy(mode, path_parameters=known or None))
        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            nonlocal cases_run
            cases_run += 1
            case.call_and_validate(
                headers=headers,  # noqa: B023 - run() is called at once, in this iteration
                checks=[not_a_server_error, response_schema_conformance],
            )

        try:
            run()
        except Unsatisfiable:
            # An operation without parameters or body has no invalid input to generate.
            assert mode is schemathesis.GenerationMode.NEGATIVE, operation.path
    print(f"schemathesis: {cases_run} cases over {len(operations)} operations")
    assert cases_run >= len(operations) * len(MODES) * 5
