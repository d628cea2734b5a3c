"""Cases: a set of answers, validated against the knowledge base's questions.

The case model is built from the questions (``rules/questions.yaml``), so the
vocabulary is defined once. Every field is optional: a missing field (or null)
means "unknown", never "no".
"""

from __future__ import annotations

import difflib
from typing import Any, Mapping, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator

from .errors import CaseError
from .questions import Question

TRIMESTER_BY_WEEKS = ((0, 13, 1), (14, 27, 2), (28, 42, 3))


def trimester_for_weeks(weeks: int) -> int:
    """The trimester a number of completed weeks falls in (1: 0-13, 2: 14-27, 3: 28+)."""
    for low, high, trimester in TRIMESTER_BY_WEEKS:
        if low <= weeks <= high:
            return trimester
    return 3


# A follow-up question and the answer to its finding that rules it out: no amount of
# bleeding beside "no bleeding", no night cramps beside "no leg cramps". A case giving both is refused; with the finding denied,
# the follow-up is neither asked nor listed as an unanswered warning sign.
FOLLOW_UPS: dict[str, tuple[str, Any]] = {
    "bleeding_amount": ("vaginal_bleeding", False),
    "night_cramps": ("leg_cramps", False),  # no cramp questions after "no cramps"
    "cramp_lasting_over_10_min": ("leg_cramps", False),
    "cramps_disturb_sleep_every_night": ("leg_cramps", False),
}


def coupled_fields() -> dict[str, frozenset[str]]:
    """For each field a check of :class:`CaseBase` reads beside another, those other fields.

    Every check of a whole case compares two answers (the weeks and the trimester, a
    follow-up and its finding), so a value for a field outside these pairs is valid beside
    any answers that are valid together: :mod:`triage.relevance` uses this to ask the case
    model only about the pairs that can disagree. Keep it in step with the validators below
    (tests/test_relevance.py compares it with validating the whole case).
    """
    pairs = [("weeks_pregnant", "trimester"), *((field, finding) for field, (finding, _) in FOLLOW_UPS.items())]
    coupled: dict[str, set[str]] = {}
    for one, other in pairs:
        coupled.setdefault(one, set()).add(other)
        coupled.setdefault(other, set()).add(one)
    return {field: frozenset(others) for field, others in coupled.items()}


def ruled_out(answers: dict[str, Any]) -> set[str]:
    """The follow-up questions the answers leave nothing to ask (their finding was denied)."""
    return {field for field, (finding, denial) in FOLLOW_UPS.items() if answers.get(finding) == denial}


class CaseBase(BaseModel):
    """Common behaviour of every case model; the fields come from the questions."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    id: Optional[str] = Field(default=None, description="A name for the case.")

    @model_validator(mode="after")
    def _weeks_agree_with_trimester(self):
        weeks = getattr(self, "weeks_pregnant", None)
        trimester = getattr(self, "trimester", None)
        if weeks is not None and trimester is not None and trimester_for_weeks(weeks) != trimester:
            raise ValueError(
                f"trimester {trimester} disagrees with weeks_pregnant {weeks} "
                f"(week {weeks} is in trimester {trimester_for_weeks(weeks)})"
            )
        return self

    @model_validator(mode="after")
    def _follow_up_needs_its_finding(self):
        # "No bleeding" and an amount of bleeding contradict each other: refuse rather than
        # guess which answer is wrong (the heavier reading could be an emergency).
        for field, (finding, denial) in FOLLOW_UPS.items():
            value = getattr(self, field, None)
            # "no night cramps" beside "no leg cramps" agrees; only a finding contradicts
            if value is not None and value is not False and getattr(self, finding, None) == denial:
                raise ValueError(f"{field} {_as_written(value)} disagrees with {finding} {_as_written(denial)}")
        return self

    def answers(self) -> dict[str, Any]:
        """The known answers only, without the id."""
        # The fields hold plain values (bool, int, str), so the model's own __dict__
        # is what model_dump() would copy out, at a fraction of the cost per case.
        return {k: v for k, v in self.__dict__.items() if v is not None and k != "id"}


def build_case_model(questions: list[Question]) -> type[CaseBase]:
    """Build the pydantic case model whose fields are the questions' ids."""
    fields = {
        q.id: (Optional[q.answer_type()], Field(default=None, description=q.text + " " + q.help))
        for q in questions
    }
    model = create_model("Case", __base__=CaseBase, __doc__="A set of answers; every field is optional.", **fields)
    model.__questions__ = {q.id: q for q in questions}
    return model


def validate_case(
    model: type[CaseBase],
    data: Any,
    source: str | None = None,
) -> CaseBase:
    """Validate ``data`` (a mapping or a case) as a case; raise :class:`CaseError` naming each bad field."""
    if isinstance(data, model):
        return data
    if isinstance(data, CaseBase):
        data = data.model_dump(exclude_none=True)
    if not isinstance(data, Mapping):
        raise CaseError([f"a case must be a mapping of field names to answers, not {type(data).__name__}"], source)
    case_id = data.get("id")
    case_id = str(case_id) if case_id is not None else None
    try:
        return model.model_validate(dict(data))
    except ValidationError as error:
        raise CaseError(describe_errors(model, error), source, case_id) from None


def _as_written(value: Any) -> str:
    """A value for messages: true, false and null as a case file writes them, others quoted."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    return repr(value)


def describe_errors(model: type[CaseBase], error: ValidationError) -> list[str]:
    """Turn pydantic's errors into one plain line per field."""
    known = [name for name in model.model_fields]
    questions = getattr(model, "__questions__", {})
    problems = []
    for item in error.errors():
        loc = [str(part) for part in item["loc"]]
        field = loc[0] if loc else None
        if item["type"] == "extra_forbidden" and field is not None:  # "" too: a key can be empty text
            # difflib is quadratic, and only the first problems are shown (CaseError caps them)
            hint = difflib.get_close_matches(field, known, n=1) if len(field) <= 64 and len(problems) < 21 else []
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            problems.append(f"field {field!r}: unknown field{suggestion}")
        elif field is not None and field in questions:
            question = questions[field]
            problems.append(
                f"field {field!r}: {_as_written(item['input'])} is not a valid answer; expected {question.describe_allowed()}"
            )
        elif field is not None:
            problems.append(f"field {field!r}: {item['msg']}")
        else:
            problems.append(item["msg"].removeprefix("Value error, "))
    return problems
