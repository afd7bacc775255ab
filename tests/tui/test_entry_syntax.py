"""Unit tests for the Scribe line parser: kinds, back-dating, Correlation-IDs, mentions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from warroom.domain.timeline import EntryKind
from warroom.tui.entry_syntax import EntrySyntaxError, ParsedEntry, parse_entry

CET = timezone(timedelta(hours=1))
NOW = datetime(2024, 5, 2, 15, 30, tzinfo=CET)


def test_plain_text_is_a_note() -> None:
    assert parse_entry("  checking dashboards  ", NOW) == ParsedEntry(
        EntryKind.NOTE, "checking dashboards"
    )


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("/decision roll back", EntryKind.DECISION),
        ("/action page the DBA", EntryKind.ACTION),
        ("/todo write post-mortem", EntryKind.TODO),
        ("/status still degraded", EntryKind.STATUS),
        ("/note just a note", EntryKind.NOTE),
        ("/DECISION shouting works too", EntryKind.DECISION),
    ],
)
def test_prefix_picks_the_kind(line: str, kind: EntryKind) -> None:
    parsed = parse_entry(line, NOW)
    assert parsed.kind is kind
    assert not parsed.text.startswith("/")


def test_unknown_kind_is_refused_rather_than_posted_as_a_note() -> None:
    with pytest.raises(EntrySyntaxError, match="unknown kind '/decison'"):
        parse_entry("/decison roll back", NOW)


def test_a_path_is_text_not_a_kind() -> None:
    assert parse_entry("/var/log is full", NOW).text == "/var/log is full"


def test_kinds_written_by_the_server_cannot_be_typed() -> None:
    with pytest.raises(EntrySyntaxError):
        parse_entry("/system fake", NOW)


def test_time_at_the_start_back_dates_to_today_in_local_time_as_utc() -> None:
    parsed = parse_entry("14:02 /decision roll back", NOW)
    assert parsed.occurred_at == datetime(2024, 5, 2, 13, 2, tzinfo=UTC)
    assert parsed.kind is EntryKind.DECISION
    assert parsed.text == "roll back"


def test_kind_then_time_works_too_and_seconds_are_allowed() -> None:
    parsed = parse_entry("/action 09:15:30 restarted pods", NOW)
    assert parsed.occurred_at == datetime(2024, 5, 2, 8, 15, 30, tzinfo=UTC)
    assert parsed.text == "restarted pods"


def test_a_time_later_than_now_means_yesterday() -> None:
    parsed = parse_entry("23:50 alert fired", NOW)
    assert parsed.occurred_at == datetime(2024, 5, 1, 22, 50, tzinfo=UTC)


def test_a_time_equal_to_now_is_today() -> None:
    parsed = parse_entry("15:30 now", NOW)
    assert parsed.occurred_at == datetime(2024, 5, 2, 14, 30, tzinfo=UTC)


def test_time_inside_the_text_is_not_a_back_date() -> None:
    parsed = parse_entry("deploy at 14:02 failed", NOW)
    assert parsed.occurred_at is None
    assert parsed.text == "deploy at 14:02 failed"


def test_impossible_time_is_refused() -> None:
    with pytest.raises(EntrySyntaxError, match="not a time of day"):
        parse_entry("25:61 nope", NOW)


def test_correlation_id_anywhere_is_taken_out_of_the_text() -> None:
    parsed = parse_entry("/action retry failed for cid:req-8f3a, paging DBA", NOW)
    assert parsed.correlation_id == "req-8f3a"
    assert parsed.text == "retry failed for, paging DBA"


def test_correlation_id_at_the_start_and_trailing_full_stop() -> None:
    assert parse_entry("cid:abc123 timeout", NOW) == ParsedEntry(
        EntryKind.NOTE, "timeout", correlation_id="abc123"
    )
    parsed = parse_entry("timeouts seen in cid:abc123.", NOW)
    assert (parsed.text, parsed.correlation_id) == ("timeouts seen in.", "abc123")


def test_two_correlation_ids_are_refused() -> None:
    with pytest.raises(EntrySyntaxError, match="only one"):
        parse_entry("cid:a cid:b", NOW)


@pytest.mark.parametrize("line", ["cid: oops", "cid:-bad", "see cid:a<b"])
def test_malformed_correlation_ids_are_refused(line: str) -> None:
    with pytest.raises(EntrySyntaxError):
        parse_entry(line, NOW)


def test_mentions_stay_in_the_text() -> None:
    assert parse_entry("@carol please roll back", NOW).text == "@carol please roll back"


@pytest.mark.parametrize("line", ["", "   ", "/decision", "14:02", "14:02 /todo cid:x1"])
def test_an_entry_needs_text(line: str) -> None:
    with pytest.raises(EntrySyntaxError, match="no text"):
        parse_entry(line, NOW)


def test_markup_and_escapes_are_kept_as_typed() -> None:
    assert parse_entry("[red]x[/red] \x1b[31m", NOW).text == "[red]x[/red] \x1b[31m"


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_entry("x", NOW.replace(tzinfo=None))
