"""Finds, validates and loads theme files (TOML) into Textual `Theme` objects.

A theme file holds Textual's base colours plus the three severity colours the war room needs:

    name = "warroom-dark"
    dark = true
    primary = "#4f9cf0"
    ...
    [severity]
    sev1 = "#e5484d"
    sev2 = "#f0883e"
    sev3 = "#c9a227"

Files are read from these folders, later ones overriding earlier ones by theme name:

1. the shipped themes: the top-level `themes/` folder of the source tree, installed as the package
   data `warroom.themes` and found with `importlib.resources` (checkout, editable or wheel alike);
2. `<config dir>/themes/`, where a user drops their own;
3. `$WARROOM_THEMES_DIR`, for a team's shared folder or for tests.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from textual.color import Color, ColorParseError
from textual.theme import Theme

from warroom.paths import config_dir, environment

DEFAULT_THEME = "warroom-dark"
"""The theme used when none is asked for, or the one asked for does not exist."""

THEMES_DIR_ENV = "WARROOM_THEMES_DIR"


def shipped_themes_dir() -> Path:
    """The folder of the themes shipped with warroom (the package data `warroom.themes`)."""
    root = files("warroom.themes")
    # Installed from a wheel or in editable mode the package data is a plain folder; warroom
    # is never imported from a zip (Textual reads its stylesheets by path as well).
    if not isinstance(root, Path):
        raise RuntimeError(f"warroom's themes are not in a folder: {root}")
    return root


def _color(value: str) -> str:
    try:
        Color.parse(value)
    except ColorParseError as exc:
        raise ValueError(f"{value!r} is not a colour: {exc}") from None
    return value


ColorValue = Annotated[str, AfterValidator(_color)]


class SeverityColors(BaseModel):
    """The badge colour of each severity level."""

    model_config = ConfigDict(extra="forbid")

    sev1: ColorValue
    sev2: ColorValue
    sev3: ColorValue


class ThemeFile(BaseModel):
    """One theme file as validated on load."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
    description: str = ""
    dark: bool = True
    primary: ColorValue
    secondary: ColorValue | None = None
    accent: ColorValue | None = None
    success: ColorValue | None = None
    warning: ColorValue | None = None
    error: ColorValue | None = None
    foreground: ColorValue | None = None
    background: ColorValue | None = None
    surface: ColorValue | None = None
    panel: ColorValue | None = None
    boost: ColorValue | None = None
    luminosity_spread: Annotated[float, Field(ge=0.0, le=1.0)] = 0.15
    text_alpha: Annotated[float, Field(ge=0.0, le=1.0)] = 0.95
    severity: SeverityColors
    variables: dict[str, str] = {}
    """Extra Textual CSS variables, e.g. `footer-key-foreground`."""

    def to_theme(self) -> Theme:
        """The Textual theme, with the severity colours as CSS variables `$sev1`..`$sev3`."""
        return Theme(
            name=self.name,
            primary=self.primary,
            secondary=self.secondary,
            accent=self.accent,
            success=self.success,
            warning=self.warning,
            error=self.error,
            foreground=self.foreground,
            background=self.background,
            surface=self.surface,
            panel=self.panel,
            boost=self.boost,
            dark=self.dark,
            luminosity_spread=self.luminosity_spread,
            text_alpha=self.text_alpha,
            variables={**self.variables, **severity_variables(self.severity)},
        )


def severity_variables(colors: SeverityColors) -> dict[str, str]:
    """The CSS variables the stylesheets use for severity colours: `$sev1`..`$sev3`, and
    `$sev1-foreground`..`$sev3-foreground` for text on them (the SEV badges)."""
    levels = {"sev1": colors.sev1, "sev2": colors.sev2, "sev3": colors.sev3}
    return {
        **levels,
        **{f"{name}-foreground": readable_text_on(value) for name, value in levels.items()},
    }


def readable_text_on(background: str) -> str:
    """Black or white, whichever contrasts more with `background` by the WCAG ratio.

    Textual's `auto` colour picks by perceived brightness, which put white at 90% on red: 3.3:1
    on the projector theme's pure red, where black is 5.3:1. The badge is what a room reads
    first, so it gets the WCAG choice instead."""
    color = Color.parse(background)
    luminance = relative_luminance(color)
    on_black = (luminance + 0.05) / 0.05
    on_white = 1.05 / (luminance + 0.05)
    return "#000000" if on_black > on_white else "#ffffff"


def relative_luminance(color: Color) -> float:
    """The WCAG relative luminance of an opaque colour, 0 (black) to 1 (white)."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)


WARROOM_VARIABLES = (
    "sev1",
    "sev2",
    "sev3",
    "sev1-foreground",
    "sev2-foreground",
    "sev3-foreground",
    "pane-border",
)
"""CSS variables the war-room stylesheets use beyond Textual's own; a theme that lacks one (any
Textual built-in theme, or a user theme without `pane-border`) borrows the default theme's."""


def warroom_variable_defaults(catalog: ThemeCatalog) -> dict[str, str]:
    """The default theme's values of `WARROOM_VARIABLES`, as fallbacks for other themes.

    The shipped copy fills any gap, so a user's replacement default theme that leaves a
    variable out cannot make the stylesheet fail to parse.
    """
    variables = load_theme_file(shipped_themes_dir() / "dark.toml").to_theme().variables
    default = catalog.themes.get(DEFAULT_THEME)
    if default is not None:
        variables = {**variables, **default.to_theme().variables}
    return {name: variables[name] for name in WARROOM_VARIABLES if name in variables}


@dataclass
class ThemeCatalog:
    """Every theme found, by name, and the files that could not be used."""

    themes: dict[str, ThemeFile] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    """One line per rejected file, to show the user once the app is up."""


def theme_dirs() -> list[Path]:
    """Folders searched for theme files, lowest precedence first."""
    dirs = [shipped_themes_dir(), config_dir() / "themes"]
    shared = environment().themes_dir
    if shared is not None:
        dirs.append(shared)
    return dirs


def load_theme_file(path: Path) -> ThemeFile:
    """Read and validate one theme file.

    Raises:
        ValueError: The file is not TOML or does not describe a theme; the message names it.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return ThemeFile.model_validate(data)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "file"
        raise ValueError(f"{path}: {where}: {first['msg']}") from None


def load_themes(dirs: list[Path] | None = None) -> ThemeCatalog:
    """Load every `*.toml` theme from `dirs` (default `theme_dirs()`); bad files are reported,
    never fatal, so one broken user theme cannot stop the war room from opening."""
    catalog = ThemeCatalog()
    for folder in theme_dirs() if dirs is None else dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ValueError as exc:
                catalog.problems.append(str(exc))
                continue
            catalog.themes[theme.name] = theme
    return catalog
