"""DORA 2023 bands at their edges."""

import pytest

from app.delivery import dora


@pytest.mark.parametrize(
    ("rate", "band"),
    [
        (0.0, "elite"),
        (0.05, "elite"),
        (0.06, "high"),
        (0.10, "high"),
        (0.15, "medium"),
        (0.151, "low"),
        (1.0, "low"),
    ],
)
def test_change_failure_rate_bands(rate: float, band: str) -> None:
    found = dora.change_failure_band(rate)
    assert found is not None and found.key == band


@pytest.mark.parametrize(
    ("minutes", "band"),
    [
        (0, "elite"),
        (59.9, "elite"),
        (60, "high"),
        (24 * 60 - 1, "high"),
        (24 * 60, "medium"),
        (7 * 24 * 60 - 1, "medium"),
        (7 * 24 * 60, "low"),
    ],
)
def test_recovery_bands(minutes: float, band: str) -> None:
    found = dora.recovery_band(minutes)
    assert found is not None and found.key == band


def test_no_figure_no_band() -> None:
    assert dora.change_failure_band(None) is None
    assert dora.recovery_band(None) is None
