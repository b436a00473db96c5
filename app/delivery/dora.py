"""DORA 2023 performance bands for change failure rate and failed-deployment recovery time.

Thresholds from the 2023 Accelerate State of DevOps report's performance clusters (elite, high,
medium, low). They are context for a team looking at its own trend, never a league table.
"""

from dataclasses import dataclass
from typing import Literal

BandKey = Literal["elite", "high", "medium", "low"]

# DORA's own warning, in our words: the report asks readers not to rank or compare teams.
DORA_CAUTION = (
    "DORA's bands describe clusters seen across many organisations. DORA cautions that they "
    "are not a target and must not be used to rank or compare teams: use them to see where "
    "this team is heading, in its own context."
)


@dataclass(frozen=True)
class Band:
    """A DORA band and the words shown next to a figure."""

    key: BandKey
    label: str
    rule: str


CFR_BANDS: tuple[tuple[float, Band], ...] = (
    (0.05, Band("elite", "Elite", "change failure rate at most 5%")),
    (0.10, Band("high", "High", "change failure rate at most 10%")),
    (0.15, Band("medium", "Medium", "change failure rate at most 15%")),
)
CFR_LOW = Band("low", "Low", "change failure rate above 15%")

HOUR = 60.0
DAY = 24 * HOUR
WEEK = 7 * DAY
RECOVERY_BANDS: tuple[tuple[float, Band], ...] = (
    (HOUR, Band("elite", "Elite", "recovery in less than one hour")),
    (DAY, Band("high", "High", "recovery in less than one day")),
    (WEEK, Band("medium", "Medium", "recovery in less than one week")),
)
RECOVERY_LOW = Band("low", "Low", "recovery takes a week or more")


def change_failure_band(rate: float | None) -> Band | None:
    """The band of a change failure rate (a fraction 0–1); None when there is no rate."""
    if rate is None:
        return None
    for limit, band in CFR_BANDS:
        if rate <= limit:
            return band
    return CFR_LOW


def recovery_band(minutes: float | None) -> Band | None:
    """The band of a recovery time in minutes (the MTTR median); None when there is none."""
    if minutes is None:
        return None
    for limit, band in RECOVERY_BANDS:
        if minutes < limit:
            return band
    return RECOVERY_LOW
