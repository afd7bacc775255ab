"""Removes control and bidi-override characters from everything a notifier sends out.

What reaches PagerDuty, Slack and Statuspage must read as the IC saw and approved it: an ESC
sequence can recolour or hide text in a terminal that shows the page, and a bidi override
(U+202E) can make `gpj.exe` read as `exe.jpg`. Every notifier passes its whole JSON body through
`clean_json` just before sending, so no message builder can forget it.
"""

from __future__ import annotations

import re
from typing import Any

_UNSAFE = re.compile(
    "["
    "\x00-\x08\x0b-\x1f"  # C0 controls (ESC included), keeping tab and newline
    "\x7f-\x9f"  # DEL and the C1 controls (a lone U+009B is a CSI in some terminals)
    "\u202a-\u202e"  # bidi embeddings and overrides: LRE, RLE, PDF, LRO, RLO
    "\u2066-\u2069"  # bidi isolates: LRI, RLI, FSI, PDI
    "]"
)


def clean_text(text: str) -> str:
    """`text` without control characters (tab and newline kept) and bidi overrides.

    A CRLF or lone CR becomes a newline, so a line break typed on any platform stays one.
    """
    return _UNSAFE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def clean_json(value: Any) -> Any:
    """A copy of a JSON-like value with `clean_text` applied to every string, keys included."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_json(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    return value
