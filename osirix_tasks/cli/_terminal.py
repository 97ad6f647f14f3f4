"""Task output made safe for the user's terminal.

A task's output is text of unknown origin (a DICOM header, a file name, a remote answer). Shown as
is, its escape sequences act on the terminal: OSC sets the window title or plants hyperlinks whose
text lies about their target, other sequences move the cursor, clear the screen, redefine keys or
switch on mouse reporting. By default every control sequence and control character is removed,
except:

- SGR sequences (``ESC [ ... m``: colours, bold), which only change how text looks, so coloured
  output of tools such as pytest or rich keeps its colours;
- newline, carriage return (progress bars) and tab.

``--raw`` (``run``, ``console``) shows the output exactly as the task wrote it. A sequence split
between two pieces of output is held back until it is complete (at most :data:`HOLD_CHARS`).
"""

from __future__ import annotations

import re

__all__ = ["TerminalFilter", "HOLD_CHARS"]

#: An incomplete sequence longer than this is dropped instead of waiting for its end.
HOLD_CHARS = 4096

_SEQUENCE = re.compile(
    r"\x1b(?:"  # an escape sequence (ESC alone, when nothing valid follows):
    r"\[[0-?]*[ -/]*[@-~]"  # CSI: cursor, screen, modes ... and SGR
    r"|[\]PX^_].*?(?:\x07|\x1b\\|\x9c)"  # OSC, DCS, SOS, PM, APC strings, up to BEL or ST
    r"|[ -/]*[0-~]"  # any other
    r")?"
    r"|[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f-\x9f]",  # other controls (C0 but \t \n \r, DEL, C1)
    re.DOTALL,
)
_SGR = re.compile(r"\x1b\[[0-9;:]*m")
#: The start of a sequence that the next piece of output may complete.
_INCOMPLETE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*|[\]PX^_](?:(?!\x07|\x1b\\|\x9c).)*|[ -/]*)?\Z", re.DOTALL)


#: Control bytes of UTF-8 text: C0 but tab, newline and carriage return, and DEL (never inside a
#: multi-byte character); C1 controls are ``\xc2\x80``-``\xc2\x9f``.
_C0_BYTES = bytes(c for c in range(32) if c not in (9, 10, 13)) + b"\x7f"
_C1_BYTES = re.compile(rb"\xc2[\x80-\x9f]")


def _has_controls(text: str) -> bool:
    """Whether ``text`` has any character the filter removes or looks at (a fast check at C speed:
    most output has none, and passes untouched)."""
    data = text.encode("utf-8", "surrogatepass")
    if len(data.translate(None, _C0_BYTES)) != len(data):
        return True
    return not text.isascii() and _C1_BYTES.search(data) is not None


def _keep_sgr(match: re.Match[str]) -> str:
    text = match.group(0)
    return text if _SGR.fullmatch(text) else ""


class TerminalFilter:
    """Removes control sequences from each stream's output (see the module's docstring)."""

    def __init__(self) -> None:
        self._held: dict[int, str] = {}

    def clean(self, stream: int, text: str) -> str:
        """What of ``text`` (the next piece of ``stream``) may reach the terminal now."""
        text = self._held.pop(stream, "") + text
        if not _has_controls(text):
            return text
        window = max(0, len(text) - HOLD_CHARS - 1)  # a longer one is not held: no need to look further
        tail = _INCOMPLETE.search(text, window)
        if tail is not None:
            held = text[tail.start() :]
            text = text[: tail.start()]
            if len(held) <= HOLD_CHARS:
                self._held[stream] = held
        return _SEQUENCE.sub(_keep_sgr, text)
