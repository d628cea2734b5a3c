"""The exceptions triage raises. Every one derives from :class:`TriageError`.

The tree, and the exit status the ``triage`` command gives for each (mapped once,
in :mod:`triage.cli.app`)::

    TriageError                 1  (any other error of triage's own)
    ├── KnowledgeBaseError      1  the rules, questions or catalogue are invalid
    ├── CaseError               1  a case (a set of answers) is invalid
    ├── AnswerError             1  a reply to a question is not an allowed answer
    ├── OutputError             3  an output file cannot be written
    └── WorkerError             4  a worker process died, or Dask is missing or failed
"""

from __future__ import annotations


class TriageError(Exception):
    """Base class of every error triage raises on purpose."""


class KnowledgeBaseError(TriageError):
    """A knowledge base (questions, catalogue or rule files) is invalid.

    ``problems`` lists each problem as one line naming the file, the rule and the field.
    """

    def __init__(self, problems: list[str]):
        from .text import MESSAGE_CHARS, printable, shorten

        # File names and values come from the knowledge base's files: capped and escaped for the terminal.
        self.problems = [printable(shorten(str(p), MESSAGE_CHARS)) for p in problems]
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the knowledge base"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


class CaseError(TriageError):
    """A case (a set of answers) is invalid.

    ``source`` is where it came from (file, and line or row when known), ``case_id``
    its id when it has one, and ``problems`` one line per invalid field.
    """

    MAX_PROBLEMS = 20  # a case with more is reported with the first ones and a count

    def __init__(self, problems: list[str], source: str | None = None, case_id: str | None = None):
        from .text import MESSAGE_CHARS, printable, shorten

        # Problems quote the input: capped and escaped, so no input can flood or rewrite a terminal.
        problems = list(problems)
        if len(problems) > self.MAX_PROBLEMS + 1:  # (+1: capping twice, as after a pickle, changes nothing)
            problems = problems[: self.MAX_PROBLEMS] + [f"... and {len(problems) - self.MAX_PROBLEMS:,} more problems"]
        shown = [printable(shorten(str(p), MESSAGE_CHARS)) for p in problems]
        self.problems = shown
        self.source = printable(shorten(source, 300)) if source is not None else None
        self.case_id = printable(shorten(case_id, 200)) if isinstance(case_id, str) else case_id
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = []
        if self.source:
            where.append(self.source)
        if self.case_id:
            where.append(f"case {self.case_id!r}")
        prefix = ": ".join(where)
        body = "; ".join(self.problems)
        return f"{prefix}: {body}" if prefix else body

    def __reduce__(self):
        # Pickle with the constructor's arguments (the default would pass the message),
        # so a CaseError can come back from a worker process.
        return (type(self), (self.problems, self.source, self.case_id))

    def located(self, source: str | None = None, case_id: str | None = None) -> "CaseError":
        """Return a copy that also names where the case came from."""
        return CaseError(self.problems, source or self.source, case_id or self.case_id)


class RepeatedKeyError(CaseError):
    """A mapping gives one key twice; ``key`` is that key.

    Kept apart from other invalid input because the text itself is well formed
    (the server answers 422 for it, 400 for text that is not JSON).
    """

    def __init__(self, problems: list[str], source: str | None = None, case_id: str | None = None, key: str = ""):
        super().__init__(problems, source, case_id)
        self.key = key

    def __reduce__(self):
        return (type(self), (self.problems, self.source, self.case_id, self.key))


class AnswerError(TriageError):
    """A reply that is not an allowed answer; the message says what is allowed."""


class OutputError(TriageError):
    """An output file cannot be written (a directory, read-only, no space, no permission).

    The message names the file. Nothing complete was written to it.
    """


class WorkerError(TriageError):
    """The machinery that assesses cases failed, not a case.

    A worker process stopped unexpectedly (killed, out of memory), Dask is not
    installed, or the Dask scheduler cannot be reached. Running again, with more
    memory or a reachable cluster, may succeed; the cases themselves may be fine.
    """


class SafetyPackOffWarning(UserWarning):
    """Issued when an :class:`~triage.Engine` is built on a knowledge base whose safety pack is
    not selected: its red flags are not checked, and an emergency can come out as self-care.
    Each assessment also says so in ``warnings``."""
