"""The console user's settings file: theme, server, token file and key remaps, checked before the
app starts, with `WARROOM_*` variables overriding the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import warroom
from warroom.console_config import load_console_config
from warroom.settings import ConfigError


def test_settings_are_read_from_the_config_dir(warroom_home: Path) -> None:
    warroom_home.mkdir(parents=True, exist_ok=True)
    (warroom_home / "console.toml").write_text(
        'theme = "warroom-contrast"\nserver = "ws://10.0.0.1:8765"\n'
        '[keys]\n"timeline.write" = "w"\n'
    )
    settings = load_console_config()
    assert (settings.theme, settings.server, settings.keys) == (
        "warroom-contrast",
        "ws://10.0.0.1:8765",
        {"timeline.write": "w"},
    )


def test_environment_variables_override_the_file(
    warroom_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warroom_home.mkdir(parents=True, exist_ok=True)
    (warroom_home / "console.toml").write_text('theme = "warroom-light"\nserver = "ws://a:1"\n')
    monkeypatch.setenv("WARROOM_THEME", "warroom-contrast")
    monkeypatch.setenv("WARROOM_KEYS", json.dumps({"timeline.write": "ctrl+w"}))
    settings = load_console_config()
    assert (settings.theme, settings.server, settings.keys) == (
        "warroom-contrast",
        "ws://a:1",
        {"timeline.write": "ctrl+w"},
    )


def test_a_typo_in_the_settings_is_named(warroom_home: Path) -> None:
    warroom_home.mkdir(parents=True, exist_ok=True)
    (warroom_home / "console.toml").write_text('them = "dark"\n')
    with pytest.raises(ConfigError) as refused:
        load_console_config()
    assert "console.toml: them: Extra inputs are not permitted" in str(refused.value)


def test_every_problem_is_one_line_naming_the_file_or_the_variable(
    warroom_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warroom_home.mkdir(parents=True, exist_ok=True)
    (warroom_home / "console.toml").write_text('them = "dark"\n[keys]\nwrite = 3\n')
    monkeypatch.setenv("WARROOM_TOKEN_FILE", "")  # empty means unset, not a problem
    with pytest.raises(ConfigError) as refused:
        load_console_config()
    file = warroom_home / "console.toml"
    assert refused.value.problems == [
        f"{file}: keys.write: Input should be a valid string",
        f"{file}: them: Extra inputs are not permitted",
    ]
    monkeypatch.setenv("WARROOM_KEYS", "not json")
    with pytest.raises(ConfigError) as bad_variable:
        load_console_config()
    assert bad_variable.value.problems == [
        "WARROOM_KEYS: keys: not valid JSON (give tables and lists as JSON)"
    ]


def test_unknown_binding_ids_are_refused_by_the_settings(warroom_home: Path) -> None:
    warroom_home.mkdir(parents=True, exist_ok=True)
    (warroom_home / "console.toml").write_text('[keys]\nwrite = "w"\n"timeline.write" = "w"\n')
    with pytest.raises(ConfigError) as refused:
        load_console_config(binding_ids={"timeline.write", "severity.change"})
    assert refused.value.problems == [
        f"{warroom_home / 'console.toml'}: keys.write: unknown binding id; "
        "known ids: severity.change, timeline.write"
    ]


async def test_unknown_binding_id_stops_the_console_with_one_line(warroom_home: Path) -> None:
    warroom_home.mkdir(parents=True, exist_ok=True)
    (warroom_home / "console.toml").write_text('[keys]\nnonsense = "x"\n')
    result = await warroom("--server", "ws://127.0.0.1:1", "--token", "t")
    assert result.code == 1
    assert result.err.startswith(f"warroom: {warroom_home / 'console.toml'}: keys.nonsense: ")
    assert "unknown binding id; known ids: " in result.err
    assert result.err.count("\n") == 1
