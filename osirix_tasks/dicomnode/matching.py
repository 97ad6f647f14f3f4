"""DICOM attribute matching for C-FIND (PS3.4 C.2.2.2): universal, single value, wildcard (``*``,
``?``), UID list, and date/time ranges. Person names match case-insensitively, with ``^`` and
spaces alike (the index keeps names as OsiriX shows them)."""

from __future__ import annotations

import re
from typing import Any

from pydicom.multival import MultiValue

__all__ = ["matches", "is_universal"]

_RANGE_VRS = {"DA", "TM", "DT"}


def is_universal(value: Any) -> bool:
    """An empty value: every entity matches (and the attribute is returned)."""
    return value is None or str(value).strip() in ("", "*")


def _values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple | MultiValue):
        return [str(v).strip() for v in value]
    return [str(value).strip()]


def _name(text: str) -> str:
    return " ".join(text.replace("^", " ").split()).upper()


def _wildcard(pattern: str) -> re.Pattern[str]:
    """``*`` any run of characters, ``?`` one character; nothing else is special (unlike fnmatch)."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.DOTALL)


def _in_range(query: str, value: str) -> bool:
    low, _, high = query.partition("-")
    value = value.replace(":", "").replace("-", "")
    if low and value[: len(low.replace(":", ""))] < low.replace(":", ""):
        return False
    return not (high and value[: len(high.replace(":", ""))] > high.replace(":", ""))


def _one(query: str, value: str, vr: str) -> bool:
    if vr == "PN":
        query, value = _name(query), _name(value)
    if vr in _RANGE_VRS and "-" in query:
        return bool(value) and _in_range(query, value)
    if vr != "UI" and ("*" in query or "?" in query):
        return _wildcard(query).fullmatch(value) is not None
    return query == value


def matches(query: Any, value: Any, vr: str) -> bool:
    """Whether an entity's ``value`` matches the identifier's ``query`` for one attribute of ``vr``."""
    if is_universal(query) or vr == "SQ":
        return True
    candidates = _values(value)
    if vr == "UI":
        wanted = set(_values(query)) if not isinstance(query, str) else {q.strip() for q in query.split("\\")}
        return any(c in wanted for c in candidates)
    text = query if isinstance(query, str) else "\\".join(_values(query))
    alternatives = text.split("\\") if vr not in ("PN",) else [text]
    return any(_one(q.strip(), c, vr) for q in alternatives for c in candidates)
