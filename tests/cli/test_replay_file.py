"""`warroom replay --file` given files that are not good exports: each gets one clear line and a
non-zero exit before any console opens, and nothing is read without bound."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.export.scripted import scripted_incident
from tests.support.cli import warroom
from warroom.cli import actions
from warroom.cli.parser import build_parser
from warroom.client.session import ClientError
from warroom.domain.events import Event
from warroom.domain.instants import LATEST
from warroom.domain.replay_index import ReplayIndex
from warroom.export.json_export import export_json


def _export(tmp_path: Path, change: dict[str, object] | None = None) -> Path:
    _, events = scripted_incident()
    document = json.loads(export_json(events))
    document.update(change or {})
    path = tmp_path / "export.json"
    path.write_text(json.dumps(document))
    return path


def _one_clean_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


async def test_deeply_nested_json_is_refused_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    result = await warroom("replay", "--file", str(path))
    assert result.code != 0
    assert "nested too deeply" in _one_clean_line(result.err)


async def test_events_stamped_out_of_range_are_refused_with_one_line(tmp_path: Path) -> None:
    _, events = scripted_incident()
    document = json.loads(export_json(events))
    for event in document["events"]:
        event["at"] = "9999-12-31T23:59:00Z"
    path = tmp_path / "late.json"
    path.write_text(json.dumps(document))
    result = await warroom("replay", "--file", str(path))
    assert result.code != 0
    assert "time out of range" in _one_clean_line(result.err)


@pytest.mark.parametrize("version", [True, 0, -5, "1"])
async def test_a_version_that_is_not_one_is_refused(tmp_path: Path, version: object) -> None:
    path = _export(tmp_path, {"version": version})
    result = await warroom("replay", "--file", str(path))
    assert result.code != 0
    assert "format version" in _one_clean_line(result.err)


async def test_a_file_larger_than_the_cap_is_refused_without_reading_it_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # /dev/zero never ends: the command can only answer if it stops reading at the cap.
    monkeypatch.setattr(actions, "MAX_EXPORT_BYTES", 1024 * 1024)
    args = build_parser().parse_args(["replay", "--file", "/dev/zero"])
    with pytest.raises(ClientError, match="too large for an export"):
        await actions.replay_app(args)


async def test_a_directory_is_refused_with_one_line(tmp_path: Path) -> None:
    result = await warroom("replay", "--file", str(tmp_path))
    assert result.code != 0
    assert "cannot read" in _one_clean_line(result.err)


async def test_a_named_pipe_nobody_writes_to_is_refused_instead_of_waiting(
    tmp_path: Path,
) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    result = await warroom("replay", "--file", str(pipe))
    assert result.code != 0
    assert "not JSON" in _one_clean_line(result.err)


def test_an_incident_resolved_in_the_calendars_last_days_still_folds() -> None:
    _, events = scripted_incident()
    # Move the whole log so its resolution falls a day before the last instant shown.
    shift = (LATEST - timedelta(days=1)) - events[-1].at
    late = [Event.model_validate(e.model_dump() | {"at": e.at + shift}) for e in events]
    index = ReplayIndex(late)
    state = index.state_at(index.last)
    assert state.incident.postmortem_due is not None
    assert state.incident.postmortem_due <= datetime.max.replace(tzinfo=UTC)


def _with_event_change(tmp_path: Path, change: dict[str, object]) -> Path:
    _, events = scripted_incident()
    document = json.loads(export_json(events))
    document["events"][3]["body"].update(change)
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"\x1b]0;PWNED\x07\x1b[2J": 1}, "Extra inputs are not permitted"),
        ({"type": "\x1b[31mnuke"}, "unknown event type"),
    ],
)
async def test_escape_codes_in_a_refused_event_are_not_printed(
    tmp_path: Path, change: dict[str, object], why: str
) -> None:
    result = await warroom("replay", "--file", str(_with_event_change(tmp_path, change)))
    assert result.code != 0
    line = _one_clean_line(result.err)
    assert why in line
    assert "\x1b" not in line
    assert "\x07" not in line


async def test_a_huge_hostile_version_is_quoted_short_and_inert(tmp_path: Path) -> None:
    path = _export(tmp_path, {"version": "\x1b[2J" + "A" * 1_000_000})
    result = await warroom("replay", "--file", str(path))
    assert result.code != 0
    line = _one_clean_line(result.err)
    assert "format version" in line
    assert "\x1b" not in line
    assert len(line) < 300
