"""The tuned engine's shortcuts (triage/rete.py) leave experta's network in the state experta's own code would.

tests/test_compiler.py checks what fires; these check the state each shortcut
produces, so a shortcut that fires the right rules for the wrong reasons fails too:
the tokens the conflict-set nodes hold (fact captures, joins), the fact list after
declaring a case (the Answers fact declared directly), and the cheaper alpha tests.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import triage
from triage._experta import (
    ConflictSetNode,
    FactCapture,
    FeatureCheck,
    FeatureTesterNode,
    KnowledgeEngine,
    L,
    NotNode,
    OrdinaryMatchNode,
    ReteMatcher,
    TypeCheck,
)
from triage.compiler import Answers, Derived, compile_rules
from triage.rete import RuleEngine, _LiteralTest, _TypeTest, engine_class
from strategies import answer, consistent

KB = triage.load_knowledge_base()
CASES = st.fixed_dictionaries({}, optional={q.id: answer(q) for q in KB.questions}).map(consistent)


class _Stock(RuleEngine):
    """The same rules on experta's own matcher, reset and declare."""

    __matcher__ = ReteMatcher

    def reset(self):
        KnowledgeEngine.reset(self)

    def _declare_answers(self, fact):
        self._KnowledgeEngine__declare(fact)


@pytest.fixture(scope="module")
def engines():
    def build():
        return engine_class(lambda action: compile_rules(KB.rules, KB.questions, action))

    stock = build()
    return build()(), type("Stock", (_Stock,), dict(vars(stock)))()


def _fact(fact) -> tuple:
    return type(fact).__name__, tuple(sorted((k, repr(v)) for k, v in fact.items() if k != "__factid__"))


def _held(engine) -> dict:
    """What each rule's conflict-set node accepted for the last case: facts and bound facts.

    Names of the pattern bindings differ between two compilations (they hold the
    pattern's id), so a binding is compared by the fact it binds.
    """
    names = {id(rule._wrapped): name for name, rule in engine.compiled.rules.items()}
    held = {}
    for node in _all_nodes(engine.matcher):
        if isinstance(node, ConflictSetNode) and id(node.rule._wrapped) in names:  # not experta's InitialFact rule
            held[names[id(node.rule._wrapped)]] = sorted(
                (sorted(_fact(f) for f in info.data), sorted(_fact(v) for _, v in info.context))
                for info in node.memory
            )
    return held


def _all_nodes(matcher) -> list:
    nodes, seen, stack = [], set(), [matcher.root_node]
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            nodes.append(node)
            stack.extend(child.node for child in node.children)
    return nodes


def _working_memory(engine) -> list:
    # experta declares InitialFact on every reset; the tuned engine only when a rule needs it (none here)
    return sorted(_fact(fact) for fact in engine.facts.values() if type(fact).__name__ != "InitialFact")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(cases=st.lists(CASES, min_size=1, max_size=3))
def test_the_conflict_set_nodes_and_working_memory_hold_what_experta_s_own_code_gives(engines, cases):
    tuned, stock = engines
    for case in cases:
        answers = KB.case_model.model_validate(case).answers()
        tuned.evaluate(answers)
        stock.evaluate(answers)
        assert _held(tuned) == _held(stock)
        assert _working_memory(tuned) == _working_memory(stock)
        # fact ids as experta gives them: the Answers fact first, then one per fact, in order
        assert [f["__factid__"] for f in tuned.facts.values()] == list(tuned.facts) == list(range(len(tuned.facts)))
        assert tuned.facts.last_index == len(tuned.facts) and isinstance(tuned.facts[0], Answers)


def test_every_shortcut_is_wired_in(engines):
    # If a shortcut is silently not applied, the test above compares experta with itself.
    tuned, _ = engines
    nodes = tuned.matcher._nodes()
    testers = [n for n in nodes if isinstance(n, FeatureTesterNode)]
    assert not any(isinstance(n.matcher, (TypeCheck, FeatureCheck)) for n in testers)
    assert any(isinstance(n.matcher, _LiteralTest) for n in testers)
    for parent in nodes:
        for child in parent.children:
            if isinstance(child.node, (OrdinaryMatchNode, NotNode)):
                assert child.callback in (child.node._activate_left, child.node._activate_right)
            if isinstance(child.node, FeatureTesterNode) and isinstance(child.node.matcher, FactCapture):
                assert child.callback != child.node.activate


@pytest.mark.parametrize("fact", [Derived(name="third_trimester"), Derived(name="first_trimester"), Derived(other=1),
                                  Answers(name="third_trimester"), Derived()])
def test_the_cheaper_alpha_tests_agree_with_experta_s_checks(fact):
    literal = FeatureCheck("name", L("third_trimester"))
    assert _LiteralTest("name", "third_trimester")(fact) == bool(literal(fact))
    for fact_type in (Derived, Answers):
        assert _TypeTest(fact_type)(fact) == TypeCheck(fact_type)(fact)


def test_a_field_name_experta_would_read_as_nested_keeps_experta_s_declare(kb):
    compiled = compile_rules(kb.rules, kb.questions, lambda *args: None)
    assert compiled.plain_fields
    nested = [*kb.questions, kb.questions[0].model_copy(update={"id": "leg__cramps"})]
    assert not compile_rules(kb.rules, nested, lambda *args: None).plain_fields
