"""Cases: the model is derived from the questions; bad answers are named."""

from __future__ import annotations

import pytest

import triage
from triage.case import trimester_for_weeks


def test_every_question_is_a_case_field_and_nothing_else(kb):
    fields = set(kb.case_model.model_fields) - {"id"}
    assert fields == {q.id for q in kb.questions}


def test_the_agreed_vocabulary_is_all_there(kb):
    agreed = """weeks_pregnant trimester lower_back_pain leg_pain leg_cramps night_cramps
    cramp_lasting_over_10_min pain_down_leg pelvic_pain pain_severity numbness saddle_numbness weakness
    symptoms_in_both_legs bladder_bowel_change urge_to_move_legs one_leg_swollen leg_red_or_warm
    sudden_swelling severe_headache_or_vision breathless_or_chest_pain fever painful_urination
    vaginal_bleeding fluid_leak regular_tightenings severe_abdominal_pain long_standing_or_walking
    long_sleep sleep_position high_meat_diet calcium_level regular_exercise rapid_weight_gain
    low_water_intake high_heels exercise_without_warmup""".split()
    assert set(agreed) <= set(kb.case_model.model_fields)


def test_missing_and_null_answers_are_unknown(engine):
    case = engine.validate({"leg_cramps": True, "fever": None})
    assert case.answers() == {"leg_cramps": True}


def test_unknown_field_suggests_the_closest(engine):
    with pytest.raises(triage.CaseError) as error:
        engine.validate({"night_cramp": True}, source="c.json")
    message = str(error.value)
    assert "c.json" in message and "'night_cramp'" in message and "did you mean 'night_cramps'" in message


def test_an_empty_key_is_named_as_an_unknown_field():
    # hostile trial: {"": true} gave only pydantic's "Extra inputs are not permitted"
    with pytest.raises(triage.CaseError) as error:
        triage.assess({"": True, "leg_cramps": True})
    assert error.value.problems == ["field '': unknown field"]


@pytest.mark.parametrize(
    "field, value, expected",
    [
        ("weeks_pregnant", 43, "0 to 42"),
        ("weeks_pregnant", True, "0 to 42"),
        ("pain_severity", -1, "0 to 10"),
        ("numbness", "some", "'none', 'tingling', 'numb'"),
        ("fever", "yes", "true or false"),
        ("trimester", 4, "one of 1, 2, 3"),
        ("trimester", True, "one of 1, 2, 3"),
    ],
)
def test_bad_values_name_the_field_and_what_is_allowed(engine, field, value, expected):
    with pytest.raises(triage.CaseError) as error:
        engine.validate({"id": "c1", field: value})
    assert f"field {field!r}" in str(error.value) and expected in str(error.value)
    assert error.value.case_id == "c1"


def test_trimester_that_disagrees_with_weeks_is_an_error(engine):
    with pytest.raises(triage.CaseError, match="disagrees"):
        engine.validate({"weeks_pregnant": 30, "trimester": 2})
    assert engine.validate({"weeks_pregnant": 30, "trimester": 3}).trimester == 3


@pytest.mark.parametrize("weeks, trimester", [(0, 1), (13, 1), (14, 2), (27, 2), (28, 3), (42, 3)])
def test_trimester_boundaries(weeks, trimester):
    assert trimester_for_weeks(weeks) == trimester


def test_a_case_that_is_not_a_mapping_is_refused(engine):
    with pytest.raises(triage.CaseError, match="mapping"):
        engine.validate(["leg_cramps"])
