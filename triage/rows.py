"""Streams of records read line by line within the size limit: JSON lines and CSV rows.

Nothing here holds more than one line (or one CSV row) in memory, and a bad
line or row never stops the lines after it from being read. A stream whose first
line ends in a bare CR (old Mac OS, and some spreadsheet exports) has every CR read
as a line end, so its cases are not run together into one.
"""

from __future__ import annotations

import io
from typing import IO, Iterator

from .reading import max_input_bytes, too_big

MAX_ROW_LINES = 50  # physical lines one quoted CSV cell may span


def lines(handle: IO[bytes], limit: int | None = None) -> Iterator[tuple[int, bytes | str]]:
    """(line number, line) for every line of a binary stream; for a line over the limit, the problem as text.

    An over-long line is skipped to its end without being kept in memory; when
    no end comes within 16 times the limit (a device such as ``/dev/zero``), the
    stream is abandoned after that line, and its problem says so.
    """
    limit = limit or max_input_bytes()
    handle = _line_ends_read(handle, limit)
    number = 0
    while True:
        line = handle.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) <= limit or line.endswith(b"\n"):
            yield number, line
            continue
        for _ in range(16):
            rest = handle.readline(limit)
            if not rest or rest.endswith(b"\n"):
                yield number, f"the line is {too_big(limit)}"
                break
        else:
            yield number, (f"the line is {too_big(limit)}, and has no end within {17 * limit:,} bytes "
                           "(a device?): the rest of the input was not read")
            return


def csv_rows(handle: IO[bytes], limit: int | None = None) -> Iterator[tuple[int, list[str] | str]]:
    """(line number, cells) for each CSV row, or (line number, error text) for a row that cannot be read.

    Rows are cut at line ends outside quotes, so one bad row (bytes that are not
    UTF-8, an unclosed quote, a row over the limit) is reported and the next line
    is read as the next row: nothing after it is lost. A quoted cell may span at
    most :data:`MAX_ROW_LINES` lines.
    """
    import csv

    limit = limit or max_input_bytes()
    csv.field_size_limit(max(limit, csv.field_size_limit()))
    pending: list[tuple[int, bytes | str]] = []
    source = iter(lines(handle, limit))
    width: int | None = None  # the header's cells, once read
    while True:
        if not pending:
            item = next(source, None)
            if item is None:
                return
            pending.append(item)
        start, first = pending[0]
        if isinstance(first, str):
            pending.pop(0)
            yield start, first.replace("the line is", "the row is", 1)
            continue
        # Gather lines while a quote is open (an odd count of quote characters).
        count, size, end = first.count(b'"'), len(first), 1
        while count % 2 and end < MAX_ROW_LINES and size <= limit:
            if end >= len(pending):
                item = next(source, None)
                if item is None:
                    break
                pending.append(item)
            line = pending[end][1]
            if isinstance(line, str):
                break
            count += line.count(b'"')
            size += len(line)
            end += 1
        problem, cells = _csv_row(b"".join(line for _, line in pending[:end]), start == 1)
        if count % 2 or (end > 1 and (problem is not None or (width is not None and len(cells) != width))):
            problem = "not valid CSV: a quoted cell is not closed on this row"
        if problem is not None:
            # Report the row where it starts and read the next line as the next row, so
            # an unclosed quote cannot swallow the rows after it.
            del pending[:1]
            yield start, problem
            continue
        del pending[:end]
        if width is None and cells:
            width = len(cells)
        yield start, cells


def _csv_row(raw: bytes, first: bool) -> tuple[str | None, list[str]]:
    """(problem, cells) of the bytes of one CSV row."""
    import csv

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"not UTF-8 text (byte 0x{raw[error.start]:02x})", []
    if first:
        text = text.removeprefix("\ufeff")
    if not text.strip("\r\n"):
        return None, []
    try:
        rows = list(csv.reader([text], strict=True))
    except csv.Error as error:
        return f"not valid CSV: {error}", []
    return None, rows[0] if rows else []


def _line_ends_read(handle: IO[bytes], limit: int) -> IO[bytes]:
    """``handle``, read on from where it was; a bare CR read as LF when the first line ends in one.

    Only the bytes up to the first line end are read ahead (``read1``: a pipe that
    sends one case at a time is not waited on for more), and at most the size limit.
    """
    read = getattr(handle, "read1", handle.read)
    head = bytearray()
    while len(head) <= limit:
        start = max(len(head) - 1, 0)  # a CR last time may be followed by LF now
        chunk = read(65536)
        if not chunk:
            break
        head += chunk
        cr, lf = head.find(b"\r", start), head.find(b"\n", start)
        if lf >= 0 and (cr < 0 or lf < cr):
            break  # the first line ends in LF (or CRLF)
        if 0 <= cr < len(head) - 1:
            break  # the first line ends in CR, and what follows it is known
    cr, lf = head.find(b"\r"), head.find(b"\n")
    bare_cr = cr >= 0 and (lf < 0 or cr < lf) and head[cr + 1:cr + 2] != b"\n"
    return io.BufferedReader(_Prefixed(bytes(head), handle, bare_cr), buffer_size=65536)


class _Prefixed(io.RawIOBase):
    """``head``, then the rest of ``handle``; with ``bare_cr``, every CR as LF (a CR-only file has no CRLF)."""

    def __init__(self, head: bytes, handle: IO[bytes], bare_cr: bool):
        self._head, self._handle, self._bare_cr = head, handle, bare_cr
        self._read = getattr(handle, "read1", handle.read)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            data, self._head = self._head[:len(buffer)], self._head[len(buffer):]
        else:
            data = self._read(len(buffer))
        if self._bare_cr:
            data = data.replace(b"\r", b"\n")
        buffer[:len(data)] = data
        return len(data)
