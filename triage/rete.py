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
- :class:`_Strategy` computes an activation's agenda key directly (experta caches
  it in an ``lru_cache`` whose lookups cost more than the key), and fixes how
  experta removes an activation from the agenda (see there).

Measured on the shipped knowledge base (about 50 rules), these and the compiler's
choices (see :mod:`triage.compiler`) make one case about three times cheaper.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from typing import Any, Callable

from ._experta import (
    Agenda,
    ChildNode,
    ConflictSetNode,
    DepthStrategy,
    FactList,
    InitialFact,
    KnowledgeEngine,
    NoMemory,
    ReteMatcher,
    TypeCheck,
)
from .compiler import Branch, CompiledRules, Derived
from .conclusions import Firing


class _Matcher(ReteMatcher):
    """experta's Rete matcher, with the bookkeeping between cases made cheaper.

    The network, its nodes and how tokens travel through them are experta's own.
    Each conflict-set node (one per rule branch) is wired to report, besides
    activating as usual, that it has news; ``changes`` then asks only those
    nodes for their activations, and ``reset`` empties only them and the join
    nodes. experta asks and empties every node every time.
    """

    def __init__(self, engine):
        super().__init__(engine)
        self._news: list = []  # conflict-set nodes with activations not yet asked for
        self._used: list = []  # conflict-set nodes that hold something since the last reset
        nodes = self._nodes()
        self._joins = [node for node in nodes if not isinstance(node, (NoMemory, ConflictSetNode))]
        for parent in nodes:
            parent.children[:] = [
                ChildNode(child.node, self._reporting(child.node, child.callback))
                if isinstance(child.node, ConflictSetNode) else child
                for child in parent.children
            ]
        initial = [n for n in nodes if isinstance(getattr(n, "matcher", None), TypeCheck) and n.matcher.fact_type is InitialFact]
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

    def _reporting(self, node, callback):
        news, used = self._news, self._used

        def activate(token):
            if not (node.added or node.removed):
                news.append(node)
            if not node.memory:
                used.append(node)
            callback(token)

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
        # KnowledgeEngine.declare() without its warning about an empty working
        # memory, which is empty here when no rule needs InitialFact.
        self._KnowledgeEngine__declare(self.compiled.answers_fact(answers))
        self.run()
        return list(self.firings.values())

    def collect(self, branch: Branch, answers) -> None:
        """Record that a branch of a rule fired; derive the rule's facts the first time."""
        rule = branch.rule
        firing = self.firings.get(rule.id)
        if firing is None:
            firing = self.firings[rule.id] = Firing(rule)
            for fact in rule.spec.then.derive:
                # What KnowledgeEngine.declare() does while the engine runs, less its
                # checks that a fact holds no patterns, which a Derived fact cannot.
                self.facts.declare(Derived(name=fact))
        firing.add({field: answers[field] for field in branch.fields} if branch.fields else {}, branch.facts)


def _on_fire(engine: RuleEngine, branch: Branch, answers) -> None:
    engine.collect(branch, answers)


def engine_class(compile: Callable[[Callable], CompiledRules]) -> type[RuleEngine]:
    """A new ``RuleEngine`` subclass holding freshly compiled rules.

    ``compile(action)`` compiles the rules with the given action. Each class needs
    its own experta rule objects: they remember the engine that last used them.
    """
    compiled = compile(_on_fire)
    return type("TriageRuleEngine", (RuleEngine,), {**compiled.rules, "compiled": compiled})
