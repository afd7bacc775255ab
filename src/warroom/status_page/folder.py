"""Writes the public status page to a folder for any static web server to serve."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from warroom.status_page.model import PublicStatus
from warroom.status_page.render import DEFAULT_TITLE, render_html, render_json

HTML_NAME = "index.html"
JSON_NAME = "status.json"

_FILE_MODE = 0o644
"""World-readable: the page is public by design and a web server usually runs as another user."""


def write_status_folder(folder: Path, status: PublicStatus, *, title: str = DEFAULT_TITLE) -> None:
    """Write `status.json` and `index.html` into `folder`, creating it if needed.

    Each file is replaced atomically, so a web server reading them mid-write sees either the old
    page or the new one, never half of one.
    """
    folder.mkdir(parents=True, exist_ok=True)
    _write_atomically(folder / JSON_NAME, render_json(status))
    _write_atomically(folder / HTML_NAME, render_html(status, title=title))


def _write_atomically(path: Path, text: str) -> None:
    # The temporary file sits next to the target: os.replace is only atomic within one filesystem.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
            out.flush()
            # Durable before it becomes visible: a crash must not leave an empty page behind.
            os.fsync(out.fileno())
        tmp.chmod(_FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
