"""The console user's own settings: `<config dir>/console.toml` (theme, server, key remaps).

Example:

    theme = "warroom-contrast"        # for the projector
    server = "wss://warroom.example.org"

    [keys]                            # binding id = key(s), as Textual's keymaps take them
    write = "w"
    severity = "ctrl+s"
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from warroom.paths import config_dir


class ConsoleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    theme: str | None = None
    server: str | None = None
    keys: dict[str, str] = {}


class ConsoleConfigError(Exception):
    """The user's console config cannot be used; the message names the file and the field."""


def console_config_file() -> Path:
    return config_dir() / "console.toml"


def load_console_config(path: Path | None = None) -> ConsoleConfig:
    """The user's settings, or defaults when the file does not exist."""
    path = path or console_config_file()
    if not path.exists():
        return ConsoleConfig()
    try:
        return ConsoleConfig.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConsoleConfigError(f"cannot read {path}: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False)
        )
        raise ConsoleConfigError(f"{path}: {problems}") from None
