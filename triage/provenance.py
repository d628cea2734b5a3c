"""Provenance: one sha256 digest that names a knowledge base's exact content.

Every assessment carries it (``knowledge_base.sha256``), so a result can always be
traced to the rules, questions, catalogue and source documents that produced it,
and two knowledge bases with the same digest give the same results.

What is hashed, and why:

- every regular file under the knowledge-base directory, recursively: rules,
  questions, catalogue, source documents, notes. Files and directories whose name
  starts with ``.`` or ``__`` (editor swap files, ``__pycache__``) are left out.
  A symbolic link is followed, to a directory as to a file (a pack directory linked
  from elsewhere is read by the loader, so its files are hashed too), and named by
  its place in the knowledge base: a linked pack and a copied one have the same digest;
- one listing, :func:`scan_knowledge_base`, says what is hashed, and it is what the
  loader (:mod:`triage.knowledge.load`) takes its rule files from and what
  :class:`triage.workers.RuleData` copies to a worker, so no file that is read is
  outside the digest, and a worker's copy has the same digest. What the listing leaves
  out (hidden names, what is not a regular file, a link back to a directory that
  contains it) it says, so the loader can refuse what it would otherwise ignore;
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
import stat
from dataclasses import dataclass
from pathlib import Path

DIGEST_FORMAT = b"triage-knowledge-base-digest-v1\n"


@dataclass(frozen=True)
class Listing:
    """A knowledge base's files: what is hashed, and what was left out and why."""

    files: list[tuple[str, Path]]  # (relative POSIX path, path), in digest order
    left_out: list[tuple[str, str]]  # (relative POSIX path, why): hidden, not a regular file, a link loop


HIDDEN = "hidden"
NOT_REGULAR = "not a regular file"
LINK_LOOP = "a symbolic link to a directory that contains it"


def scan_knowledge_base(root: str | os.PathLike) -> Listing:
    """List a knowledge base's files (following symbolic links) and what is left out; see the module docstring."""
    base = Path(root)
    files: list[tuple[str, Path]] = []
    left_out: list[tuple[str, str]] = []

    def walk(directory: Path, prefix: str, ancestors: frozenset) -> None:
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            left_out.append((prefix.rstrip("/") or ".", NOT_REGULAR))
            return
        for entry in entries:
            relative = prefix + entry.name
            if entry.name.startswith((".", "__")):
                left_out.append((relative, HIDDEN))
                continue
            try:
                info = os.stat(entry.path)  # follows a symbolic link
            except OSError:  # a link to nothing, or unreadable
                left_out.append((relative, NOT_REGULAR))
                continue
            if stat.S_ISDIR(info.st_mode):
                key = (info.st_dev, info.st_ino)
                if key in ancestors:
                    left_out.append((relative, LINK_LOOP))
                else:
                    walk(Path(entry.path), relative + "/", ancestors | {key})
            elif stat.S_ISREG(info.st_mode):
                files.append((relative, Path(entry.path)))
            else:
                left_out.append((relative, NOT_REGULAR))

    try:
        top = os.stat(base)
        walk(base, "", frozenset({(top.st_dev, top.st_ino)}))
    except OSError:
        pass
    return Listing(sorted(files, key=lambda item: item[0].encode("utf-8")), left_out)


def knowledge_base_files(root: str | os.PathLike) -> list[tuple[str, Path]]:
    """The files that make up a knowledge base: (relative POSIX path, path), in digest order."""
    return scan_knowledge_base(root).files


def normalise_line_endings(content: bytes) -> bytes:
    """CRLF and lone CR as LF."""
    return content.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def knowledge_base_digest(root: str | os.PathLike) -> str:
    """The sha256 (hex) of a knowledge base directory's content; see the module docstring."""
    return files_digest(knowledge_base_files(root))


def files_digest(files: list[tuple[str, Path]]) -> str:
    """The sha256 (hex) of a listing's files (:func:`scan_knowledge_base`), in the order given."""
    digest = hashlib.sha256(DIGEST_FORMAT)
    for name, path in files:
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
