"""Time is evidence: entries keep when they were typed, the timeline is in the order things
happened (dated when not today, back-dating marked), and unsent entries show in place at once."""

from __future__ import annotations

from datetime import UTC, timedelta

from textual.widgets import Input, Select

from warroom.client.outbox import Outbox
from warroom.client.session import WarroomClient, new_id
from warroom.client.updates import ConnectionStatus
from warroom.domain.commands import AddEntry
from warroom.domain.events import EntryAdded, SeverityChanged
from warroom.domain.projection import replay
from warroom.domain.severity import Severity
from warroom.export.markdown import render_markdown
from warroom.tui.app import WarroomApp, make_app
from warroom.tui.screens.severity_dialog import SeverityDialog
from warroom.tui.widgets.scribe_input import ScribeInput

from .harness import APP_NOW, T0, Warroom, settle, timeline_lines, until, until_state


async def test_an_entry_typed_offline_keeps_its_typed_time_and_place(
    warroom: Warroom, incident: int
) -> None:
    alice = await warroom.client("alice")
    # Alice writes at 14:22 by the server's clock; the Scribe types at 14:20 (his console's
    # clock) while the server is down, and the server only gets it at 14:25.
    warroom.clock.jump_to(APP_NOW + timedelta(minutes=2))
    await alice.execute(AddEntry(id=new_id(), incident_id=incident, text="alice at 14:22"))
    app = await warroom.app("dave", incident)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        client = app.client
        await warroom.server.close()
        await until(client, lambda: client.status is not ConnectionStatus.CONNECTED)

        await pilot.press("i")
        app.screen.query_one(ScribeInput).value = "dave typed offline"
        await pilot.press("enter")
        await settle(pilot)
        # Shown at once, before alice's later entry, as not sent yet.
        lines = timeline_lines(app)
        assert lines[-2].startswith("14:20:00  NOTE     dave")
        assert lines[-2].endswith("dave typed offline  (not sent yet)")
        assert lines[-1].endswith("alice at 14:22")

        warroom.clock.jump_to(APP_NOW + timedelta(minutes=5))
        await warroom.restart()
        await until_state(
            client, incident, lambda s: s.timeline[-1].text == "dave typed offline", timeout=20
        )
        await settle(pilot)
        # Settled in place: same row, same typed time, no longer marked.
        lines = timeline_lines(app)
        assert lines[-2] == "14:20:00  NOTE     dave         dave typed offline"
        assert lines[-1].endswith("alice at 14:22")

    events = await alice.read_log(incident)
    event = next(
        e for e in events if isinstance(e.body, EntryAdded) and e.body.text == "dave typed offline"
    )
    assert isinstance(event.body, EntryAdded)
    assert event.body.typed_at == APP_NOW  # when typed
    assert event.at >= APP_NOW + timedelta(minutes=5)  # when the server got it
    # The post-mortem lists it when it was typed, and says when it arrived.
    markdown = render_markdown(replay(events), events, tz=UTC, generated_at=APP_NOW)
    assert markdown.index("dave typed offline") < markdown.index("alice at 14:22")
    assert "Typed at 2024-05-02 14:20:00 UTC; reached the server at 2024-05-02 14:25" in markdown


async def test_a_severity_change_made_offline_keeps_when_it_was_made_like_an_entry(
    warroom: Warroom, incident: int
) -> None:
    alice = await warroom.client("alice")
    # Bob writes at 14:22 by the server's clock, before the server goes down: written after the
    # restart, his note raced alice's console resending its change.
    warroom.clock.jump_to(APP_NOW + timedelta(minutes=2))
    bob = await warroom.client("bob")
    await bob.execute(AddEntry(id=new_id(), incident_id=incident, text="bob at 14:22"))
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        client = app.client
        await warroom.server.close()
        await until(client, lambda: client.status is not ConnectionStatus.CONNECTED)

        # Alice (IC) lowers the severity at 14:20 by her console's clock, offline.
        await pilot.press("s")
        dialog = app.screen
        assert isinstance(dialog, SeverityDialog)
        dialog.query_one("#severity-level", Select).value = Severity.SEV2
        dialog.query_one("#reason", Input).value = "EU traffic recovered"
        dialog.query_one("#reason", Input).focus()
        await pilot.press("enter")
        await settle(pilot)

        # The server gets it at 14:25, after bob's note written at 14:22.
        warroom.clock.jump_to(APP_NOW + timedelta(minutes=5))
        await warroom.restart()
        await until_state(client, incident, lambda s: s.incident.severity is Severity.SEV2, 20)
        await settle(pilot)
        lines = timeline_lines(app)
        # In place at 14:20, before bob's later note, as an entry typed then would be.
        assert lines[-2].startswith("14:20:00  SYSTEM")
        assert "Severity SEV1 -> SEV2: EU traffic" in lines[-2]
        assert lines[-1].endswith("bob at 14:22")

    events = await alice.read_log(incident)
    event = next(e for e in events if isinstance(e.body, SeverityChanged))
    assert event.body == SeverityChanged(
        severity=Severity.SEV1, previous=Severity.SEV2, reason="all card payments failing"
    )  # the seeded change, sent by a script with no typing time
    change = next(e for e in reversed(events) if isinstance(e.body, SeverityChanged))
    assert isinstance(change.body, SeverityChanged)
    assert change.body.typed_at == APP_NOW  # when made
    assert change.at >= APP_NOW + timedelta(minutes=5)  # when the server got it
    assert replay(events).severity_history[-1].at == APP_NOW


async def test_the_timeline_is_in_the_order_things_happened_dated_and_backdating_marked(
    warroom: Warroom, incident: int
) -> None:
    alice = await warroom.client("alice")
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        before = len(timeline_lines(app))
        for text, occurred_at in (
            ("restarted ledger", T0 + timedelta(seconds=3, milliseconds=500)),
            ("deploy of v2.4.0 yesterday", T0 - timedelta(days=1, minutes=20)),
            ("same deploy three weeks before", T0 - timedelta(days=20)),
        ):
            await alice.execute(
                AddEntry(id=new_id(), incident_id=incident, text=text, occurred_at=occurred_at)
            )
        await until_state(app.client, incident, lambda s: len(s.timeline) >= before + 3)
        await settle(pilot)
        lines = timeline_lines(app)
        # The server takes back-dating up to 30 days before the declaration (time_window).
        assert lines[0].startswith("12 Apr 14:00:00~ NOTE     alice")
        assert lines[0].endswith("same deploy three weeks before")
        assert lines[1].startswith("01 May 13:40:00~ NOTE     alice")
        assert lines[1].endswith("deploy of v2.4.0 yesterday")
        # Between the entries recorded at 14:00:03 and 14:00:04, not at the end.
        times = [line[:8] for line in lines[2:]]
        assert times == sorted(times)
        row = next(n for n, line in enumerate(lines) if line.endswith("restarted ledger"))
        assert lines[row].startswith("14:00:03~ NOTE")
        assert row < len(lines) - 1


async def test_unsent_entries_from_an_earlier_run_show_at_once(
    warroom: Warroom, incident: int
) -> None:
    outbox_path = warroom.tmp / "dave-outbox.jsonl"
    url = warroom.server.url

    async def dave_console() -> WarroomApp:
        client = WarroomClient(
            url, warroom.tokens["dave"], outbox=Outbox(outbox_path), max_backoff=0.2
        )
        warroom.clients.append(client)
        app = make_app(client, incident_id=incident, clock=lambda: APP_NOW)
        await client.start(wait=False)
        return app

    # A first console queues an entry with the server down and quits...
    first = await dave_console()
    async with first.run_test(size=(120, 30)) as pilot:
        await until_state(first.client, incident, lambda s: s.seq > 0)
        await settle(pilot)
        await warroom.server.close()
        await until(first.client, lambda: first.client.status is not ConnectionStatus.CONNECTED)
        await pilot.press("i")
        first.screen.query_one(ScribeInput).value = "typed before the laptop died"
        await pilot.press("enter")
        await settle(pilot)
    await first.client.close()

    # ...the next console, on the same outbox, shows it before the server is even back...
    app = await dave_console()
    client = app.client
    assert [p.command.text for p in app.pending.for_incident(incident)] == [
        "typed before the laptop died"
    ]
    # ...and settles it once the server has it.
    await warroom.restart()
    async with app.run_test(size=(120, 30)) as pilot:
        await until_state(
            client, incident, lambda s: s.timeline[-1].text == "typed before the laptop died"
        )
        await until(client, lambda: client.unsent == 0)
        await settle(pilot)
        assert not app.pending
        assert timeline_lines(app)[-1].endswith(
            "NOTE     dave         typed before the laptop died"
        )
