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
from warroom.domain.limits import MAX_FRAME_BYTES
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


async def _refusal(path: Path) -> str:
    """Why `warroom replay --file path` refuses the file: one short line, free of escape codes
    (in process, so a file wrongly taken opens no console to wait on)."""
    args = build_parser().parse_args(["replay", "--file", str(path)])
    with pytest.raises(ClientError) as refused:
        await actions.replay_app(args)
    line = str(refused.value)
    assert "\n" not in line
    assert "\x1b" not in line
    return _one_clean_line(line)


@pytest.mark.parametrize(
    "actor",
    ["a" * 2_000_000, "\x1b]0;PWNED\x07\x1b[2J", "[b]admin[/b]", "Ada Lovelace", ""],
    ids=["2MB", "escapes", "markup", "spaces", "empty"],
)
async def test_an_actor_no_server_could_have_named_is_refused_short_and_inert(
    tmp_path: Path, actor: str
) -> None:
    # Every actor the server writes is a login name (or `warroom`); a 2 MB one took seconds
    # per step to draw.
    _, events = scripted_incident()
    document = json.loads(export_json(events))
    document["events"][5]["actor"] = actor
    path = tmp_path / "actor.json"
    path.write_text(json.dumps(document))
    line = await _refusal(path)
    assert "event 6: its actor is not a user name" in line
    assert "\x1b" not in line
    assert len(line) < 300


@pytest.mark.parametrize("field", ["title", "summary"])
async def test_a_text_longer_than_any_frame_the_server_reads_is_refused(
    tmp_path: Path, field: str
) -> None:
    # No event holds a text longer than the frame it came in; a 50 MB title took 14 s to
    # first draw, and pasting more held the console longer.
    _, events = scripted_incident()
    document = json.loads(export_json(events))
    document["events"][0]["body"][field] = "\x1b[2J" + "T" * (MAX_FRAME_BYTES + 1)
    path = tmp_path / "long.json"
    path.write_text(json.dumps(document))
    line = await _refusal(path)
    assert f"event 1 holds a text longer than {MAX_FRAME_BYTES:,} characters" in line


def _export_titled(escaped: str) -> str:
    """An export whose declaration's title is the JSON string body `escaped`, as written."""
    _, events = scripted_incident()
    document = json.loads(export_json(events))
    document["events"][0]["body"]["title"] = "TITLE-HERE"
    return json.dumps(document).replace("TITLE-HERE", escaped)


@pytest.mark.parametrize("text", ["\\ud800", "x\\udfff", "\\ud83d"])
async def test_a_lone_surrogate_escape_is_refused_as_not_json(tmp_path: Path, text: str) -> None:
    # Python's own JSON reader makes a lone surrogate into a string that no terminal encoding
    # can write; no server ever stores one (its frames are read by a strict parser).
    path = tmp_path / "surrogate.json"
    path.write_text(_export_titled(text))
    assert "not JSON" in await _refusal(path)


async def test_an_emoji_escaped_as_a_surrogate_pair_still_replays(tmp_path: Path) -> None:
    path = tmp_path / "emoji.json"
    path.write_text(_export_titled("Payments \\ud83d\\udd25"))
    app = await actions.replay_app(build_parser().parse_args(["replay", "--file", str(path)]))
    assert app.index.state_at(1).incident.title == "Payments \U0001f525"


@pytest.mark.parametrize(
    ("field", "value"),
    [("seq", True), ("seq", "1"), ("seq", 1.0), ("incident_id", "7"), ("severity", "2")],
)
async def test_a_value_of_the_wrong_json_type_is_refused_not_converted(
    tmp_path: Path, field: str, value: object
) -> None:
    # Read as strictly as the server reads frames: `"seq": true` is not event 1.
    _, events = scripted_incident()
    document = json.loads(export_json(events))
    declared = document["events"][0]
    (declared["body"] if field == "severity" else declared)[field] = value
    path = tmp_path / "types.json"
    path.write_text(json.dumps(document))
    line = await _refusal(path)
    assert "an event is not valid" in line
    assert f"{field}: Input should be" in line


async def test_at_on_a_log_that_makes_no_incident_names_what_is_wrong_with_the_log(
    tmp_path: Path,
) -> None:
    _, events = scripted_incident()
    document = json.loads(export_json(events))
    document["events"].reverse()
    path = tmp_path / "reversed.json"
    path.write_text(json.dumps(document))
    args = build_parser().parse_args(["replay", "--file", str(path), "--at", "5"])
    with pytest.raises(ClientError, match="must start with incident_declared"):
        await actions.replay_app(args)
