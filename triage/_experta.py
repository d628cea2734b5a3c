"""The one place that imports experta.

experta 1.9.4 (its only release) cannot be imported as-is on Python 3.10+ and
changes its host's logging on import. Everything else in triage imports the
engine pieces from here, so both work-arounds live in one small place.
"""

import collections
import collections.abc
import logging

# experta pins frozendict==1.2, which still uses ``collections.Mapping``
# (moved to ``collections.abc`` and removed from ``collections`` in 3.10).
if not hasattr(collections, "Mapping"):
    collections.Mapping = collections.abc.Mapping  # type: ignore[attr-defined]

# ``import experta`` calls ``logging.basicConfig()``, which adds a stderr handler
# to the root logger. A library must not change its host's logging, so remove
# exactly the handlers the import added (and restore the root level).
_root = logging.getLogger()
_handlers_before = list(_root.handlers)
_level_before = _root.level
try:
    from experta import (  # noqa: E402
        AND,
        AS,
        MATCH,
        NOT,
        OR,
        Fact,
        KnowledgeEngine,
        L,
        P,
        Rule,
        W,
    )

    # The internals triage.rete builds its tuned engine on (see there for why).
    from experta.agenda import Agenda  # noqa: E402
    from experta.fact import InitialFact  # noqa: E402
    from experta.factlist import FactList  # noqa: E402
    from experta.matchers.rete import ReteMatcher  # noqa: E402
    from experta.matchers.rete.check import FactCapture, FeatureCheck, TypeCheck  # noqa: E402
    from experta.matchers.rete.mixins import ChildNode, NoMemory  # noqa: E402
    from experta.matchers.rete.nodes import ConflictSetNode, FeatureTesterNode, NotNode, OrdinaryMatchNode  # noqa: E402
    from experta.matchers.rete.token import Token  # noqa: E402
    from experta.strategies import DepthStrategy  # noqa: E402
finally:
    for _handler in list(_root.handlers):
        if _handler not in _handlers_before:
            _root.removeHandler(_handler)
    _root.setLevel(_level_before)

__all__ = [
    "AND", "AS", "MATCH", "NOT", "OR", "Fact", "KnowledgeEngine", "L", "P", "Rule", "W",
    "Agenda", "ChildNode", "ConflictSetNode", "DepthStrategy", "FactList", "FeatureCheck",
    "FeatureTesterNode", "InitialFact", "NoMemory", "ReteMatcher", "TypeCheck",
    "FactCapture", "NotNode", "OrdinaryMatchNode", "Token",
]
