"""README's list of key binding ids is the console's command table: a remap copied from it works."""

from __future__ import annotations

import re
from pathlib import Path

from warroom.console_config import load_console_config
from warroom.tui.commands_table import BINDING_IDS, COMMANDS

README = Path(__file__).resolve().parents[2] / "README.md"
START = "<!-- binding ids: generated from the command table; tests/cli/test_readme_keymap.py -->"
END = "<!-- end of binding ids -->"


def _readme_rows() -> list[str]:
    text = README.read_text(encoding="utf-8")
    return text[text.index(START) + len(START) : text.index(END)].strip().splitlines()[2:]


def test_the_readme_lists_every_binding_id_of_the_command_table_in_order() -> None:
    expected = [f"| `{c.binding_id}` | `{c.key}` | {c.scope.value} | {c.title} |" for c in COMMANDS]
    assert _readme_rows() == expected, "regenerate README's table:\n" + "\n".join(expected)


def test_the_readmes_example_remaps_are_accepted(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    example = re.search(r"```toml\n(.*?)```", text, re.DOTALL)
    assert example is not None
    path = tmp_path / "console.toml"
    path.write_text(example[1])
    settings = load_console_config(path, binding_ids=BINDING_IDS)
    assert set(settings.keys) == {"scribe.focus", "severity.change"}
