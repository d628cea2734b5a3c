"""The experta engine that runs one knowledge base, tuned for running many cases in a row.

experta does all the inference: every case is declared into its Rete network,
matched, and its rules fired from the agenda. What this module changes is only the
bookkeeping *between* cases and around each firing, through the extension points
experta offers (a ``KnowledgeEngine`` subclass with its own ``__matcher__`` and
``__strategy__``). Each change keeps experta's behaviour and says why:

- :meth:`RuleEngine.reset` empties only the nodes that can hold something, from
  lists made once, instead of experta's recursive walk of every node plus the
  introspection that looks for ``DefFacts`` on every reset (our engines have none
  of their own); and it declares ``InitialFact`` only when a rule matches it.
- :meth:`_Matcher.changes` asks only the conflict-set nodes that received tokens
  for their activations, instead of all of them at every step of ``run``.
- A token is copied only on its way into a node that changes it. experta copies a
  token on entry to every node, but only an alpha node that binds a variable
  writes to it; the tests on answers and the conflict-set nodes only read it.
  Those copies were a third of the cost of a case.
- The tests on an answer call the compiled predicate directly
  (:class:`_AnswerTest`). experta's ``FeatureCheck`` gives the same result but on
  every call parses its field name as a nested path and logs the outcome; and
  their nodes pass a token on without looking for bindings they cannot return.
- :meth:`RuleEngine.run` is experta's loop without the log line it formats for
  every firing whether or not anything logs it.
- :class:`_Strategy` computes an activation's agenda key directly (experta caches
  it in an ``lru_cache`` whose lookups cost more than the key), and fixes how
  experta removes an activation from the agenda (see there).

Measured on the shipped knowledge base (56 rules, 84 experta rules) with
``valgrind --tool=callgrind``, these make one case about 4.5 times cheaper than a
stock experta engine running the same compiled rules (1.8 against 8.1 million
instructions); the compiler's choices (see :mod:`triage.compiler`) come on top. ``tests/test_compiler.py`` checks that the
engine fires what a stock experta engine fires, evidence included.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from typing import Any, Callable

from ._experta import (
    Agenda,
    ChildNode,
    ConflictSetNode,
    DepthStrategy,
    FactCapture,
    FactList,
    FeatureCheck,
    FeatureTesterNode,
    InitialFact,
    KnowledgeEngine,
    L,
    NoMemory,
    NotNode,
    OrdinaryMatchNode,
    P,
    ReteMatcher,
    Token,
    TypeCheck,
)
from .compiler import Answers, Branch, CompiledRules, Derived
from .conclusions import Firing


class _AnswerTest:
    """The test of an alpha node on one answer: ``predicate(answers[field])``.

    What experta's ``FeatureCheck`` computes for a top-level field and a predicate
    that binds nothing: false when the field is absent (an ``Answers`` fact declares
    no defaults), else whether the predicate accepts the value.
    """

    __slots__ = ("field", "predicate")

    def __init__(self, field: str, predicate: Callable[[Any], Any]):
        self.field = field
        self.predicate = predicate

    def __call__(self, fact) -> bool:
        value = fact.get(self.field, _ABSENT)
        return value is not _ABSENT and bool(self.predicate(value))


_ABSENT = object()


class _TypeTest:
    """The test of an alpha node on a fact's type: what experta's ``TypeCheck`` computes, unlogged."""

    __slots__ = ("fact_type",)

    def __init__(self, fact_type: type):
        self.fact_type = fact_type

    def __call__(self, fact) -> bool:
        return type(fact) == self.fact_type


class _LiteralTest:
    """The test of an alpha node ``Derived(name="...")``: what experta's ``FeatureCheck`` computes
    for a top-level field and a literal that binds nothing (false when the field is absent)."""

    __slots__ = ("field", "value")

    def __init__(self, field: str, value: Any):
        self.field = field
        self.value = value

    def __call__(self, fact) -> bool:
        actual = fact.get(self.field, _ABSENT)
        return actual is not _ABSENT and self.value == actual


def _fast_test(check):
    """A cheaper equivalent of an alpha node's check that binds nothing, or None."""
    if isinstance(check, TypeCheck):
        return _TypeTest(check.fact_type)
    if isinstance(check, FeatureCheck) and _binds_nothing(check) and isinstance(check.what, str) \
            and "__" not in check.what:
        if isinstance(check.how, P):
            return _AnswerTest(check.what, check.how.match)
        if isinstance(check.how, L):
            return _LiteralTest(check.what, check.how.value)
    return None


def _capturing(node: FeatureTesterNode) -> Callable:
    """What ``node.activate`` does for experta's ``FactCapture`` check, built directly.

    experta copies the token, calls the check (which logs) for ``{name: fact}``,
    tests that binding against the context and adds it. A token reaching a capture
    here has an empty context (no test before it binds), so the binding cannot
    conflict: the child gets a new token with the fact bound. A token with a
    context takes experta's own path.
    """
    bind, children, slow = node.matcher.bind, node.children, node.activate

    def activate(token):
        if token.context:
            return slow(token)
        data = token.data
        for fact in data:
            captured = tuple.__new__(Token, (token.tag, set(data), {bind: fact}))
            for child in children:
                child.callback(captured)

    return activate


def _binds_nothing(check) -> bool:
    """Whether an alpha node's check only tests (never adds a binding to the token)."""
    if isinstance(check, TypeCheck):
        return True
    return isinstance(check, FeatureCheck) and isinstance(check.how, (P, L)) and check.how.__bind__ is None


def _testing(node: FeatureTesterNode) -> Callable:
    """What ``node.activate`` does for a test that binds nothing, less what only a binding needs.

    ``FeatureTesterNode._activate`` also unpacks a binding the test may return
    into the token; these tests return only True or False. The token, which the
    test only reads, is passed on as it is (see :class:`_Matcher`). A test on an
    answer, the most frequent by far, is inlined: one call fewer per test.
    """
    test, children = node.matcher, node.children
    if isinstance(test, _AnswerTest):
        field, predicate = test.field, test.predicate

        def activate(token):
            for fact in token.data:  # an alpha-network token holds one fact
                value = fact.get(field, _ABSENT)
                if value is not _ABSENT and predicate(value):  # _AnswerTest.__call__
                    for child in children:
                        child.callback(token)

        return activate

    def activate(token):
        for fact in token.data:
            if test(fact):
                for child in children:
                    child.callback(token)

    return activate


class _Matcher(ReteMatcher):
    """experta's Rete matcher, with the bookkeeping made cheaper.

    The network, its nodes and how tokens travel through them are experta's own;
    only the callbacks that link a node to its children are rewired, once, after
    experta has built the network:

    - each conflict-set node (one per rule branch) reports, besides activating as
      usual, that it has news; ``changes`` then asks only those nodes for their
      activations, and ``reset`` empties only them and the join nodes (experta
      asks and empties every node every time);
    - a node that only reads the token it receives (a conflict-set node, or an
      alpha node whose check binds nothing) receives it without the copy experta
      makes on entry to every node; a node that binds still copies before writing;
    - the alpha nodes testing an answer use :class:`_AnswerTest`, and pass a
      token on as :func:`_testing` says.
    """

    def __init__(self, engine):
        super().__init__(engine)
        self._news: list = []  # conflict-set nodes with activations not yet asked for
        self._used: list = []  # conflict-set nodes that hold something since the last reset
        nodes = self._nodes()
        self._joins = [node for node in nodes if not isinstance(node, (NoMemory, ConflictSetNode))]
        initial = [n for n in nodes if isinstance(getattr(n, "matcher", None), TypeCheck) and n.matcher.fact_type is InitialFact]
        for node in nodes:
            fast = _fast_test(getattr(node, "matcher", None)) if isinstance(node, FeatureTesterNode) else None
            if fast is not None:
                node.matcher = fast
        for parent in nodes:
            parent.children[:] = [self._rewired(child) for child in parent.children]
        # experta adds InitialFact to the alpha network whether or not a rule uses it;
        # a rule uses it when the node matching it feeds more than its own capture.
        # When none does, InitialFact is not declared and its branch is cut off,
        # so no fact has to be tested against it.
        self.uses_initial_fact = any(child.node.children for node in initial for child in node.children)
        if not self.uses_initial_fact:
            self.root_node.children[:] = [c for c in self.root_node.children if c.node not in initial]

    def _nodes(self) -> list:
        """Every node once, depth first, in the order ReteMatcher walks them."""
        nodes, seen, stack = [], set(), [self.root_node]
        while stack:
            node = stack.pop()
            if id(node) not in seen:
                seen.add(id(node))
                nodes.append(node)
                stack.extend(child.node for child in reversed(node.children))
        return nodes

    def _rewired(self, child: ChildNode) -> ChildNode:
        node = child.node
        if isinstance(node, ConflictSetNode):
            return ChildNode(node, self._reporting(node))
        if isinstance(node, FeatureTesterNode) and child.callback == node.activate \
                and isinstance(node.matcher, (_AnswerTest, _TypeTest, _LiteralTest)):
            return ChildNode(node, _testing(node))
        if isinstance(node, FeatureTesterNode) and child.callback == node.activate and isinstance(node.matcher, FactCapture):
            return ChildNode(node, _capturing(node))
        if isinstance(node, (OrdinaryMatchNode, NotNode)):
            # TwoInputNode.activate_left/right is "copy the token, then _activate_left/right
            # it"; both join nodes only read the token they receive (they store its
            # immutable TokenInfo and build new tokens for their children).
            if child.callback == node.activate_left:
                return ChildNode(node, node._activate_left)
            if child.callback == node.activate_right:
                return ChildNode(node, node._activate_right)
        if isinstance(node, FeatureTesterNode) and child.callback == node.activate and _binds_nothing(node.matcher):
            # OneInputNode.activate is "copy the token, then _activate it".
            return ChildNode(node, node._activate)
        return child

    def _reporting(self, node: ConflictSetNode):
        news, used, activate_node = self._news, self._used, node._activate

        def activate(token):
            if not (node.added or node.removed):
                news.append(node)
            if not node.memory:
                used.append(node)
            activate_node(token)  # reads the token only: no copy

        return activate

    def reset(self):
        """Empty the memory of every node that can hold something."""
        for node in self._joins:
            node._reset()
        for node in self._used:
            node._reset()
        self._used.clear()
        self._news.clear()

    def changes(self, adding=None, deleting=None):
        """Pass fact changes through the network; return the activations added and removed."""
        if deleting is not None:
            for deleted in deleting:
                self.root_node.remove(deleted)
        if adding is not None:
            for added in adding:
                self.root_node.add(added)
        added, removed = [], []
        for node in self._news:
            node_added, node_removed = node.get_activations()
            added.extend(node_added)
            removed.extend(node_removed)
        self._news.clear()
        return added, removed


class _Strategy(DepthStrategy):
    """experta's depth strategy (salience, then the newest facts first), with two fixes.

    - The key is computed directly; experta caches it in an ``lru_cache`` whose
      lookups hash the whole rule and context, which costs more than the key.
    - A removed activation is looked for among *all* the activations with the same
      key. experta looks only next to where ``bisect`` lands, so with three or more
      equal keys (common: one salience per stratum, one Answers fact per case) a
      rule whose NOT condition stopped holding could stay on the agenda and fire,
      e.g. "preterm labour" for a case at 40 weeks.
    """

    def get_key(self, activation):
        return (activation.rule.salience, sorted((f["__factid__"] for f in activation.facts), reverse=True))

    def _update_agenda(self, agenda, added, removed):
        activations = agenda.activations
        for activation in removed:
            activation.key = self.get_key(activation)
            for index in range(bisect_left(activations, activation), bisect_right(activations, activation)):
                if activations[index] == activation:
                    del activations[index]
                    break
        for activation in added:
            activation.key = self.get_key(activation)
            insort(activations, activation)


class RuleEngine(KnowledgeEngine):
    """An experta engine for compiled rules; :meth:`evaluate` runs one case."""

    __matcher__ = _Matcher
    __strategy__ = _Strategy

    compiled: CompiledRules  # set on each generated subclass

    def reset(self):
        """Start from an empty working memory holding only ``InitialFact``.

        The same state as ``KnowledgeEngine.reset()``, which also declares the facts
        of the engine's ``DefFacts``, found by introspection on every call: the only
        ones here are experta's own, which yield ``InitialFact()``.
        """
        self.agenda = Agenda()
        self.facts = FactList()
        self.matcher.reset()
        if self.matcher.uses_initial_fact:
            self.facts.declare(InitialFact())
            added, removed = self.get_activations()
            self.strategy.update_agenda(self.agenda, added, removed)
        self.running = False

    def evaluate(self, answers: dict[str, Any]) -> list[Firing]:
        """Run the rules on one case's known answers; return what fired."""
        self.firings: dict[str, Firing] = {}
        self.reset()
        self.answers = self.compiled.answers_fact(answers)  # what the rules read their evidence from
        if self.compiled.plain_fields:
            self._declare_answers(self.answers)
        else:  # experta refuses a field name with "__" (a nested accessor): let it say so
            self._KnowledgeEngine__declare(self.answers)
        self.run()
        return list(self.firings.values())

    def _declare_answers(self, fact: Answers) -> None:
        """Declare the case's ``Answers`` fact: what ``KnowledgeEngine.declare()`` does, less its checks.

        experta walks every item of a declared fact three times: for field
        constraints and nested accessors (none: the values are validated answers and
        no question's id holds "__", see ``CompiledRules.plain_fields``) and for the
        id it uses to reject a duplicate fact (none: the working memory holds at most
        ``InitialFact`` here). The fact gets its index, joins the fact list and is
        passed to the network, as experta would do; no warning about an empty
        working memory, which is empty here when no rule needs ``InitialFact``.
        """
        facts = self.facts
        fact.__factid__ = index = facts.last_index
        facts[index] = fact
        facts.last_index = index + 1
        facts.added.append(fact)
        added, removed = self.get_activations()
        self.strategy.update_agenda(self.agenda, added, removed)

    def run(self, steps=float("inf")):
        """Fire activations from the agenda until none is left: ``KnowledgeEngine.run``.

        The same loop, less the log line experta formats for every firing (each
        fact turned into text) whether or not anyone logs it, and less the copy of
        the activation's context it passes to the action: these actions take none.
        """
        self.running = True
        while steps > 0 and self.running:
            added, removed = self.get_activations()
            self.strategy.update_agenda(self.agenda, added, removed)
            activation = self.agenda.get_next()
            if activation is None:
                break
            steps -= 1
            activation.rule(self)
        self.running = False

    def collect(self, branch: Branch) -> None:
        """Record that a branch of a rule fired; derive the rule's facts the first time."""
        rule = branch.rule
        firing = self.firings.get(branch.rule_id)
        if firing is None:
            firing = self.firings[branch.rule_id] = Firing(rule)
            for fact in rule.spec.then.derive:
                # What KnowledgeEngine.declare() does while the engine runs, less its
                # checks that a fact holds no patterns, which a Derived fact cannot.
                self.facts.declare(Derived(name=fact))
        answers = self.answers
        firing.add({field: answers[field] for field in branch.fields} if branch.fields else {}, branch.facts)


def _on_fire(engine: RuleEngine, branch: Branch) -> None:
    engine.collect(branch)


def engine_class(compile: Callable[[Callable], CompiledRules]) -> type[RuleEngine]:
    """A new ``RuleEngine`` subclass holding freshly compiled rules.

    ``compile(action)`` compiles the rules with the given action. Each class needs
    its own experta rule objects: they remember the engine that last used them.
    """
    compiled = compile(_on_fire)
    return type("TriageRuleEngine", (RuleEngine,), {**compiled.rules, "compiled": compiled})
