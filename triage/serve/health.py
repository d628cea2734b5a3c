"""What ``GET /healthz`` reports: the knowledge base in use and a digest of its files."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..knowledge import KnowledgeBase


def knowledge_base_digest(kb: KnowledgeBase) -> str:
    """``sha256:<hex>`` over the knowledge base's files (relative path and content, sorted).

    Two servers with the same digest run the same rules, questions and texts. When
    the knowledge base carries its own digest (``kb.sha256``, the one every assessment
    names), that one is reported, so /healthz and the assessments agree.
    """
    own = getattr(kb, "sha256", None)
    if isinstance(own, str) and own:
        return own if ":" in own else f"sha256:{own}"
    root = Path(kb.path)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not _hidden(p, root)):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return f"sha256:{digest.hexdigest()}"


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(root).parts)
