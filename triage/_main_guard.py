"""Noticing a script that would start worker processes without ``if __name__ == "__main__":``.

Worker processes are started with forkserver or spawn, never fork (forking a
process that runs threads can deadlock). Each worker then runs the main script
again, as ``__mp_main__``, to find what it defines. A script that calls
``triage.assess_many`` at its top level, outside an ``if __name__ == "__main__":``
block, would call it again in every worker while the worker is still starting:
multiprocessing refuses with a ``RuntimeError`` about "bootstrapping" and the
pool breaks with a ``BrokenPipeError``. :func:`unguarded_call` sees that case
before any process is started, so the caller can assess in its own process instead.
"""

from __future__ import annotations

import ast
import sys
import warnings
from functools import lru_cache


def processes_may_start() -> bool:
    """Whether worker processes can be started from here; if not, warn at the script's line and say why.

    The warning (a ``RuntimeWarning``) names the script and line, and says that
    the cases are being assessed in this process, and how to use the workers.
    """
    unguarded = unguarded_call()
    if unguarded is None:
        return True
    path, line = unguarded
    warnings.warn_explicit(
        f"triage: {path} calls assess_many at line {line}, outside an 'if __name__ == \"__main__\":' block. "
        "Each worker process would run the script again and fail while starting, so the cases are "
        "assessed in this process instead (the same results, one CPU). To use worker processes, put "
        "the script's top-level code under 'if __name__ == \"__main__\":'.",
        RuntimeWarning,
        filename=path,
        lineno=line,
    )
    return False


def unguarded_call() -> tuple[str, int] | None:
    """The main script and line from which this call came, if worker processes would run that line again.

    None when they would not: the call is inside an ``if __name__ == "__main__":``
    block, or comes from elsewhere than the script's top level, or there is no
    script that workers re-run (an interactive session, ``python -c``, a package's
    ``__main__.py``, which multiprocessing does not re-run).
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or path is None:
        return None
    spec_name = getattr(getattr(main, "__spec__", None), "name", None) or ""
    if spec_name == "__main__" or spec_name.endswith(".__main__"):
        return None
    frame = sys._getframe(1)
    while frame is not None and not (frame.f_globals is vars(main) and frame.f_code.co_name == "<module>"):
        frame = frame.f_back
    if frame is None:
        return None
    line = frame.f_lineno
    guarded = _guarded_lines(path)
    if guarded is None or any(first <= line <= last for first, last in guarded):
        return None
    return path, line


@lru_cache(maxsize=8)
def _guarded_lines(path: str) -> tuple[tuple[int, int], ...] | None:
    """The line ranges of the script's ``if __name__ == "__main__":`` blocks; None if it cannot be read."""
    try:
        with open(path, "rb") as handle:
            tree = ast.parse(handle.read(), filename=path)
    except (OSError, SyntaxError, ValueError):
        return None  # not knowable: assume guarded, as before
    return tuple(
        (node.body[0].lineno, node.body[-1].end_lineno or node.body[-1].lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and _is_main_test(node.test)
    )


def _is_main_test(test: ast.expr) -> bool:
    """``__name__ == "__main__"``, either way round."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    strings = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return len(names) == 1 and len(strings) == 1
