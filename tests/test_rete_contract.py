"""The contract between triage/rete.py and the experta internals it is built on.

triage/rete.py tunes experta 1.9.4 through names from its internal modules,
private members, and methods it overrides (see its docstring for why). The
``experta==1.9.4`` pin and the tuned-against-stock tests (tests/test_compiler.py)
contain that risk; this file names each dependency, so that an experta that
changes any of them fails ``test_experta_still_provides_what_rete_relies_on``
with one line per broken expectation, and a rete.py that starts relying on
something new fails ``test_the_contract_lists_everything_rete_uses`` until it is
added here.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from importlib.metadata import version
from pathlib import Path

from triage import _experta, rete

RETE = Path(rete.__file__)
RETE_ALPHA = RETE.with_name("rete_alpha.py")  # the alpha-network half of the tuned matcher
EXPERTA_SHIM = Path(_experta.__file__)

EXPERTA_VERSION = "1.9.4"

# The internal modules triage._experta imports for triage.rete, and the names from each.
INTERNAL_NAMES = {
    "experta.agenda": {"Agenda"},
    "experta.fact": {"InitialFact"},
    "experta.factlist": {"FactList"},
    "experta.matchers.rete": {"ReteMatcher"},
    "experta.matchers.rete.check": {"FactCapture", "FeatureCheck", "TypeCheck"},
    "experta.matchers.rete.mixins": {"ChildNode", "NoMemory"},
    "experta.matchers.rete.nodes": {"ConflictSetNode", "FeatureTesterNode", "NotNode", "OrdinaryMatchNode"},
    "experta.matchers.rete.token": {"Token"},
    "experta.strategies": {"DepthStrategy"},
}

# Private (and dunder) members of experta objects that rete.py reads or calls:
# where each must be, and what rete.py does with it.
PRIVATE_MEMBERS = {
    "_activate": [("experta.matchers.rete.nodes", "FeatureTesterNode"), ("experta.matchers.rete.nodes", "ConflictSetNode")],
    "_reset": [("experta.matchers.rete.nodes", "ConflictSetNode"), ("experta.matchers.rete.nodes", "OrdinaryMatchNode"),
               ("experta.matchers.rete.nodes", "NotNode")],
    "_KnowledgeEngine__declare": [("experta.engine", "KnowledgeEngine")],
    # join nodes are given their token without experta's copy (they only read it)
    "_activate_left": [("experta.matchers.rete.nodes", "OrdinaryMatchNode"), ("experta.matchers.rete.nodes", "NotNode")],
    "_activate_right": [("experta.matchers.rete.nodes", "OrdinaryMatchNode"), ("experta.matchers.rete.nodes", "NotNode")],
    # the fact number experta's agenda key sorts by, set by the cheaper declare
    "__factid__": [("experta.fact", "Fact")],
    "__bind__": [("experta.fieldconstraint", "P(callable)"), ("experta.fieldconstraint", "L(value)")],
}
# Members set on instances rather than classes: the instance to look for them on.
INSTANCES = {"P(callable)": lambda: _experta.P(bool), "L(value)": lambda: _experta.L(1)}

# The experta methods rete.py overrides, and the signature each has in experta
# (experta calls them this way; the overrides accept the same calls).
OVERRIDDEN = {
    ("experta.matchers.rete", "ReteMatcher", "__init__"): "(self, *args, **kwargs)",
    ("experta.matchers.rete", "ReteMatcher", "reset"): "(self)",
    ("experta.matchers.rete", "ReteMatcher", "changes"): "(self, adding=None, deleting=None)",
    ("experta.strategies", "DepthStrategy", "get_key"): "(self, activation)",
    ("experta.strategies", "DepthStrategy", "_update_agenda"): "(self, agenda, added, removed)",
    ("experta.engine", "KnowledgeEngine", "reset"): "(self, **kwargs)",
    ("experta.engine", "KnowledgeEngine", "run"): "(self, steps=inf)",
}
# The class attributes rete.py sets to plug its matcher and strategy in.
EXTENSION_POINTS = {"__matcher__", "__strategy__"}

# Other experta methods rete.py calls, with their signatures.
CALLED = {
    ("experta.matchers.rete.nodes", "ConflictSetNode", "get_activations"): "(self)",
    ("experta.matchers.rete.nodes", "BusNode", "add"): "(self, fact)",
    ("experta.matchers.rete.nodes", "BusNode", "remove"): "(self, fact)",
    ("experta.factlist", "FactList", "declare"): "(self, fact)",
    ("experta.agenda", "Agenda", "get_next"): "(self)",
    ("experta.abstract", "Strategy", "update_agenda"): "(self, agenda, added, removed)",
    ("experta.engine", "KnowledgeEngine", "get_activations"): "(self)",
}


def _get(module: str, name: str):
    return getattr(importlib.import_module(module), name)


def _broken_expectations() -> list[str]:
    problems: list[str] = []

    def expect(ok: bool, what: str) -> None:
        if not ok:
            problems.append(what)

    expect(version("experta") == EXPERTA_VERSION, f"experta is {version('experta')}, not {EXPERTA_VERSION}")

    for module, names in INTERNAL_NAMES.items():
        try:
            imported = importlib.import_module(module)
        except ImportError as error:
            problems.append(f"module {module} cannot be imported: {error}")
            continue
        for name in sorted(names):
            expect(hasattr(imported, name), f"{module}.{name} is gone")
            expect(getattr(_experta, name, None) is getattr(imported, name, object()),
                   f"triage._experta.{name} is not {module}.{name}")

    for member, owners in PRIVATE_MEMBERS.items():
        for module, cls in owners:
            owner = INSTANCES[cls]() if cls in INSTANCES else _get(module, cls)
            found = getattr(owner, member, None)
            expect(hasattr(owner, member) and not getattr(found, "__isabstractmethod__", False),
                   f"{module}.{cls}.{member} is gone (or only abstract)")

    for table in (OVERRIDDEN, CALLED):
        for (module, cls, method), expected in table.items():
            function = getattr(_get(module, cls), method, None)
            if function is None:
                problems.append(f"{module}.{cls}.{method} is gone")
                continue
            actual = str(inspect.signature(function))
            expect(actual == expected, f"{module}.{cls}.{method}{actual}: rete.py expects {method}{expected}")

    # The shapes of the objects rete.py reads and builds.
    ChildNode, FeatureCheck, TypeCheck = _experta.ChildNode, _experta.FeatureCheck, _experta.TypeCheck
    expect(ChildNode._fields == ("node", "callback"), f"ChildNode's fields are {ChildNode._fields}, not (node, callback)")
    expect(FeatureCheck._fields[:2] == ("what", "how"), f"FeatureCheck's fields are {FeatureCheck._fields}")
    expect(TypeCheck._fields == ("fact_type",), f"TypeCheck's fields are {TypeCheck._fields}")
    expect(isinstance(inspect.getattr_static(_experta.P, "match", None), property), "P.match is no longer a property")
    expect(isinstance(_experta.Agenda().activations, list), "Agenda().activations is not a list")
    node = _experta.ConflictSetNode(_experta.Rule())
    for attribute in ("added", "removed", "memory", "children"):
        expect(hasattr(node, attribute), f"ConflictSetNode has no {attribute!r} after construction")
    activation = importlib.import_module("experta.activation").Activation(_experta.Rule(), [])
    for attribute in ("rule", "facts", "key"):
        expect(hasattr(activation, attribute), f"Activation has no {attribute!r}")

    problems.extend(_broken_behaviour())
    return problems


def _broken_behaviour() -> list[str]:
    """What rete.py assumes experta does, tried on small pieces of experta itself."""
    problems: list[str] = []
    for check in (_engine_plugs_in_matcher_and_strategy, _one_input_nodes_copy_then_activate,
                  _agenda_runs_the_rightmost_activation, _agenda_key_is_salience_then_newest_facts):
        try:
            problem = check()
        except Exception as error:  # an experta that changed may fail anywhere: report it, with the rest
            problem = f"{check.__name__}: {type(error).__name__}: {error}"
        if problem:
            problems.append(problem)
    return problems


def _engine_plugs_in_matcher_and_strategy() -> str | None:
    made: list = []

    class Matcher(_experta.ReteMatcher):
        def __init__(self, engine):
            made.append(("matcher", engine))
            super().__init__(engine)

        def changes(self, adding=None, deleting=None):
            made.append(("changes", list(adding or ()), list(deleting or ())))
            return super().changes(adding, deleting)

    class Strategy(_experta.DepthStrategy):
        def _update_agenda(self, agenda, added, removed):
            made.append(("update", agenda))
            return super()._update_agenda(agenda, added, removed)

    class Engine(_experta.KnowledgeEngine):
        __matcher__ = Matcher
        __strategy__ = Strategy

    engine = Engine()
    if made[:1] != [("matcher", engine)] or not isinstance(engine.strategy, Strategy):
        return "KnowledgeEngine() no longer builds __matcher__(engine) and __strategy__()"
    # declare() goes through the private __declare, which asks the matcher for the changes
    # and hands them to the strategy's _update_agenda (through update_agenda).
    engine.reset()
    made.clear()
    declared = engine._KnowledgeEngine__declare(_experta.Fact(a=1))
    if declared is None or not any(m[0] == "changes" and declared in m[1] for m in made):
        return "KnowledgeEngine.__declare no longer passes the declared fact to matcher.changes(adding)"
    if ("update", engine.agenda) not in made:
        return "KnowledgeEngine.__declare no longer updates the agenda through Strategy._update_agenda"
    return None


def _one_input_nodes_copy_then_activate() -> str | None:
    # OneInputNode.activate is "copy the token, then _activate the copy": rete.py skips the copy.
    received: list = []
    node = _experta.FeatureTesterNode(lambda fact: True)
    node.add_child(_experta.ConflictSetNode(_experta.Rule()), received.append)
    token = importlib.import_module("experta.matchers.rete.token").Token.valid(_experta.Fact(a=1))
    node.activate(token)
    node._activate(token)
    if len(received) != 2 or received[0] is token or received[1] is not token:
        return "FeatureTesterNode.activate is no longer 'copy the token, then _activate it'"
    return None


def _agenda_runs_the_rightmost_activation() -> str | None:
    # rete.py's strategy keeps the agenda sorted so that the next to run is the last.
    agenda = _experta.Agenda()
    agenda.activations.extend(["first", "last"])
    if agenda.get_next() != "last":
        return "Agenda.get_next no longer takes the rightmost activation"
    return None


def _agenda_key_is_salience_then_newest_facts() -> str | None:
    # rete.py computes experta's agenda key itself, without experta's cache.
    Activation = importlib.import_module("experta.activation").Activation
    facts = [_experta.Fact(a=i) for i in range(3)]
    for index, fact in enumerate(facts):
        fact["__factid__"] = index
    activation = Activation(_experta.Rule(salience=3), facts)
    if rete._Strategy().get_key(activation) != _experta.DepthStrategy().get_key(activation):
        return "DepthStrategy.get_key no longer computes (salience, fact ids newest first)"
    return None


def test_experta_still_provides_what_rete_relies_on():
    problems = _broken_expectations()
    assert not problems, (
        "experta changed under triage/rete.py (tuned against experta " + EXPERTA_VERSION + "); "
        "revisit rete.py for each:\n  - " + "\n  - ".join(problems)
    )


def test_the_contract_lists_everything_rete_uses():
    shim = ast.parse(EXPERTA_SHIM.read_text())
    internal = {}
    for node in ast.walk(shim):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("experta."):
            internal.setdefault(node.module, set()).update(alias.name for alias in node.names)
    assert internal == INTERNAL_NAMES, "triage/_experta.py imports other experta internals: list them above"

    tree = ast.Module(body=[*ast.parse(RETE.read_text()).body, *ast.parse(RETE_ALPHA.read_text()).body], type_ignores=[])
    own = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    own |= {t.attr for n in ast.walk(tree) if isinstance(n, (ast.Assign, ast.AnnAssign))
            for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
            if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"}
    python_own = ("tuple", "object", "super")  # tuple.__new__ and the like are Python's, not experta's
    private = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr.startswith("_")
               and not (isinstance(n.value, ast.Name) and n.value.id in python_own)} - own
    assert private == set(PRIVATE_MEMBERS), "rete.py uses other private members of experta: list them above"

    overridden = set()
    for cls in (rete._Matcher, rete._Strategy, rete.RuleEngine):
        experta_bases = cls.__mro__[1:]
        for name, value in vars(cls).items():
            defined_by = next((c for c in experta_bases if name in vars(c)), None)
            if callable(value) and name not in EXTENSION_POINTS and defined_by not in (None, object):
                overridden.add((defined_by.__module__, defined_by.__name__, name))
    assert overridden == set(OVERRIDDEN), "rete.py overrides other experta methods: list them above"
    assert EXTENSION_POINTS <= set(vars(rete.RuleEngine))
