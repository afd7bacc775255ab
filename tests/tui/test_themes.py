"""Theme files: the shipped three load and validate, users add their own, bad files are reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from warroom.tui.theme_files import (
    DEFAULT_THEME,
    THEMES_DIR_ENV,
    load_theme_file,
    load_themes,
    shipped_themes_dir,
)

from .conftest import Notice
from .harness import Warroom

REPO_THEMES = Path(__file__).resolve().parents[2] / "themes"
SHIPPED = {"warroom-dark", "warroom-light", "warroom-contrast"}


def test_the_shipped_themes_load_with_severity_colours() -> None:
    catalog = load_themes()
    assert catalog.problems == []
    assert set(catalog.themes) >= SHIPPED
    for name in SHIPPED:
        theme = catalog.themes[name].to_theme()
        assert {"sev1", "sev2", "sev3"} <= set(theme.variables)
    assert catalog.themes["warroom-light"].dark is False


def test_the_shipped_themes_are_the_top_level_folder_itself() -> None:
    # One copy: the editable install maps the package data `warroom.themes` onto `themes/`
    # (a wheel copies the same folder in; see tests/test_packaging.py).
    assert shipped_themes_dir().resolve() == REPO_THEMES


def test_a_user_theme_is_found_in_the_themes_dir_and_overrides_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mine.toml").write_text(
        'name = "ops-green"\nprimary = "#00aa00"\n[severity]\n'
        'sev1 = "red"\nsev2 = "orange"\nsev3 = "rgb(200, 200, 0)"\n'
    )
    (tmp_path / "dark.toml").write_text(
        f'name = "{DEFAULT_THEME}"\nprimary = "#123456"\n[severity]\n'
        'sev1 = "#ff0000"\nsev2 = "#ff8800"\nsev3 = "#ffff00"\n'
    )
    monkeypatch.setenv(THEMES_DIR_ENV, str(tmp_path))
    catalog = load_themes()
    assert catalog.themes["ops-green"].severity.sev3 == "rgb(200, 200, 0)"
    assert catalog.themes[DEFAULT_THEME].primary == "#123456"


def test_a_theme_in_the_config_dir_is_found(tmp_path: Path) -> None:
    # WARROOM_HOME is the config dir in tests (see conftest).
    import os

    themes = Path(os.environ["WARROOM_HOME"]) / "themes"
    themes.mkdir(parents=True)
    (themes / "x.toml").write_text(
        'name = "x"\nprimary = "blue"\n[severity]\nsev1 = "red"\nsev2 = "red"\nsev3 = "red"\n'
    )
    assert "x" in load_themes().themes


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("not toml = = =", "Expected"),
        ('name = "x"\nprimary = "blue"\n', "severity: Field required"),
        (
            'name = "x"\nprimary = "nonsense"\n[severity]\nsev1="red"\nsev2="red"\nsev3="red"\n',
            "primary: Value error, 'nonsense' is not a colour",
        ),
        (
            'name = "Bad Name"\nprimary = "blue"\n[severity]\nsev1="red"\nsev2="red"\nsev3="red"\n',
            "name: String should match pattern",
        ),
    ],
)
def test_a_bad_theme_file_is_reported_not_fatal(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(ValueError, match=r"bad\.toml"):
        load_theme_file(path)
    catalog = load_themes([shipped_themes_dir(), tmp_path])
    assert set(catalog.themes) >= SHIPPED
    assert len(catalog.problems) == 1
    assert problem in catalog.problems[0]


async def test_make_app_selects_a_theme_and_falls_back_on_an_unknown_one(
    warroom: Warroom, incident: int, notices: list[Notice]
) -> None:
    contrast = await warroom.app("alice", incident, theme="warroom-contrast")
    assert contrast.theme == "warroom-contrast"
    unknown = await warroom.app("alice", incident, theme="no-such-theme")
    assert unknown.theme == DEFAULT_THEME
    async with unknown.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        # alice is the IC of an overdue SEV1, so she may also be told to post an update.
        themes = [notice.message for notice in notices if "theme" in notice.message]
        assert themes == ["no theme named 'no-such-theme'; using warroom-dark"]
        # Severity colours come from the theme as CSS variables.
        assert unknown.theme_variables["sev1"] == "#e5484d"
        unknown.theme = "warroom-contrast"
        await pilot.pause()
        assert unknown.theme_variables["sev1"] == "#ff0000"
        # Textual's own themes borrow the default's severity colours.
        unknown.theme = "nord"
        await pilot.pause()
        assert unknown.theme_variables["sev1"] == "#e5484d"
