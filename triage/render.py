"""Render an assessment as text for a person: the action first, then the why."""

from __future__ import annotations

import textwrap

from .assessment import Assessment
from .knowledge import RED_FLAGS_NOT_CHECKED
from .text import printable, shorten
from .urgency import Urgency

_COLOURS = {
    Urgency.EMERGENCY: "\033[1;97;41m",
    Urgency.URGENT: "\033[1;31m",
    Urgency.WITHIN_24H: "\033[1;33m",
    Urgency.ROUTINE: "\033[1;36m",
    Urgency.SELF_CARE: "\033[1;32m",
}
_BOLD = "\033[1m"
_RESET = "\033[0m"
WIDTH = 88


def render_text(assessment: Assessment, explain: bool = False, colour: bool = False, width: int = WIDTH) -> str:
    """The assessment as plain text; ``explain`` adds each fired rule with what it matched and its sources.

    Text is wrapped to ``width`` columns (``triage ask`` passes the terminal's).
    """

    def _wrap(text: str, indent: str = "  ", bullet: str = "") -> str:
        return textwrap.fill(text, width, initial_indent=indent + bullet, subsequent_indent=indent + " " * len(bullet),
                             break_long_words=False, break_on_hyphens=False)

    def style(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if colour else text

    level = assessment.urgency
    heading = "NOT COVERED BY THIS TOOL" if assessment.out_of_scope else level.label.upper()
    if assessment.warnings:  # "manage this at home" must not be read without it
        heading += f", {RED_FLAGS_NOT_CHECKED}"
    lines = [style(_COLOURS[level], f"{heading}  ({level.value})"), _wrap(assessment.action, "")]
    if assessment.case_id:
        lines.insert(0, f"Case {printable(shorten(assessment.case_id, 200))}")  # from the input: escaped for the terminal
    # Right under the action: a warning read after the advice would come too late.
    lines += [style(_BOLD, _wrap(f"WARNING: {text}", "")) for text in assessment.warnings]

    if assessment.red_flags:
        lines += ["", style(_BOLD, "Warning signs")]
        lines += [_wrap(f"{flag.reason} [{flag.id}]", bullet="! ") for flag in assessment.red_flags]

    # Out of scope, the action already says the answers show nothing this tool covers.
    if assessment.causes or not assessment.out_of_scope:
        lines += ["", style(_BOLD, "Likely causes")]
        for cause in assessment.causes:
            why = ", ".join(e.describe() for e in cause.evidence) or "the answers given"
            lines.append(_wrap(f"{cause.label} (because: {why})", bullet="- "))
        if not assessment.causes:
            lines.append(_wrap("No specific cause was found from the answers given.", bullet="- "))

    if assessment.advice:
        lines += ["", style(_BOLD, "What you can do")]
        for item in assessment.advice:
            lines.append(_wrap(item.text, bullet="- "))
            if item.evidence:
                lines.append(_wrap(f"Evidence: {item.evidence}", indent="    "))

    if assessment.unanswered_red_flags:
        # Unknown is never "no": say which warning signs were not ruled out.
        lines += ["", style(_BOLD, "Warning signs not answered")]
        lines += [_wrap(question.text, bullet="? ") for question in assessment.unanswered_red_flags]
        if level in (Urgency.EMERGENCY, Urgency.URGENT):  # beside "call 999" or "go now", no weaker advice
            lines.append(_wrap("These were not answered, so they are not ruled out: do what it says above "
                               "first, and tell whoever sees you if any of them applies."))
        else:
            lines.append(_wrap("These were not answered, so they are not ruled out. If any of them applies, "
                               "or you are unsure, contact your midwife or maternity unit now."))

    lines += ["", style(_BOLD, "Seek help if")]
    lines += [_wrap(text, bullet="- ") for text in assessment.worsening_advice]

    if explain:
        lines += ["", style(_BOLD, "Reasoning (rules that fired)")]
        for rule in assessment.fired_rules:
            level_text = rule.urgency.value if rule.urgency else "no urgency"
            lines.append(_wrap(f"{rule.id} [{rule.pack}, {level_text}]: {rule.title}", bullet="* "))
            matched = ", ".join(e.describe() for e in rule.matched) or "-"
            lines.append(_wrap(f"matched: {matched}", indent="    "))
            if rule.derived:
                lines.append(_wrap(f"derived: {', '.join(rule.derived)}", indent="    "))
            # Quotes are not wrapped, so they can be searched for in their documents.
            lines += [f"    source: {source.cite()}" for source in rule.sources]
        lines.append(f"  Knowledge base {assessment.knowledge_base.name} {assessment.knowledge_base.version}, "
                     f"packs: {', '.join(assessment.knowledge_base.packs)}, sha256 {assessment.knowledge_base.sha256}")

    lines += ["", _wrap(assessment.disclaimer, "")]
    return "\n".join(lines)
