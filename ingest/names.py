"""Names and titles safe to print: no control character from a file name or a file reaches a terminal.

A file name may hold any byte but "/" and NUL, and a file's text any character: an escape
sequence in either could recolour, move or erase what a terminal shows, and a bidi override
could reorder it. `printable` escapes those characters visibly instead of dropping them, so
two names that differ only in them still differ.
"""
from __future__ import annotations

import unicodedata

# Cc: C0/C1 controls and DEL; Cf: format characters such as bidi overrides and zero-width
# joiners; Cs: lone surrogates (undecodable bytes of a file name); Zl/Zp: line and paragraph separators.
_UNPRINTABLE = {"Cc", "Cf", "Cs", "Zl", "Zp"}
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def printable(name: str) -> str:
    """`printable("a\\x1b[2Jb\\n") == "a\\\\x1b[2Jb\\\\n"`: control and format characters escaped."""
    if name.isprintable():  # the common case, and fast
        return name
    return "".join(_escape(ch) if unicodedata.category(ch) in _UNPRINTABLE else ch for ch in name)


def is_encodable(name: str) -> bool:
    """False for a name holding undecodable bytes (lone surrogates), which no store or terminal can take."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _escape(ch: str) -> str:
    """`_escape("\\x00") == "\\\\x00"`, `_escape("\\u202e") == "\\\\u202e"`."""
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
