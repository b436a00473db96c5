"""Settings refuse what would make the product unsafe."""

import pytest
from pydantic import ValidationError

from app.config import Settings


@pytest.mark.parametrize("secret", ["", "changeme", "secret", "short"])
def test_a_missing_or_placeholder_secret_is_refused_outside_development(secret: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment="production", secret_key=secret)


def test_development_runs_without_a_secret() -> None:
    assert Settings(environment="development").secret_key


def test_min_responses_below_three_is_refused() -> None:
    with pytest.raises(ValidationError, match="min_responses"):
        Settings(environment="development", min_responses=2)
    assert Settings(environment="development", min_responses=3).min_responses == 3


def test_min_responses_defaults_to_five() -> None:
    assert Settings(environment="development").min_responses == 5
