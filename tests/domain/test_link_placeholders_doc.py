"""docs/protocol.md names every placeholder a link template may use (a client fills them)."""

from __future__ import annotations

from pathlib import Path

from warroom.domain.links import placeholder_values

PROTOCOL_DOC = Path(__file__).parents[2] / "docs" / "protocol.md"


def test_the_welcome_row_names_every_link_placeholder() -> None:
    welcome = next(
        line
        for line in PROTOCOL_DOC.read_text(encoding="utf-8").splitlines()
        if line.startswith("| `welcome` |")
    )
    missing = [name for name in placeholder_values("api") if f"`{{{name}}}`" not in welcome]
    assert missing == [], f"docs/protocol.md's welcome row does not name {missing}"
