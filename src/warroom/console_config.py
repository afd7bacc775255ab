"""The console user's own settings: `<config dir>/console.toml` (theme, server, token file, keys).

Example:

    theme = "warroom-contrast"           # for the projector
    server = "wss://warroom.example.org"  # or several nodes: "wss://a.example.org,wss://b…"
    token_file = "~/.config/warroom/token"  # mode 0600; keeps the token off the command line

    [keys]                               # binding id = key(s), as Textual's keymaps take them
    "scribe.focus" = "w"
    "severity.change" = "ctrl+s"

The binding ids are those of the console's command table (`warroom.tui.commands_table`), listed
in README.md ("Key bindings"; a test keeps that list equal to the table). Every setting can be
overridden by its environment variable (`WARROOM_THEME`, `WARROOM_SERVER`, `WARROOM_TOKEN_FILE`,
`WARROOM_KEYS` as JSON); see `warroom.settings`.
"""

from __future__ import annotations

import stat
from collections.abc import Collection
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator

from warroom.client.session import MAX_FRAME_MIB
from warroom.paths import config_dir, environment
from warroom.protocol.endpoint import server_addresses
from warroom.settings import ConfigError, WarroomSettings, load_settings, problem_line


class ConsoleConfig(WarroomSettings):
    theme: str | None = None
    server: str | None = None
    """One server address, or several separated by commas to fail over between nodes."""
    token_file: Path | None = None
    """A file holding the user's token, readable by the user alone (like ssh keys)."""
    keys: dict[str, str] = {}
    """Binding id -> key(s); the ids are checked against the console's command table."""
    max_frame_mib: Annotated[int, Field(ge=1, le=4096)] = MAX_FRAME_MIB
    """The largest message taken from a server, in MiB (a snapshot of the incident followed)."""

    @field_validator("server")
    @classmethod
    def _addresses_valid(cls, value: str | None) -> str | None:
        if value is not None:
            server_addresses(value)  # its ValueError names the bad address
        return value


def console_config_file() -> Path:
    return config_dir() / "console.toml"


def load_console_config(
    path: Path | None = None, *, binding_ids: Collection[str] | None = None
) -> ConsoleConfig:
    """The user's settings (defaults when the file does not exist) with `WARROOM_*` overrides.

    `binding_ids` are the ids the console knows (from its command table, which needs Textual
    and so is passed in rather than imported here); a remap of any other id is refused.

    Raises:
        ConfigError: one line per problem, naming the file or variable and the key.
    """
    path = path or console_config_file()
    settings = load_settings(ConsoleConfig, path if path.exists() else None)
    if binding_ids is not None:
        unknown = sorted(set(settings.keys) - set(binding_ids))
        if unknown:
            known = ", ".join(sorted(binding_ids))
            raise ConfigError(
                [
                    problem_line(path, ("keys", binding), f"unknown binding id; known ids: {known}")
                    for binding in unknown
                ]
            )
    return settings


def read_token_file(path: Path) -> str:
    """The token in `path`, refused (like ssh refuses a key) if others may read the file.

    Raises:
        ConfigError: the file is missing, readable by group or others, or empty.
    """
    path = path.expanduser()
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                [
                    f"{path}: token file is accessible by others (mode "
                    f"{stat.S_IMODE(mode):04o}); run `chmod 600 {path}`"
                ]
            )
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not text"
        raise ConfigError([f"{path}: cannot read token file: {why}"]) from None
    if not token:
        raise ConfigError([f"{path}: token file is empty"])
    return token


def client_token(
    flag_token: str | None, flag_token_file: Path | None, settings: ConsoleConfig
) -> str | None:
    """The token to connect with: `--token`, `--token-file`, `WARROOM_TOKEN`, then the token
    file from `WARROOM_TOKEN_FILE` or console.toml; None leaves the local user's token to the
    caller."""
    if flag_token:
        return flag_token
    if flag_token_file is not None:
        return read_token_file(flag_token_file)
    env_token = environment().token
    if env_token:
        return env_token
    if settings.token_file is not None:
        return read_token_file(settings.token_file)
    return None
