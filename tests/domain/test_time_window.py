"""Times a client sends: refused outside their window (which the error names), kept in UTC."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, get_args

import pytest
from pydantic import BaseModel, ValidationError

from tests.domain.factories import NOW, T0, USERS, Log
from warroom.domain.commands import (
    AddEntry,
    Command,
    IncidentCommand,
    PostStatusUpdate,
    SetSeverity,
)
from warroom.domain.errors import DomainError, ErrorCode
from warroom.domain.events import EntryAdded, Event, SeverityChanged, StatusUpdatePosted
from warroom.domain.instants import ClientTime
from warroom.domain.rules import decide
from warroom.domain.severity import Severity
from warroom.domain.time_window import (
    BACKDATE_LIMIT,
    CLOCK_ALLOWANCE,
    NEXT_UPDATE_LIMIT,
    check_occurred_at,
    plausible_typed_at,
)
from warroom.protocol.parse import parse_client_frame


def add_entry(occurred_at: datetime | str) -> AddEntry:
    return AddEntry.model_validate(
        {"id": "a", "incident_id": 1, "text": "t", "occurred_at": occurred_at}
    )


def post_update(next_update_at: datetime | str) -> PostStatusUpdate:
    return PostStatusUpdate.model_validate(
        {"id": "u", "incident_id": 1, "status": "ok", "next_update_at": next_update_at}
    )


@pytest.mark.parametrize(
    "occurred_at",
    [
        "0001-01-01T00:00:00+14:00",  # no UTC value at all
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59-14:00",
        T0 - BACKDATE_LIMIT - timedelta(seconds=1),
        NOW + CLOCK_ALLOWANCE + timedelta(seconds=1),
    ],
)
def test_an_occurred_at_outside_its_window_is_refused_naming_the_window(
    occurred_at: datetime | str,
) -> None:
    log = Log()
    with pytest.raises(DomainError) as refused:
        decide(log.state, add_entry(occurred_at), "scribe", USERS, now=NOW)
    assert refused.value.code is ErrorCode.INVALID
    assert refused.value.message.startswith(
        "occurred_at must be between 2026-10-30T14:00:00Z (30 days before the declaration) "
        "and 2026-11-29T15:05:00Z (5 minutes from now); got "
    )


@pytest.mark.parametrize(
    "occurred_at", [T0 - BACKDATE_LIMIT, NOW + CLOCK_ALLOWANCE, T0 - timedelta(hours=3)]
)
def test_an_occurred_at_inside_its_window_is_taken(occurred_at: datetime) -> None:
    log = Log()
    body = decide(log.state, add_entry(occurred_at), "scribe", USERS, now=NOW)
    assert isinstance(body, EntryAdded)
    assert body.occurred_at == occurred_at


@pytest.mark.parametrize(
    "next_update_at",
    [
        "0001-01-01T00:00:00+14:00",
        NOW - CLOCK_ALLOWANCE - timedelta(seconds=1),
        NOW + NEXT_UPDATE_LIMIT + timedelta(seconds=1),
        "2999-01-01T00:00:00Z",
    ],
)
def test_a_next_update_outside_its_window_is_refused_naming_the_window(
    next_update_at: datetime | str,
) -> None:
    log = Log()
    with pytest.raises(DomainError) as refused:
        decide(log.state, post_update(next_update_at), "cl", USERS, now=NOW)
    assert refused.value.code is ErrorCode.INVALID
    assert refused.value.message.startswith(
        "next_update_at must be between 2026-11-29T14:55:00Z (5 minutes ago) "
        "and 2026-11-30T15:00:00Z (24 hours from now); got "
    )


def test_a_next_update_inside_its_window_is_taken() -> None:
    log = Log()
    for when in (NOW - CLOCK_ALLOWANCE, NOW + timedelta(minutes=15), NOW + NEXT_UPDATE_LIMIT):
        body = decide(log.state, post_update(when), "cl", USERS, now=NOW)
        assert isinstance(body, StatusUpdatePosted)


def test_the_permission_is_checked_before_the_time() -> None:
    log = Log()
    with pytest.raises(DomainError) as refused:
        decide(log.state, add_entry("0001-01-01T00:00:00Z"), "observer", USERS, now=NOW)
    assert refused.value.code is ErrorCode.FORBIDDEN


def test_client_times_are_kept_in_utc() -> None:
    entry = add_entry("2026-11-29T16:02:00+02:00")
    assert entry.occurred_at == datetime(2026, 11, 29, 14, 2, tzinfo=UTC)
    assert entry.occurred_at is not None
    assert entry.occurred_at.utcoffset() == timedelta(0)
    update = post_update("2026-11-29T09:15:00-05:00")
    assert update.model_dump_json().count('"next_update_at":"2026-11-29T14:15:00Z"') == 1


def test_event_times_are_written_in_utc_with_a_z() -> None:
    east = timezone(timedelta(hours=5, minutes=30))
    event = Event(
        incident_id=1,
        seq=2,
        at=datetime(2026, 11, 29, 19, 30, tzinfo=east),
        actor="scribe",
        body=EntryAdded(kind="note", text="t", occurred_at=datetime(2026, 11, 29, 19, tzinfo=east)),
    )
    data = event.model_dump_json()
    assert '"at":"2026-11-29T14:00:00Z"' in data
    assert '"occurred_at":"2026-11-29T13:30:00Z"' in data


def test_a_stored_time_out_of_range_still_loads_as_stored() -> None:
    # A log written before the window existed may hold one; it must still replay.
    body = EntryAdded.model_validate(
        {"kind": "note", "text": "t", "occurred_at": "0001-01-01T00:00:00+14:00"}
    )
    assert body.occurred_at is not None
    assert body.occurred_at.isoformat() == "0001-01-01T00:00:00+14:00"


@pytest.mark.parametrize(
    "typed_at",
    ["0001-01-01T00:00:00Z", T0 - BACKDATE_LIMIT - timedelta(seconds=1), NOW + timedelta(hours=1)],
)
def test_an_implausible_typed_at_is_dropped_and_the_entry_kept(typed_at: datetime | str) -> None:
    # The console stamps typed_at from its own clock: a wrong clock must not lose the entry.
    log = Log()
    command = AddEntry.model_validate(
        {"id": "a", "incident_id": 1, "text": "t", "typed_at": typed_at}
    )
    body = decide(log.state, command, "scribe", USERS, now=NOW)
    assert isinstance(body, EntryAdded)
    assert (body.text, body.typed_at) == ("t", None)


def test_a_typed_at_from_an_outbox_within_the_window_is_kept() -> None:
    log = Log()
    typed = NOW - timedelta(minutes=20)
    command = AddEntry.model_validate({"id": "a", "incident_id": 1, "text": "t", "typed_at": typed})
    body = decide(log.state, command, "scribe", USERS, now=NOW)
    assert isinstance(body, EntryAdded)
    assert body.typed_at == typed


def set_severity(typed_at: datetime | str | None) -> SetSeverity:
    return SetSeverity.model_validate(
        {
            "id": "s",
            "incident_id": 1,
            "severity": 1,
            "expected": 3,
            "reason": "all card payments failing",
            "typed_at": typed_at,
        }
    )


def test_a_severity_change_made_offline_keeps_when_it_was_made_as_an_entry_does() -> None:
    # Made at 14:01:30 while the server was unreachable; the log records it at 14:04.
    log = Log()
    made = T0 + timedelta(minutes=1, seconds=30)
    body = decide(log.state, set_severity(made), "ic", USERS, now=NOW)
    assert isinstance(body, SeverityChanged)
    assert body.typed_at == made
    log.add("ic", body)
    # The timeline places it, and the severity history dates it, when it was made.
    change = log.state.timeline[-1]
    assert change.text.startswith("Severity SEV3 -> SEV1")
    assert log.events[-1].at > made
    assert change.when == made
    assert log.state.severity_history[-1].at == made


@pytest.mark.parametrize(
    "declared_at",
    [datetime(1, 1, 5, tzinfo=UTC), datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))],
    ids=["year 1", "year 1 at +14:00 (no UTC value)"],
)
def test_a_declaration_in_year_1_gives_a_window_not_an_overflow(declared_at: datetime) -> None:
    """A declaration time comes from the log, which a hostile server or a tampered file may
    fill: the window's start is then the calendar's, and the Scribe line is not crashed."""
    check_occurred_at(NOW, declared_at, NOW)
    assert plausible_typed_at(NOW, declared_at, NOW) == NOW
    with pytest.raises(DomainError) as refused:
        check_occurred_at(NOW + timedelta(days=1), declared_at, NOW)
    assert refused.value.code is ErrorCode.INVALID


def update_typed_at(typed_at: object) -> PostStatusUpdate:
    return PostStatusUpdate.model_validate(
        {"id": "u", "incident_id": 1, "status": "Rollback 60% done", "typed_at": typed_at}
    )


def test_a_status_update_posted_offline_keeps_when_it_was_written() -> None:
    log = Log()
    written = NOW - timedelta(minutes=5)
    body = decide(log.state, update_typed_at(written), "cl", USERS, now=NOW)
    assert isinstance(body, StatusUpdatePosted)
    assert body.typed_at == written


@pytest.mark.parametrize(
    "typed_at",
    ["0001-01-01T00:00:00Z", T0 - BACKDATE_LIMIT - timedelta(seconds=1), NOW + timedelta(hours=1)],
)
@pytest.mark.parametrize(
    ("command", "author", "kept"),
    [
        (set_severity, "ic", lambda body: body.severity == Severity.SEV1),
        (update_typed_at, "cl", lambda body: body.status == "Rollback 60% done"),
    ],
    ids=["severity change", "status update"],
)
def test_an_implausible_typed_at_is_dropped_and_the_write_kept(
    typed_at: datetime | str,
    command: Callable[[Any], IncidentCommand],
    author: str,
    kept: Callable[[Any], bool],
) -> None:
    # A console with a wrong clock (or a hostile one) must not lose the write or misdate it.
    log = Log()
    body = decide(log.state, command(typed_at), author, USERS, now=NOW)
    assert isinstance(body, SeverityChanged | StatusUpdatePosted)
    assert kept(body)
    assert body.typed_at is None


@pytest.mark.parametrize("typed_at", [[], {"at": "now"}, "yesterday", True, "2026-13-01T00:00:00Z"])
def test_a_status_update_typed_at_of_the_wrong_type_is_refused(typed_at: object) -> None:
    with pytest.raises(ValidationError):
        update_typed_at(typed_at)


def client_time_fields() -> list[tuple[type[BaseModel], str]]:
    """Every (command, field) typed as a client's time (`ClientTime`, or it or null), found from
    the commands themselves, so that a time field added later is abused here too."""
    return [
        (command, name)
        for command in get_args(Command)
        for name, field in command.model_fields.items()
        if ClientTime in (field.rebuild_annotation(), *get_args(field.annotation))
    ]


def test_the_client_time_fields_are_all_found() -> None:
    found = {(command.__name__, name) for command, name in client_time_fields()}
    assert found == {
        ("AddEntry", "occurred_at"),
        ("AddEntry", "typed_at"),
        ("SetSeverity", "typed_at"),
        ("PostStatusUpdate", "next_update_at"),
        ("PostStatusUpdate", "typed_at"),
    }


UNIX_SECONDS = [int(NOW.timestamp()), NOW.timestamp(), str(int(NOW.timestamp())), "+123", "2026"]
"""Times as Unix seconds, which lax pydantic would take: a number, or a string of one."""


@pytest.mark.parametrize("seconds", UNIX_SECONDS, ids=repr)
@pytest.mark.parametrize(
    ("command", "field"), client_time_fields(), ids=lambda c: getattr(c, "__name__", c)
)
def test_a_client_time_given_as_unix_seconds_is_refused(
    command: type[BaseModel], field: str, seconds: object
) -> None:
    """The protocol's times are ISO 8601 strings: a number is not read as Unix seconds (as lax
    pydantic would), in a lax read or the server's strict one; the error says what is wanted."""
    frame = {
        "type": command.model_fields["type"].default,
        "id": "t",
        "incident_id": 1,
        "text": "t",
        "severity": 1,
        "expected": 3,
        "reason": "",
        "status": "ok",
        field: seconds,
    }
    sent = {key: value for key, value in frame.items() if key in command.model_fields}
    with pytest.raises(ValidationError, match="ISO 8601 time string"):
        command.model_validate(sent)  # lax, as a command is read outside the server
    with pytest.raises(DomainError) as refused:
        parse_client_frame(json.dumps(sent))  # strict, as the server reads a frame
    assert refused.value.code is ErrorCode.INVALID
    assert refused.value.message.startswith(
        f"{field}: Input should be an ISO 8601 time string with a UTC offset"
    )
    if not isinstance(seconds, str):
        assert refused.value.message.endswith("(got a number)")


def test_a_client_time_as_an_iso_8601_string_is_still_taken() -> None:
    frame = parse_client_frame(
        json.dumps(
            {
                "type": "add_entry",
                "id": "t",
                "incident_id": 1,
                "text": "t",
                "typed_at": "2026-11-29T16:02:00+02:00",
            }
        )
    )
    assert isinstance(frame, AddEntry)
    assert frame.typed_at == datetime(2026, 11, 29, 14, 2, tzinfo=UTC)
