"""Reading and writing case files: JSON or YAML, from a path or standard input.

Files are read by :mod:`triage.reading` (strict: repeated keys, aliases, huge
numbers and deep nesting refused; see there). Problems become :class:`CaseError`
naming the file, line and field, so the command line can show them without a
traceback. Writing is atomic, and a failed write is an :class:`OutputError`.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import IO, Any, Iterator

import yaml

from .errors import CaseError, OutputError
from .reading import display_name, parse_document, read_document

# Parsing lives in triage.reading, behind every file triage reads; these names stay for callers.
parse_text = parse_document


# Files that hold many cases: what each holds, for the message pointing to `triage batch`.
MANY_CASE_SUFFIXES = {".csv": "a CSV file holds many cases (a row each)",
                      ".jsonl": "a JSONL file holds many cases (a line each)"}


def read_single_case(path: str) -> tuple[dict, str]:
    """Read a file that holds exactly one case (a mapping); return (case, source name).

    CSV and JSONL files hold many cases (a row or a line each): they are refused,
    before they are read, pointing to ``triage batch``.
    """
    many = MANY_CASE_SUFFIXES.get(os.path.splitext(str(path))[1].lower())
    if many is not None and str(path) != "-":
        raise CaseError([f"{many}: assess them with 'triage batch', which reads it"], display_name(path))
    data, source = read_document(path)
    if isinstance(data, list):
        if len(data) == 1:
            data = data[0]
        else:
            raise CaseError([f"holds {len(data)} cases; assess one at a time or use 'triage batch'"], source)
    if data is None:
        raise CaseError(["the file is empty"], source)
    if not isinstance(data, dict):
        raise CaseError([f"a case must be a mapping of field names to answers, not {type(data).__name__}"], source)
    return data, source


def write_case(path: str | os.PathLike, case: dict[str, Any]) -> None:
    """Write one case atomically: YAML for ``.yaml``/``.yml``, else JSON; ``None`` is written as null (unknown).

    The file is written under a temporary name in the same directory and renamed into
    place, so it is either complete or not there at all.
    """
    target = Path(path)
    if target.suffix.lower() in (".yaml", ".yml"):
        text = yaml.safe_dump(case, sort_keys=False, allow_unicode=True)
    else:
        text = json.dumps(case, indent=2, ensure_ascii=False) + "\n"
    with atomic_output(target) as handle:
        handle.write(text)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[IO[str]]:
    """A text file written under a temporary name beside ``path``, renamed to it at the end.

    If anything goes wrong (or the run is interrupted) the temporary file is
    removed, so a file at ``path`` is always complete. A symbolic link is written
    through (the file it names is replaced); a device or a pipe (``/dev/null``, a
    FIFO) cannot be replaced, so it is written to directly; a read-only file or a
    directory is refused. A write that fails (a full disk) is an
    :class:`OutputError` naming the file. The temporary name holds the writer's
    process id, so temporary files left by a process that was killed (``kill -9``)
    are recognised and removed by the next run writing the same file.
    """
    if str(path) == "":
        raise OutputError("the output file name is empty")
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        if target.is_dir():
            raise OutputError(f"{path}: cannot write the output file: it is a directory")
        try:
            handle = open(target, "w", encoding="utf-8", newline="")
        except OSError as error:
            raise OutputError(f"{path}: cannot write the output file: {error.strerror}") from None
        with _closing(handle, path) as guarded:
            yield guarded
        return
    if target.exists() and not target.stat().st_mode & 0o222:
        raise OutputError(f"{path}: cannot write the output file: it is read-only")
    remove_stale_partials(target)
    try:
        # mkstemp's mode 0600 is kept on purpose: the records are health data.
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=PARTIAL, dir=target.parent)
    except OSError as error:
        raise OutputError(f"{path}: cannot write the output file: {error.strerror}") from None
    try:
        with _closing(os.fdopen(fd, "w", encoding="utf-8", newline=""), path, sync=True) as guarded:
            yield guarded
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


PARTIAL = ".partial"


def remove_stale_partials(target: Path) -> list[Path]:
    """Remove the temporary files of ``target`` left by writers that no longer run; return them.

    Only files named as :func:`atomic_output` names them, owned by this user,
    whose process id is not a running process, are removed.
    """
    removed = []
    prefix = f".{target.name}."
    try:
        candidates = [entry for entry in os.scandir(target.parent)
                      if entry.name.startswith(prefix) and entry.name.endswith(PARTIAL)]
    except OSError:
        return removed
    for entry in candidates:
        pid_text = entry.name[len(prefix):].split(".", 1)[0]
        if not pid_text.isdigit() or _running(int(pid_text)):
            continue
        with contextlib.suppress(OSError):
            if entry.stat(follow_symlinks=False).st_uid == os.getuid() and entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


class GuardedWriter:
    """A text stream whose write errors (a full disk, a closed pipe's EIO) become :class:`OutputError`."""

    def __init__(self, handle: IO[str], name: str):
        self._handle = handle
        self._name = name

    def _failed(self, error: OSError) -> OutputError:
        return OutputError(f"{self._name}: cannot write the output file: {error.strerror or error}")

    def write(self, text: str) -> int:
        try:
            return self._handle.write(text)
        except BrokenPipeError:
            raise
        except OSError as error:
            raise self._failed(error) from None

    def flush(self) -> None:
        try:
            self._handle.flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            raise self._failed(error) from None

    def fileno(self) -> int:
        return self._handle.fileno()

    def isatty(self) -> bool:
        return self._handle.isatty()


@contextlib.contextmanager
def _closing(handle: IO[str], name, sync: bool = False) -> Iterator[GuardedWriter]:
    guarded = GuardedWriter(handle, str(name))
    try:
        yield guarded
        guarded.flush()
        if sync:
            try:
                os.fsync(handle.fileno())
            except OSError as error:
                raise guarded._failed(error) from None
    except BaseException:
        with contextlib.suppress(OSError):  # closing flushes again, and fails again: nothing to add
            handle.close()
        raise
    try:
        handle.close()
    except OSError as error:
        raise guarded._failed(error) from None
