"""Student's t critical values and the 95% interval of a mean, without scipy.

The quantile is found by bisection on the t distribution's CDF, which is written with the
regularised incomplete beta function (continued fraction, as in Numerical Recipes §6.4).
"""

import math
from functools import lru_cache

_EPSILON = 1e-15
_TINY = 1e-300


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """Lentz's evaluation of the continued fraction of the incomplete beta function."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPSILON:
            break
    return h


def regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b) for a, b > 0 and 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    # The fraction converges fast only on one side of the mean; use the symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with `df` degrees of freedom."""
    tail = 0.5 * regularized_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


@lru_cache(maxsize=1024)
def t_critical(confidence: float, df: float) -> float:
    """The two-sided critical value: P(|T| <= value) = confidence."""
    # Cached: a 104-week trend asks for the same few degrees of freedom over and over, and each
    # bisection costs ~45 incomplete-beta evaluations (0.4 s per request before the cache).
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be between 0 and 1")
    if df <= 0:
        raise ValueError("degrees of freedom must be positive")
    target = 0.5 + confidence / 2.0
    low, high = 0.0, 1.0
    while t_cdf(high, df) < target:
        high *= 2.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if t_cdf(middle, df) < target:
            low = middle
        else:
            high = middle
        if high - low < 1e-12:
            break
    return (low + high) / 2.0


def mean_interval(
    *, n: int, mean: float, variance: float, confidence: float = 0.95
) -> tuple[float, float] | None:
    """The t-interval of a mean from its sample size and sample variance (None below n = 2)."""
    if n < 2:
        return None
    half_width = t_critical(confidence, n - 1) * math.sqrt(max(variance, 0.0) / n)
    return mean - half_width, mean + half_width
