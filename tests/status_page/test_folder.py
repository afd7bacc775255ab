"""Tests for writing the status page to a folder: both files, replaced atomically."""

from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from tests.status_page.incidents import T0, IncidentLog
from warroom.status_page import (
    PublicStatus,
    build_public_status,
    render_html,
    render_json,
    write_status_folder,
)


def make_status(text: str, minutes: int = 0) -> PublicStatus:
    log = IncidentLog(1, "internal")
    log.publish(text)
    return build_public_status([log.state()], generated_at=T0 + timedelta(minutes=minutes))


def test_writes_index_html_and_status_json(tmp_path: Path) -> None:
    folder = tmp_path / "public" / "status"
    status = make_status("We are investigating.")

    write_status_folder(folder, status)

    assert sorted(p.name for p in folder.iterdir()) == ["index.html", "status.json"]
    assert (folder / "index.html").read_text(encoding="utf-8") == render_html(status)
    assert (folder / "status.json").read_text(encoding="utf-8") == render_json(status)
    assert PublicStatus.model_validate_json((folder / "status.json").read_bytes()) == status
    for name in ("index.html", "status.json"):
        # Public by design: a web server running as another user must be able to read it.
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o644


def test_rewriting_replaces_both_files_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    write_status_folder(tmp_path, make_status("first version"))
    newer = make_status("second version", minutes=5)

    write_status_folder(tmp_path, newer)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html", "status.json"]
    assert "second version" in (tmp_path / "index.html").read_text(encoding="utf-8")
    assert PublicStatus.model_validate_json((tmp_path / "status.json").read_bytes()) == newer


def test_a_failed_write_keeps_the_old_page_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_status_folder(tmp_path, make_status("old page"))
    old_json = (tmp_path / "status.json").read_bytes()
    old_html = (tmp_path / "index.html").read_bytes()

    def refuse(src: object, dst: object) -> None:
        raise OSError("disk trouble")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk trouble"):
        write_status_folder(tmp_path, make_status("new page"))

    assert (tmp_path / "status.json").read_bytes() == old_json
    assert (tmp_path / "index.html").read_bytes() == old_html
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html", "status.json"]
