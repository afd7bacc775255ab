"""The one way warroom reads settings: a TOML file, overridden by `WARROOM_*` environment variables.

The server's config (`warroom.config`), the console's `console.toml` (`warroom.console_config`)
and the process environment (`warroom.paths`) are all `WarroomSettings` subclasses loaded by
`load_settings`, so they share one precedence (environment over file over defaults), one
validation style (pydantic) and one error format: `SettingsError`, one line per problem naming
where the value came from (the file or the variable), the key, and why it is refused.

Environment variables are the field names upper-cased after the `WARROOM_` prefix; nested keys
are joined with a double underscore: `WARROOM_PAGERDUTY__ROUTING_KEY` sets
`[pagerduty] routing_key`. Complex values (tables, lists) are given as JSON.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

ENV_PREFIX = "WARROOM_"
ENV_NESTED_DELIMITER = "__"


class ConfigError(Exception):
    """Settings cannot be used; `problems` holds one line per mistake, `str()` joins them."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def check_http_url(value: str) -> str:
    """Refuse anything but an absolute http(s) URL with a host; the text is kept as given."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - parsing the port is the check: "host:abc" raises here
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a URL: {exc}") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL with a host, e.g. https://host:9090")
    return value


HttpUrlStr = Annotated[str, AfterValidator(check_http_url)]
"""An http(s) URL, validated on load but kept as `str` for the code that uses it."""


@dataclass(frozen=True)
class _Load:
    file: Path | None


# Which file `load_settings` is reading; unset, a settings class is built from its arguments
# alone, so code and tests constructing one directly never pick up the environment by accident.
_LOADING: ContextVar[_Load | None] = ContextVar("warroom_settings_load", default=None)


class WarroomSettings(BaseSettings):
    """Base of every settings class: `WARROOM_` environment prefix, unknown keys refused."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        extra="forbid",
        # An empty variable means "not set", as it always has for WARROOM_HOME.
        env_ignore_empty=True,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        load = _LOADING.get()
        if load is None:
            return (init_settings,)
        if load.file is None:
            return (env_settings,)
        # Earlier sources win: the environment overrides the file.
        return (env_settings, TomlConfigSettingsSource(settings_cls, toml_file=load.file))


Settings = TypeVar("Settings", bound=WarroomSettings)


def load_settings(cls: type[Settings], file: Path | None) -> Settings:
    """Build `cls` from `file` (TOML; None: environment only) and `WARROOM_*` variables.

    Raises:
        ConfigError: one line per mistake, each naming the file or variable and the key.
    """
    if file is not None:
        try:
            # The TOML source skips a missing file silently; a named file must exist.
            file.read_bytes()
        except OSError as exc:
            raise ConfigError([f"{file}: cannot read: {exc.strerror}"]) from None
    reset = _LOADING.set(_Load(file))
    try:
        return cls()
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError([f"{file}: is not valid TOML: {exc}"]) from None
    except SettingsError as exc:
        # A variable holding malformed JSON for a table or list; pydantic-settings names the
        # field only inside its message.
        field = re.search(r'field "([^"]+)"', str(exc))
        if field is None:
            raise ConfigError([f"environment: {_one_line(str(exc))}"]) from None
        raise ConfigError(
            [problem_line(file, [field[1]], "not valid JSON (give tables and lists as JSON)")]
        ) from None
    except ValidationError as exc:
        raise ConfigError(_problems(file, exc)) from None
    finally:
        _LOADING.reset(reset)


def _problems(file: Path | None, exc: ValidationError) -> list[str]:
    return [
        problem_line(file, [str(part) for part in error["loc"]], error["msg"])
        for error in exc.errors(include_url=False, include_input=False)
    ]


def problem_line(file: Path | None, loc: Sequence[str], why: str) -> str:
    """One problem as `<file or variable>: <key>: <why>`; the variable if one supplied the key."""
    variables = {name.upper() for name in os.environ}
    where = _variable(loc, variables) or (str(file) if file is not None else "environment")
    return f"{where}: {'.'.join(loc) or '(file)'}: {_one_line(why)}"


def _variable(loc: Sequence[str], variables: set[str]) -> str | None:
    """The environment variable that supplied the value at `loc` (or a table holding it)."""
    for end in range(1, len(loc) + 1):
        name = (ENV_PREFIX + ENV_NESTED_DELIMITER.join(loc[:end])).upper()
        if name in variables:
            return name
    return None


def _one_line(text: str) -> str:
    return " ".join(text.split())
