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
  writes to it; the tests on answers, the join nodes and the conflict-set nodes
  only read it. Those copies were a third of the cost of a case.
- The alpha tests call the compiled predicate directly (:class:`_AnswerTest`,
  inlined in its node's callback), compare a ``Derived`` fact's name
  (:class:`_LiteralTest`) and a fact's type (:class:`_TypeTest`) without
  experta's logging; experta's ``FeatureCheck`` gives the same result but on
  every call parses its field name as a nested path and logs the outcome. Their
  nodes pass a token on without looking for bindings they cannot return.
- The capture that ends each pattern (experta's ``FactCapture``: bind the fact to
  the pattern's name) builds its one new token directly (:func:`_capturing`).
- :meth:`RuleEngine._declare_answers` declares the case's ``Answers`` fact without
  the three walks over its items experta makes to check it (checks it cannot fail
  here).
- :meth:`RuleEngine.run` is experta's loop without the log line it formats for
  every firing whether or not anything logs it.
- :class:`_Strategy` computes an activation's agenda key directly (experta caches
  it in an ``lru_cache`` whose lookups cost more than the key), and fixes how
  experta removes an activation from the agenda (see there).

Measured with ``valgrind --tool=callgrind`` on knowledge base 0.2.0 (56 rules, 84
experta rules), the reset, changes, copy, answer-test, run and strategy changes
made one case about 4.5 times cheaper than a stock experta engine running the same
compiled rules (1.8 against 8.1 million instructions). On 0.3.0 (85 rules, 139 experta rules) the engine took 2.55 million
instructions per random case (``Engine.fire``) before the join, capture, type,
name and declare shortcuts and 1.62 million after; the compiler's choices (see
:mod:`triage.compiler`) come on top. ``tests/test_compiler.py`` checks that the
engine fires what a stock experta engine fires, evidence included;
``tests/test_rete_fast_paths.py`` that its conflict-set nodes and working memory
hold what experta's own matcher, reset and declare leave there.
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
    FeatureTesterNode,
    InitialFact,
    KnowledgeEngine,
    NoMemory,
    NotNode,
    OrdinaryMatchNode,
    ReteMatcher,
    TypeCheck,
)
from .compiler import Answers, Branch, CompiledRules, Derived
from .conclusions import Firing
from .rete_alpha import (
    _AnswerTest,
    _binds_nothing,
    _capturing,
    _fast_test,
    _LiteralTest,
    _testing,
    _TypeTest,
)


class _Matcher(ReteMatcher):
    """experta's Rete matcher, with the bookkeeping made cheaper.

    The network, its nodes and how tokens travel through them are experta's own;
    only the callbacks that link a node to its children are rewired, once, after
    experta has built the network:

    - each conflict-set node (one per rule branch) reports, besides activating as
      usual, that it has news; ``changes`` then asks only those nodes for their
      activations, and ``reset`` empties only them and the join nodes (experta
      asks and empties every node every time);
    - a node that only reads the token it receives (a conflict-set or join node,
      or an alpha node whose check binds nothing) receives it without the copy
      experta makes on entry to every node; a fact capture builds its new token
      (:func:`_capturing`); any other node that binds still copies before writing;
    - the alpha tests use the cheaper checks of :func:`_fast_test`, and pass a
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
