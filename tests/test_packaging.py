"""What a wheel ships: every package under src/warroom, and the top-level themes as package data."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _setuptools() -> dict[str, object]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    tool: dict[str, object] = config["tool"]["setuptools"]
    return tool


def test_every_package_under_src_is_listed_for_the_wheel() -> None:
    # The list is explicit (so `themes/` can join it); a new package left out would be missing
    # from every installed warroom while the editable install hid it.
    found = {
        ".".join(init.parent.relative_to(ROOT / "src").parts)
        for init in (ROOT / "src" / "warroom").rglob("__init__.py")
    }
    assert set(_setuptools()["packages"]) == found | {"warroom.themes"}  # type: ignore[call-overload]


def test_the_top_level_themes_folder_is_the_shipped_package_data() -> None:
    tool = _setuptools()
    assert tool["package-dir"] == {"": "src", "warroom.themes": "themes"}
    assert tool["package-data"]["warroom.themes"] == ["*.toml"]  # type: ignore[index]
    assert sorted(p.name for p in (ROOT / "themes").glob("*.toml")) == [
        "dark.toml",
        "high-contrast.toml",
        "light.toml",
    ]
    assert not (ROOT / "src" / "warroom" / "tui" / "themes").exists(), "one copy of the themes"
