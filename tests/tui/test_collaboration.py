"""Several consoles on one server: what one does shows in the other; offline work is not lost."""

from __future__ import annotations

from warroom.client.session import new_id
from warroom.client.updates import ConnectionStatus
from warroom.domain.checklist import ItemState
from warroom.domain.commands import AddEntry
from warroom.domain.events import EntryAdded
from warroom.domain.timeline import EntryKind
from warroom.tui.widgets.checklist_pane import ChecklistPane
from warroom.tui.widgets.scribe_input import ScribeInput
from warroom.tui.widgets.timeline_view import TimelineView

from .harness import Warroom, settle, static_text, timeline_lines, until, until_state

HOSTILE = (
    "[red]alarm[/red] [link=https://evil.example]login[/link] "
    "\x1b[2J\x1b[H\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\ "
    "\x9b31m \u202eevil\u202c \u2066x\u2069 end"
)


async def test_an_entry_typed_in_one_console_appears_in_the_other(
    warroom: Warroom, incident: int
) -> None:
    scribe_app = await warroom.app("dave", incident)
    ic_app = await warroom.app("alice", incident)
    async with scribe_app.run_test(size=(160, 40)) as scribe, ic_app.run_test(size=(160, 40)) as ic:
        await settle(scribe)
        await settle(ic)
        await scribe.press("i")
        scribe_app.screen.query_one(ScribeInput).value = "/action restarting ledger pods"
        await scribe.press("enter")
        await until_state(
            ic_app.client, incident, lambda s: s.timeline[-1].text == "restarting ledger pods"
        )
        await settle(ic)
        assert timeline_lines(ic_app)[-1].endswith("ACTION   dave         restarting ledger pods")


async def test_a_tick_in_one_console_appears_in_the_other(warroom: Warroom, incident: int) -> None:
    tl_app = await warroom.app("carol", incident)
    ic_app = await warroom.app("alice", incident)
    async with tl_app.run_test(size=(160, 40)) as tl, ic_app.run_test(size=(160, 40)) as ic:
        await settle(tl)
        await settle(ic)
        tl_app.screen.query_one(ChecklistPane).focus()
        await tl.press("down", "down", "x")  # item 3: not applicable
        await until_state(
            ic_app.client, incident, lambda s: s.checklist[2].state is ItemState.NOT_APPLICABLE
        )
        await settle(ic)
        row = [str(cell) for cell in ic_app.screen.query_one(ChecklistPane).get_row_at(2)]
        assert row[0] == "- n/a"
        assert row[2].startswith("carol ")


async def test_offline_entries_wait_in_the_outbox_and_are_stored_once(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("dave", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        client = app.client
        await warroom.server.close()
        await until(client, lambda: client.status is not ConnectionStatus.CONNECTED)
        await settle(pilot)
        assert static_text(app, "#header-connection").startswith("○ cannot reach")

        await pilot.press("i")
        scribe = app.screen.query_one(ScribeInput)
        for n in (1, 2, 3):
            scribe.value = f"offline note {n}"
            await pilot.press("enter")
            assert scribe.value == ""
        await settle(pilot)
        # Greyed in the timeline and counted in the header until the server has them.
        assert [line[8:] for line in timeline_lines(app)[-3:]] == [
            f"  NOTE     dave         offline note {n}  (not sent yet)" for n in (1, 2, 3)
        ]
        corner = static_text(app, "#header-connection")
        assert corner == "○ cannot reach server\nretrying · 3 unsent"

        await warroom.restart()
        await until_state(
            client, incident, lambda s: s.timeline[-1].text == "offline note 3", timeout=20
        )
        await until(client, lambda: client.unsent == 0)
        await settle(pilot)
        assert static_text(app, "#header-connection") == "● connected"
        assert "(not sent yet)" not in "\n".join(timeline_lines(app))

    log = await client.read_log(incident)
    texts = [e.body.text for e in log if isinstance(e.body, EntryAdded)]
    for n in (1, 2, 3):
        assert texts.count(f"offline note {n}") == 1


async def test_markup_and_escape_codes_from_one_client_render_literally_in_another(
    warroom: Warroom, incident: int
) -> None:
    alice = await warroom.client("alice")
    app = await warroom.app("dave", incident)
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        await alice.execute(
            AddEntry(id=new_id(), incident_id=incident, kind=EntryKind.NOTE, text=HOSTILE)
        )
        await until_state(app.client, incident, lambda s: s.timeline[-1].text == HOSTILE)
        await settle(pilot)
        line = timeline_lines(app)[-1]
        assert "[red]alarm[/red] [link=https://evil.example]login[/link]" in line
        assert "␛[2J␛[H␛]8;;https://evil.example␛\\click␛]8;;␛\\" in line
        assert line.endswith("evil x end")
        for forbidden in ("\x1b", "\x9b", "\u202e", "\u2066", "\u2069"):
            assert forbidden not in line
        # Nothing in the rendered segments carries a link or a style from the text.
        view = app.screen.query_one(TimelineView)
        strip = view.render_line(len(timeline_lines(app)) - 1)
        assert all(segment.style is None or segment.style.link is None for segment in strip)


async def test_the_app_opens_while_the_server_is_down_and_catches_up(
    warroom: Warroom, incident: int
) -> None:
    from warroom.tui.app import make_app

    from .harness import APP_NOW

    # A client that lost its server before the app opened (start(wait=False) against a server
    # that never answered gives up in the current client; see the report).
    client = await warroom.client("alice")
    await warroom.server.close()
    await until(client, lambda: client.status is ConnectionStatus.RECONNECTING)
    app = make_app(client, incident_id=incident, clock=lambda: APP_NOW)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        assert static_text(app, "#header-title") == "Loading incident…"
        assert static_text(app, "#header-connection") == "○ cannot reach server\nretrying"
        assert app.screen.query_one(ScribeInput).disabled  # roles unknown until it loads
        await warroom.restart()
        await until_state(client, incident, lambda s: s.seq > 0, timeout=20)
        await settle(pilot)
        assert static_text(app, "#header-title").startswith(f"#{incident} Payment processing down ")
        assert static_text(app, "#header-connection") == "● connected"
