"""Proportions with 95% Wilson score intervals, as symptom-checker studies report them.

A vignette set is a small sample: 75 vignettes all triaged correctly do not show
that the rules are always right, only (with 95% confidence) that they are right at
least 95.1% of the time. The Wilson interval (Wilson 1927; recommended over the
normal approximation by Brown, Cai and DasGupta 2001) stays inside 0..1 and is
honest at 0% and 100%, where the normal approximation claims certainty.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict

Z_95 = 1.959963984540054  # the 97.5th percentile of the standard normal distribution


class Proportion(BaseModel):
    """``count`` out of ``total``, with its 95% Wilson interval (None when total is 0)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int
    total: int
    rate: float | None
    low: float | None
    high: float | None

    def describe(self) -> str:
        """``12/75  16.0% (95% CI 9.4-25.9%)``, or ``0/0  n/a``."""
        if not self.total:
            return f"{self.count}/{self.total}  n/a"
        return f"{self.count}/{self.total}  {percent(self.rate)} (95% CI {percent(self.low, 1, False)}-{percent(self.high)})"


def percent(value: float | None, digits: int = 1, sign: bool = True) -> str:
    """A share as a percentage with ``digits`` decimals (``n/a`` for None)."""
    if value is None:
        return "n/a"
    return f"{value * 100:.{digits}f}" + ("%" if sign else "")


def wilson(count: int, total: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of ``count`` successes in ``total`` trials."""
    if total <= 0:
        raise ValueError("a proportion needs at least one trial")
    p = count / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    # Clamp the rounding noise at the ends: 0 successes has a lower bound of exactly 0.
    return (0.0 if count == 0 else max(0.0, centre - half), 1.0 if count == total else min(1.0, centre + half))


def proportion(count: int, total: int) -> Proportion:
    """``count`` of ``total`` as a :class:`Proportion`, rounded to four decimals."""
    if not total:
        return Proportion(count=count, total=total, rate=None, low=None, high=None)
    low, high = wilson(count, total)
    return Proportion(count=count, total=total, rate=round(count / total, 4), low=round(low, 4), high=round(high, 4))


def over_under_odds(over: int, under: int) -> float | None:
    """Over-triage errors per under-triage error (Schmieding et al. 2022): above 1 is risk-averse.

    None when there is no under-triage (the ratio is unbounded; report the counts).
    """
    return round(over / under, 2) if under else None


def all_correct_means(total: int, correct: int | None = None) -> str:
    """What 100% on ``total`` vignettes shows, in words (``correct``: how many were; all when not given)."""
    if not total:
        return "no vignettes: no figure can be given"
    low = proportion(total, total).low  # rounded as the figures above it are, so the two agree
    vignettes = f"{total} vignette{'s' if total != 1 else ''}"
    if correct is not None and correct != total:  # not 100%: say what even 100% could show, not that it was
        return (f"even 100% on {vignettes} would mean, with 95% confidence, only at least {percent(low)} "
                f"(the lower bound of the Wilson interval)")
    return (f"100% on {vignettes} means, with 95% confidence, at least {percent(low)} "
            f"(the lower bound of the Wilson interval), not certainty")
