"""The compiler and the tuned experta engine: experta fires exactly the rules whose conditions hold.

The oracle is the plain evaluator of the condition language (``conditions.evaluate``),
run stratum by stratum to a fixed point; experta must agree with it on any case.
"""

from __future__ import annotations

from bisect import insort

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import triage
from triage._experta import KnowledgeEngine, ReteMatcher
from triage.compiler import Answers, branches_of, compile_rules, strata
from triage.conclusions import conclude
from triage.conditions import evaluate, negation_normal_form
from triage.rete import RuleEngine, _Strategy, engine_class
from strategies import answer, consistent

KB = triage.load_knowledge_base()


CASES = st.fixed_dictionaries({}, optional={q.id: answer(q) for q in KB.questions}).map(consistent)


def rules_that_hold(kb, answers):
    """The rules whose conditions hold, evaluated in plain Python, stratum by stratum."""
    levels = strata(kb.rules)
    facts: set[str] = set()
    fired: set[str] = set()
    for level in sorted(set(levels.values())):
        changed = True
        while changed:
            changed = False
            for rule in kb.rules:
                if levels[rule.id] == level and rule.id not in fired and evaluate(rule.spec.when, answers, frozenset(facts)):
                    fired.add(rule.id)
                    facts |= set(rule.spec.then.derive)
                    changed = True
    return fired


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(case=CASES)
def test_experta_fires_exactly_the_rules_whose_conditions_hold(engine, case):
    fired = {rule.id for rule in engine.assess(case).fired_rules}
    assert fired == rules_that_hold(engine.knowledge_base, case)


@pytest.fixture(scope="module")
def new_engine(engine):
    """A class whose every instance is an experta engine that has assessed nothing.

    Each is a new instance, so its Rete network, agenda, facts and firings are
    new. The class (the compiled rules) is made once and shared: building it was a
    quarter of each new engine's cost, and an engine only reads it as it runs.
    (Building an instance binds the class's experta rules to it, so instances of
    one class must not be used in turn; here each is used once, as soon as it is built.)
    """
    kb = engine.knowledge_base
    cls = engine_class(lambda action: compile_rules(kb.rules, kb.questions, action))
    return cls


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(cases=st.lists(CASES, min_size=2, max_size=6))
def test_a_case_gives_the_same_assessment_whatever_was_assessed_before(engine, new_engine, cases):
    kb = engine.knowledge_base
    valid = [engine.validate(case) for case in cases]
    fresh = [conclude(kb, v.id, new_engine_firings(new_engine, v.answers()), v.answers()) for v in valid]
    assert [engine.assess(case) for case in cases] == fresh


_FRESH: dict = {}  # frozen answers -> what a new engine fired on them


def new_engine_firings(new_engine, answers):
    """What an engine that has assessed nothing fires on ``answers``.

    One new engine for each set of answers, kept across examples: a new engine's firings
    depend on the answers alone, and hypothesis draws the same case in many sequences (about
    three in four cases here are drawn again), so the old engine is still compared with a
    new one on every case of every sequence, for a quarter of the Rete networks built.
    """
    key = frozenset(answers.items())
    if key not in _FRESH:
        _FRESH[key] = new_engine().evaluate(answers)
    return _FRESH[key]


class _StockMatcherEngine(RuleEngine):
    """The same rules and actions on experta's own matcher and reset, untuned."""

    __matcher__ = ReteMatcher

    def reset(self):
        KnowledgeEngine.reset(self)


def _evidence(firings):
    return sorted((f.rule.id, sorted(f.answers.items()), sorted(f.facts)) for f in firings)


@pytest.fixture(scope="module")
def tuned_and_stock():
    tuned = engine_class(lambda action: compile_rules(KB.rules, KB.questions, action))()
    stock_class = engine_class(lambda action: compile_rules(KB.rules, KB.questions, action))
    return tuned, type("StockEngine", (_StockMatcherEngine,), dict(vars(stock_class)))()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(cases=st.lists(CASES, min_size=1, max_size=3))
def test_the_tuned_matcher_fires_what_experta_s_own_matcher_fires(tuned_and_stock, cases):
    # Same compiled rules and strategy; only the matcher differs. The engines are
    # reused from example to example, so the cheaper reset is compared too.
    tuned, stock = tuned_and_stock
    for case in cases:
        answers = KB.case_model.model_validate(case).answers()
        assert _evidence(tuned.evaluate(answers)) == _evidence(stock.evaluate(answers))


def test_each_branch_of_an_any_is_a_branch_and_not_is_pushed_to_the_tests(kb):
    when = negation_normal_form(kb.rule_by_id["doc_vessel_nerve_pressure"].spec.when)
    assert len(branches_of(when)) == 3 * 2  # (cramps | pain | tingling) x (second | third trimester)
    preterm = branches_of(negation_normal_form(kb.rule_by_id["safety_preterm_labour"].spec.when))
    assert [[(getattr(t, "fact", None) or t.field, negated) for t, negated in b] for b in preterm] == [
        [("regular_tightenings", False), ("from_37_weeks", True), ("first_trimester", True)],
        [("contractions_5_min_apart", False), ("from_37_weeks", True), ("first_trimester", True)],
    ]


def test_equal_tests_share_one_predicate_so_experta_shares_their_alpha_nodes(kb):
    compiled = compile_rules(kb.rules, kb.questions, lambda *args: None)
    predicates = {}
    for rule in compiled.rules.values():
        for element in rule:
            if isinstance(element, Answers):
                for field, constraint in element.items():
                    if field != "__bind__":
                        predicates.setdefault((field, frozenset(filter(constraint.match, (True, False)))), set()).add(
                            id(constraint.match)
                        )
    leg_cramps = predicates[("leg_cramps", frozenset({True}))]
    assert len(leg_cramps) == 1  # one function for every rule that asks for leg cramps


NEGATED_RULE = """
rules:
  - id: test_cramps_without_known_fever
    title: Cramps, and not known to have a fever
    when:
      all:
        - {field: leg_cramps, equals: true}
        - {not: {field: fever, equals: true}}
        - {not: {field: weeks_pregnant, known: true}}
    then:
      causes: [benign_leg_cramps]
    sources:
      - reference: a test
    examples:
      fires: [{leg_cramps: true}]
      does_not_fire: [{leg_cramps: true, fever: true}]
"""


def test_a_negated_answer_test_is_a_constraint_on_the_answers_that_accepts_unknown(kb_copy):
    (kb_copy / "documents" / "zz_test.yaml").write_text(NEGATED_RULE)
    kb = triage.load_knowledge_base(kb_copy)
    compiled = compile_rules(kb.rules, kb.questions, lambda *args: None)
    # the shipped rules negate answer tests too (issue 13); this rule's fields are among them
    assert {"fever", "weeks_pregnant"} <= compiled.declared_when_unknown
    fact = compiled.answers_fact({"leg_cramps": True})
    assert fact == Answers(**{**{field: None for field in compiled.declared_when_unknown}, "leg_cramps": True})
    engine = triage.Engine(kb)

    def fires(case):
        return "test_cramps_without_known_fever" in {r.id for r in engine.assess(case).fired_rules}

    assert fires({"leg_cramps": True}) and fires({"leg_cramps": True, "fever": False})
    assert not fires({"leg_cramps": True, "fever": True})
    assert not fires({"leg_cramps": True, "weeks_pregnant": 20})
    assert not fires({"fever": False})


def test_a_rule_whose_not_condition_stops_holding_leaves_the_agenda(engine):
    # At 40 weeks, from_37_weeks is derived after the preterm-labour rule was
    # activated; experta's own strategy could leave it on the agenda when three or
    # more activations share its key.
    case = {"weeks_pregnant": 40, "regular_tightenings": True, "severe_headache_or_vision": True,
            "severe_abdominal_pain": True, "sudden_swelling": True, "fluid_leak": True}
    fired = {r.id for r in engine.assess(case).fired_rules}
    assert "safety_labour_at_term" in fired and "safety_preterm_labour" not in fired


class _Activation:
    def __init__(self, name, key):
        self.name, self.key = name, key

    def __lt__(self, other):
        return self.key < other.key

    def __eq__(self, other):
        return self.name == other.name


@pytest.mark.parametrize("position", range(5))
def test_the_strategy_removes_an_activation_among_many_with_the_same_key(position):
    strategy = _Strategy()
    strategy.get_key = lambda activation: activation.key
    agenda = type("Agenda", (), {"activations": []})()
    for name in "abcde":
        insort(agenda.activations, _Activation(name, (999, [0])))
    strategy._update_agenda(agenda, [], [_Activation("abcde"[position], (999, [0]))])
    assert [a.name for a in agenda.activations] == [n for n in "abcde" if n != "abcde"[position]]
