"""Where warroom keeps its files: the default database, the local token, outboxes, user themes,
and the private directory of the local server's Unix socket.

The process-wide environment settings (`WARROOM_HOME`, `WARROOM_THEMES_DIR`, `WARROOM_TOKEN`)
are read here, through the same settings machinery as the config files (`warroom.settings`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from pathlib import Path

import platformdirs

from warroom.settings import ConfigError, WarroomSettings, load_settings

DEFAULT_SERVER = "ws://127.0.0.1:8765"
"""The shared server's default address (`warroom serve`); the bare local mode uses its own
private socket instead (`local_socket`)."""

_SOCKET_NAME = "warroom.sock"
_MAX_SOCKET_PATH = 100
"""Unix socket paths are limited to about 104-108 bytes; a longer one goes under /tmp."""


class EnvironmentSettings(WarroomSettings):
    """Settings only the environment gives: they choose where files are, or are secrets."""

    home: Path | None = None
    """`WARROOM_HOME`: data and config in this one folder (tests and portable installs)."""
    themes_dir: Path | None = None
    """`WARROOM_THEMES_DIR`: a team's shared theme folder, searched after the user's own."""
    token: str | None = None
    """`WARROOM_TOKEN`: the token for scripts; people use a token file (see README)."""


def environment() -> EnvironmentSettings:
    """The `WARROOM_*` environment as it is now (read on every call: tests change it)."""
    return load_settings(EnvironmentSettings, None)


def data_dir() -> Path:
    """`$WARROOM_HOME` if set, else the platform's user data dir."""
    home = environment().home
    return home if home is not None else platformdirs.user_data_path("warroom", appauthor=False)


def config_dir() -> Path:
    """`$WARROOM_HOME` if set, else the platform's user config dir."""
    home = environment().home
    return home if home is not None else platformdirs.user_config_path("warroom", appauthor=False)


def default_db() -> Path:
    return data_dir() / "warroom.db"


def local_token_file() -> Path:
    """The token of the local user that the embedded server creates on first start."""
    return data_dir() / "local-token"


def outbox_file(server_url: str, token: str) -> Path:
    """One outbox per server and identity, so writes are resent to where they were meant."""
    key = hashlib.sha256(f"{server_url}\0{token}".encode()).hexdigest()[:16]
    return data_dir() / "outbox" / f"{key}.jsonl"


def socket_dir() -> Path:
    """The directory of the local server's socket: `$WARROOM_HOME/run`, else
    `$XDG_RUNTIME_DIR/warroom`, else `run` in the user data dir. Not created here; see
    `private_dir`. Where the socket path would be too long for the kernel, a short directory
    of this user's under the temp dir stands in, one per such location."""
    env = environment()
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if env.home is not None:
        wanted = env.home / "run"
    elif runtime:
        wanted = Path(runtime) / "warroom"
    else:
        wanted = data_dir() / "run"
    wanted = wanted.absolute()
    if len(os.fsencode(wanted / _SOCKET_NAME)) <= _MAX_SOCKET_PATH:
        return wanted
    key = hashlib.sha256(os.fsencode(wanted)).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"warroom-{os.getuid()}" / key


def local_socket() -> Path:
    """The Unix socket of this user's local server (inside `socket_dir`)."""
    return socket_dir() / _SOCKET_NAME


def private_dir(path: Path) -> Path:
    """Create `path` (and its parents) and make sure only this user can enter it: a directory,
    not a symlink, owned by this user, mode 0700 (tightened if it was looser). Under the temp
    dir its parent is checked the same way, so no other user can have prepared it.

    Raises:
        ConfigError: the directory belongs to someone else or is not a directory.
    """
    temp = Path(tempfile.gettempdir())
    chain = [path.parent, path] if path.parent.parent == temp else [path]
    if len(chain) == 1:
        path.parent.mkdir(parents=True, exist_ok=True)
    for directory in chain:
        try:
            with contextlib.suppress(FileExistsError):  # checked below, whatever it is
                directory.mkdir(mode=0o700)
            info = directory.lstat()
        except OSError as exc:
            why = exc.strerror or str(exc)
            raise ConfigError([f"{directory}: cannot make the socket directory: {why}"]) from None
        if not stat.S_ISDIR(info.st_mode):
            raise ConfigError([f"{directory}: is not a directory; remove it"])
        if info.st_uid != os.getuid():
            raise ConfigError([f"{directory}: belongs to another user; remove it"])
        if stat.S_IMODE(info.st_mode) & 0o077:
            directory.chmod(0o700)
    return path
