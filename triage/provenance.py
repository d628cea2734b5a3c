"""Provenance: one sha256 digest that names a knowledge base's exact content.

Every assessment carries it (``knowledge_base.sha256``), so a result can always be
traced to the rules, questions, catalogue and source documents that produced it,
and two knowledge bases with the same digest give the same results.

What is hashed, and why:

- every regular file under the knowledge-base directory, recursively: rules,
  questions, catalogue, source documents, notes. Files and directories whose name
  starts with ``.`` or ``__`` (editor swap files, ``__pycache__``) are left out, as
  :class:`triage.parallel.RuleData` leaves them out when it copies a knowledge base
  to a worker, so a worker's copy has the same digest;
- in a stable order: by relative path (``/``-separated), compared as UTF-8 bytes,
  never in the order the file system lists them;
- with line endings normalised: CRLF and lone CR become LF before hashing, so a
  checkout on Windows (git's ``autocrlf``) names the same knowledge base as one on
  Linux. Line endings change nothing a YAML reader or the quote check sees; any
  other byte does change the digest;
- each file framed as ``path NUL length NUL content``, after a version tag, so no
  two different sets of files can run together into the same byte stream.

The digest is of the files, not of the packs selected: ``knowledge_base.packs``
says which packs ran.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

DIGEST_FORMAT = b"triage-knowledge-base-digest-v1\n"


def knowledge_base_files(root: str | os.PathLike) -> list[tuple[str, Path]]:
    """The files that make up a knowledge base: (relative POSIX path, path), in digest order."""
    base = Path(root)
    found = []
    for path in base.rglob("*"):
        relative = path.relative_to(base)
        if any(part.startswith((".", "__")) for part in relative.parts) or not path.is_file():
            continue
        found.append((relative.as_posix(), path))
    return sorted(found, key=lambda item: item[0].encode("utf-8"))


def normalise_line_endings(content: bytes) -> bytes:
    """CRLF and lone CR as LF."""
    return content.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def knowledge_base_digest(root: str | os.PathLike) -> str:
    """The sha256 (hex) of a knowledge base directory's content; see the module docstring."""
    digest = hashlib.sha256(DIGEST_FORMAT)
    for name, path in knowledge_base_files(root):
        content = normalise_line_endings(path.read_bytes())
        digest.update(name.encode("utf-8") + b"\0" + str(len(content)).encode() + b"\0")
        digest.update(content)
    return digest.hexdigest()


def describe_knowledge_base(path: str | os.PathLike | None = None) -> str:
    """Two lines for ``triage --version``: the knowledge base's name, version and place, and its digest.

    Reads only ``kb.yaml`` and hashes the files, so it works (and says what it is)
    even for a knowledge base that would be refused.
    """
    import yaml

    from .errors import KnowledgeBaseError
    from .knowledge import default_path, read_yaml

    root = Path(path) if path is not None else default_path()
    try:
        manifest = read_yaml(root / "kb.yaml")
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise KnowledgeBaseError([f"{root / 'kb.yaml'}: cannot be read: {error}".replace("\n", " ")]) from None
    if not isinstance(manifest, dict):
        raise KnowledgeBaseError([f"{root / 'kb.yaml'}: not a knowledge-base manifest"])
    return (f"knowledge base {manifest.get('name', '?')} {manifest.get('version', '?')} ({root})\n"
            f"sha256 {knowledge_base_digest(root)}")
