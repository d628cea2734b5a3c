"""Fail closed: a knowledge base is used only when it passes every check of ``triage rules check``.

Loading validates the schema and what rules refer to; ``rules check`` also proves
every quote is in its document and every rule's examples fire (or do not). A
knowledge base that fails any of it must never assess anyone, so every command
loads through :func:`load_checked_knowledge_base`.

The full check assesses every rule's examples, which would slow every start-up.
Its success is therefore remembered in a cache keyed by what decides the result:
the knowledge base's content digest (:mod:`triage.provenance`), the packs
selected, and the code that checks it (Python's version, and the size and modification
time of each of triage's own modules and of the libraries it matches and validates with,
so an upgrade or an edit checks again). Only success is
cached; a failing knowledge base is checked, and refused, every time. The cache
lives in ``$XDG_CACHE_HOME/triage/checked/`` (default ``~/.cache``); an entry is
written atomically (a temporary file renamed into place), and when the cache
cannot be read or written the check simply runs every time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from .errors import KnowledgeBaseError
from .knowledge import KnowledgeBase, load_knowledge_base

CACHE_FORMAT = "triage-check-cache-v1"


def load_checked_knowledge_base(path: str | os.PathLike | None = None, packs: list[str] | None = None) -> KnowledgeBase:
    """Load a knowledge base and refuse it unless it passes every check of ``triage rules check``.

    Raises :class:`KnowledgeBaseError` listing every problem, as ``rules check`` does.
    """
    kb = load_knowledge_base(path, packs)
    entry = cache_entry(kb)
    if entry is not None and _passed_before(entry, kb):
        return kb
    from .knowledge.verify import loaded_knowledge_base_problems  # the engine: only on a cache miss

    problems = loaded_knowledge_base_problems(kb)
    if problems:
        raise KnowledgeBaseError(problems)
    if entry is not None:
        _remember(entry, kb)
    return kb


def cache_dir() -> Path | None:
    """Where passed checks are remembered (XDG base directory spec); None without a home."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the spec says a relative path is to be ignored
        home = os.path.expanduser("~")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".cache")
    return Path(base) / "triage" / "checked"


def cache_entry(kb: KnowledgeBase) -> Path | None:
    """The cache file that would record that this knowledge base, with these packs, passed."""
    directory = cache_dir()
    if directory is None:
        return None
    key = hashlib.sha256("\n".join([CACHE_FORMAT, _code_signature(), kb.sha256, *kb.packs]).encode()).hexdigest()
    return directory / key


def _code_signature() -> str:
    """What the check's verdict depends on besides the knowledge base: Python, the libraries, triage's code.

    The names, sizes and modification times of triage's modules and of the libraries
    that match and validate (an upgrade or an edit changes them), and Python's version.
    """
    import pydantic
    import pydantic_core
    import yaml

    from . import _experta  # noqa: F401  (the one import of experta, its work-arounds first)

    experta = sys.modules["experta"]
    package = Path(__file__).resolve().parent
    files = [(module.relative_to(package).as_posix(), module) for module in sorted(package.rglob("*.py"))]
    files += [(library.__name__, Path(library.__file__)) for library in (experta, pydantic, pydantic_core, yaml)]
    parts = [sys.version]
    for name, path in files:
        with contextlib.suppress(OSError):
            info = path.stat()
            parts.append(f"{name}:{info.st_size}:{info.st_mtime_ns}")
    return "|".join(parts)


def _passed_before(entry: Path, kb: KnowledgeBase) -> bool:
    try:
        record = json.loads(entry.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and record.get("sha256") == kb.sha256 and record.get("packs") == list(kb.packs)


def _remember(entry: Path, kb: KnowledgeBase) -> None:
    """Record the pass atomically; a cache that cannot be written is not an error, only slower."""
    record = {"knowledge_base": kb.name, "version": kb.version, "sha256": kb.sha256, "packs": list(kb.packs),
              "path": str(kb.path), "checked_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    try:
        entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(record, out)
            os.replace(temporary, entry)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError:
        pass
