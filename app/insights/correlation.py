"""Spearman's rank correlation, for the trust-versus-delivery scatter (an association only)."""

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RankCorrelation:
    """Spearman's rho and the number of paired weeks it rests on."""

    rho: float | None
    n: int


def ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks; tied values share the mean of their ranks."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    result = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        shared = (start + end) / 2.0 + 1.0
        for position in range(start, end + 1):
            result[order[position]] = shared
        start = end + 1
    return result


def spearman(pairs: Sequence[tuple[float, float]]) -> RankCorrelation:
    """Pearson's correlation of the ranks (None below 3 pairs or when one side is constant)."""
    n = len(pairs)
    if n < 3:
        return RankCorrelation(rho=None, n=n)
    x = ranks([a for a, _ in pairs])
    y = ranks([b for _, b in pairs])
    mean_x, mean_y = sum(x) / n, sum(y) / n
    cov = sum((a - mean_x) * (b - mean_y) for a, b in zip(x, y, strict=True))
    spread = math.sqrt(sum((a - mean_x) ** 2 for a in x) * sum((b - mean_y) ** 2 for b in y))
    if spread == 0:
        return RankCorrelation(rho=None, n=n)
    return RankCorrelation(rho=cov / spread, n=n)
