"""The console user's settings file: theme, server and key remaps, checked before the app starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import warroom
from warroom.console_config import ConsoleConfigError, load_console_config


def test_settings_are_read_from_the_config_dir(warroom_home: Path) -> None:
    warroom_home.mkdir(parents=True, exist_ok=True)
    (warroom_home / "console.toml").write_text(
        'theme = "warroom-contrast"\nserver = "ws://10.0.0.1:8765"\n[keys]\nwrite = "w"\n'
    )
    settings = load_console_config()
    assert (settings.theme, settings.server, settings.keys) == (
        "warroom-contrast",
        "ws://10.0.0.1:8765",
        {"write": "w"},
    )


def test_a_typo_in_the_settings_is_named(warroom_home: Path) -> None:
    warroom_home.mkdir(parents=True, exist_ok=True)
    (warroom_home / "console.toml").write_text('them = "dark"\n')
    with pytest.raises(ConsoleConfigError) as refused:
        load_console_config()
    assert "console.toml: them: Extra inputs are not permitted" in str(refused.value)


async def test_unknown_binding_id_stops_the_console_with_one_line(warroom_home: Path) -> None:
    warroom_home.mkdir(parents=True, exist_ok=True)
    (warroom_home / "console.toml").write_text('[keys]\nnonsense = "x"\n')
    result = await warroom("--server", "ws://127.0.0.1:1", "--token", "t")
    assert result.code == 1
    assert result.err.startswith("warroom: ")
    assert "unknown key binding ids ['nonsense']" in result.err
    assert result.err.count("\n") == 1
