"""Text that is safe to show: capped in length, control characters escaped.

Case ids, field names and file names come from the input. Printed raw, an ESC
could rewrite the terminal, U+202E could reverse what a line seems to say, and
a 10 MB field name would be echoed in full. Everything triage prints that came
from the input passes through :func:`printable` (or :func:`quoted`).
"""

from __future__ import annotations

MESSAGE_CHARS = 1000  # the most of one problem line that is ever shown


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how many were left out."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"... ({len(text) - limit:,} more characters)"


def printable(text: str) -> str:
    """``text`` with every non-printable character (controls, bidi overrides, surrogates) as an escape."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def quoted(value: object, limit: int = 80, quotes: bool = True) -> str:
    """A value quoted for a message (as ``repr`` quotes a string), at most ``limit`` characters of it."""
    text = value if isinstance(value, str) else str(value)
    short = text[:limit]
    shown = repr(short) if quotes else printable(short)
    return shown + (f"... ({len(text) - limit:,} more characters)" if len(text) > limit else "")


# Characters json.dumps(ensure_ascii=False) writes raw but a terminal acts on: C1 controls,
# bidi controls, line and paragraph separators. Escaping them keeps the JSON equal.
_JSON_UNSAFE = {code: f"\\u{code:04x}" for code in [*range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F, 0x2028, 0x2029,
                                                    *range(0x202A, 0x202F), *range(0x2066, 0x206A)]}


def safe_json(text: str) -> str:
    """JSON text with the characters a terminal would act on written as ``\\uXXXX`` escapes (the same JSON)."""
    return text if text.isascii() else text.translate(_JSON_UNSAFE)
