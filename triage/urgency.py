"""The urgency scale: five ordinal levels, most urgent first.

See ``../shared/clinical/red-flags.md``: an assessment's urgency is the most urgent
level any fired rule asks for.
"""

from __future__ import annotations

from enum import Enum


class Urgency(str, Enum):
    """How soon to seek care. Compare levels with :attr:`rank` (higher is more urgent)."""

    EMERGENCY = "emergency"
    URGENT = "urgent"
    WITHIN_24H = "within_24h"
    ROUTINE = "routine"
    SELF_CARE = "self_care"

    @property
    def rank(self) -> int:
        """4 for emergency down to 0 for self-care."""
        return _RANK[self]

    @property
    def action(self) -> str:
        """What the person should do, in plain words."""
        return _ACTION[self]

    @property
    def label(self) -> str:
        """A short heading for the level."""
        return _LABEL[self]

    @classmethod
    def most_urgent(cls, levels) -> "Urgency":
        """The most urgent of ``levels``; self-care when there are none."""
        levels = list(levels)
        return max(levels, key=lambda u: u.rank) if levels else cls.SELF_CARE


_RANK = {
    Urgency.EMERGENCY: 4,
    Urgency.URGENT: 3,
    Urgency.WITHIN_24H: 2,
    Urgency.ROUTINE: 1,
    Urgency.SELF_CARE: 0,
}

_LABEL = {
    Urgency.EMERGENCY: "EMERGENCY",
    Urgency.URGENT: "URGENT",
    Urgency.WITHIN_24H: "Contact your midwife or doctor today",
    Urgency.ROUTINE: "Routine",
    Urgency.SELF_CARE: "Self-care",
}

_ACTION = {
    Urgency.EMERGENCY: "Call the emergency number now (999 in the UK, 911 in the US, 112 in the EU).",
    Urgency.URGENT: (
        "Seek medical attention now: go to your maternity assessment unit or labour ward, "
        "or an emergency department. Phone the maternity unit on your way."
    ),
    Urgency.WITHIN_24H: "Contact your midwife or doctor today.",
    Urgency.ROUTINE: "Raise this at your next antenatal appointment, or book a routine check.",
    Urgency.SELF_CARE: "You can manage this at home with the advice below; seek help if it gets worse.",
}
