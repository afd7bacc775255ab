"""Counts in words: "1 entry", "3 entries", the one place the console makes plurals."""

from __future__ import annotations


def count(n: int, singular: str, plural: str | None = None) -> str:
    """`n` and the noun agreeing with it, with thousands separated ("1 entry", "1,024 entries").

    Args:
        n: How many.
        singular: The noun for one ("entry").
        plural: The noun for any other number; `singular` + "s" when not given.
    """
    noun = singular if n == 1 else (plural or f"{singular}s")
    return f"{n:,} {noun}"
