"""The t critical values match published tables; the interval is the textbook one."""

import math

import pytest

from app.insights.intervals import mean_interval, t_cdf, t_critical


@pytest.mark.parametrize(
    ("confidence", "df", "expected"),
    [
        (0.95, 1, 12.7062),
        (0.95, 2, 4.3027),
        (0.95, 4, 2.7764),
        (0.95, 9, 2.2622),
        (0.95, 29, 2.0452),
        (0.95, 100, 1.9840),
        (0.95, 1_000_000, 1.9600),
        (0.99, 10, 3.1693),
        (0.90, 5, 2.0150),
    ],
)
def test_t_critical_matches_tables(confidence: float, df: int, expected: float) -> None:
    assert t_critical(confidence, df) == pytest.approx(expected, abs=1e-4)


def test_t_cdf_is_symmetric_and_centred() -> None:
    assert t_cdf(0.0, 7) == pytest.approx(0.5)
    assert t_cdf(1.3, 7) + t_cdf(-1.3, 7) == pytest.approx(1.0)
    # df = 1 is the Cauchy distribution: CDF(1) = 3/4.
    assert t_cdf(1.0, 1) == pytest.approx(0.75)


def test_mean_interval_by_hand() -> None:
    # n = 5, variance 0.8: half width = 2.776445 * sqrt(0.8 / 5) = 1.110578.
    low, high = mean_interval(n=5, mean=3.9, variance=0.8) or (math.nan, math.nan)
    assert low == pytest.approx(2.789422, abs=1e-5)
    assert high == pytest.approx(5.010578, abs=1e-5)


def test_no_interval_from_one_value() -> None:
    assert mean_interval(n=1, mean=3.0, variance=0.0) is None


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        t_critical(1.5, 3)
    with pytest.raises(ValueError):
        t_critical(0.95, 0)
