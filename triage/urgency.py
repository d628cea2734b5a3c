"""The urgency scale: five ordinal levels, most urgent first.

See ``../shared/clinical/red-flags.md``: an assessment's urgency is the most urgent
level any fired rule asks for.
"""

from __future__ import annotations

from enum import Enum


class Urgency(str, Enum):
    """How soon to seek care: five levels, listed most urgent first.

    Levels compare by urgency, not by their text: a more urgent level is greater.

    >>> Urgency.EMERGENCY > Urgency.SELF_CARE
    True
    >>> max([Urgency.SELF_CARE, Urgency.EMERGENCY, Urgency.ROUTINE]).value
    'emergency'
    >>> [u.value for u in sorted([Urgency.URGENT, Urgency.SELF_CARE, Urgency.ROUTINE])]
    ['self_care', 'routine', 'urgent']

    So ``sorted()`` gives the least urgent first (``reverse=True`` for most urgent
    first, the order ``list(Urgency)`` gives). A level equals its text
    (``Urgency.ROUTINE == "routine"``), but ordering a level against a plain string
    raises ``TypeError``: str's own order is alphabetical, and would put
    ``"self_care"`` above ``"emergency"``. :attr:`rank` gives the number (4 to 0).
    """

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
        return max(levels, default=cls.SELF_CARE)

    # str's comparisons are alphabetical; these order levels by urgency instead.
    # As a subclass of str, these run first even for ``"routine" < Urgency.URGENT``.
    def __lt__(self, other: object) -> bool:
        return self.rank < _rank_of(other)

    def __le__(self, other: object) -> bool:
        return self.rank <= _rank_of(other)

    def __gt__(self, other: object) -> bool:
        return self.rank > _rank_of(other)

    def __ge__(self, other: object) -> bool:
        return self.rank >= _rank_of(other)


def _rank_of(other: object) -> int:
    if not isinstance(other, Urgency):
        raise TypeError(
            f"an Urgency is ordered only against another Urgency, not {type(other).__name__} {other!r} "
            f"(Urgency({other!r}) compares by urgency)"
        )
    return other.rank


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
