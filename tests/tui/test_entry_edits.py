"""Amending and striking entries from the detail view, and adding and owning checklist items,
against the real server: offered only to those the server would accept them from."""

from __future__ import annotations

from textual.widgets import Input, OptionList, TextArea

from warroom.client.session import WarroomClient, new_id
from warroom.domain.commands import AddEntry, StrikeEntry
from warroom.domain.timeline import EntryKind
from warroom.tui.app import WarroomApp
from warroom.tui.screens.amend_dialog import AmendDialog
from warroom.tui.screens.entry_detail import EntryDetailScreen
from warroom.tui.screens.main import MainScreen
from warroom.tui.screens.owner_dialog import OwnerDialog
from warroom.tui.screens.prompt_dialog import PromptDialog
from warroom.tui.widgets.checklist_pane import ChecklistPane

from .conftest import Notice
from .harness import Warroom, settle, static_text, timeline_lines, until, until_state


async def note(client: WarroomClient, incident: int, text: str) -> int:
    """Post a note as `client`'s user; returns the entry's id."""
    ack = await client.execute(
        AddEntry(id=new_id(), incident_id=incident, kind=EntryKind.NOTE, text=text)
    )
    return int(ack.seq)


def detail_of(app: WarroomApp) -> EntryDetailScreen:
    screen = app.screen
    assert isinstance(screen, EntryDetailScreen)
    return screen


async def test_the_author_amends_their_entry_and_sees_the_history(
    warroom: Warroom, incident: int
) -> None:
    carol = await warroom.client("carol")
    entry_id = await note(carol, incident, "payments-api pods crash-looping")
    app = await warroom.app("carol", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # the newest entry: carol's note
        detail = detail_of(app)
        assert detail.entry.id == entry_id
        assert detail.check_action("amend_entry", ()) is True
        await pilot.press("e")
        dialog = app.screen
        assert isinstance(dialog, AmendDialog)
        dialog.query_one("#text", TextArea).load_text("payments-api pods OOM-killed [red]x[/]")
        await pilot.press("tab", "enter")  # from the text to the Amend button

        await until_state(app.client, incident, lambda s: bool(s.timeline[-1].revisions))
        await settle(pilot)
        assert app.screen is detail
        shown = static_text(app, "#entry-text")
        assert "payments-api pods OOM-killed [red]x[/]" in shown
        assert "Earlier wording (until" in shown
        assert shown.rstrip().endswith("payments-api pods crash-looping")
        await pilot.press("escape")
        assert "payments-api pods OOM-killed [red]x[/]" in timeline_lines(app)[-1]


async def test_ic_strikes_someone_elses_entry_with_a_reason(
    warroom: Warroom, incident: int
) -> None:
    carol = await warroom.client("carol")
    await note(carol, incident, "restart every pod")
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        detail = detail_of(app)
        assert detail.check_action("strike_entry", ()) is True
        await pilot.press("x")
        dialog = app.screen
        assert isinstance(dialog, PromptDialog)
        dialog.query_one("#answer", Input).value = "wrong cluster"
        await pilot.press("enter")

        await until_state(app.client, incident, lambda s: s.timeline[-1].struck)
        await settle(pilot)
        assert app.screen is detail
        assert "Struck: wrong cluster" in static_text(app, "#entry-text")
        # Struck is final: neither key is offered any more.
        assert detail.check_action("strike_entry", ()) is False
        assert detail.check_action("amend_entry", ()) is False


async def test_cl_and_observer_are_not_offered_to_change_someone_elses_entry(
    warroom: Warroom, incident: int
) -> None:
    carol = await warroom.client("carol")
    await note(carol, incident, "checked the load balancer")
    for user in ("bob", "erin"):
        app = await warroom.app(user, incident)
        async with app.run_test(size=(160, 40)) as pilot:
            await settle(pilot)
            await pilot.press("enter")
            detail = detail_of(app)
            assert detail.check_action("amend_entry", ()) is False
            assert detail.check_action("strike_entry", ()) is False
            await pilot.press("e", "x")
            assert app.screen is detail  # no dialog opened
            assert not detail.active_bindings.keys() & {"e", "x"}


async def test_a_refusal_is_shown_and_nothing_changes(
    warroom: Warroom, incident: int, notices: list[Notice]
) -> None:
    carol = await warroom.client("carol")
    entry_id = await note(carol, incident, "cache flushed")
    app = await warroom.app("carol", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        notices.clear()  # only what follows counts
        await pilot.press("enter", "e")
        assert isinstance(app.screen, AmendDialog)
        # The IC strikes the entry while carol is still rewording it.
        alice = await warroom.client("alice")
        await alice.execute(
            StrikeEntry(id=new_id(), incident_id=incident, entry_id=entry_id, reason="dup")
        )
        app.screen.query_one("#text", TextArea).load_text("cache flushed twice")
        await pilot.press("tab", "enter")
        await pilot.pause()
        # Sent, then refused: the outbox empties when the refusal arrives.
        await until(app.client, lambda: app.client.unsent == 0)
        await settle(pilot)
        assert [n.message for n in notices] == [
            f"Entry {entry_id} is struck and cannot be changed."
        ]
        entry = app.client.states[incident].entry(entry_id)
        assert entry is not None
        assert entry.text == "cache flushed"
        assert all(revision.changed_by != "carol" for revision in entry.revisions)


async def test_tl_adds_an_item_and_names_its_owner(warroom: Warroom, incident: int) -> None:
    app = await warroom.app("carol", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        checklist = app.screen.query_one(ChecklistPane)
        checklist.focus()
        count = checklist.row_count
        await pilot.press("plus")
        dialog = app.screen
        assert isinstance(dialog, PromptDialog)
        dialog.query_one("#answer", Input).value = "Disable the [b]fraud[/b] check"
        await pilot.press("enter")
        await until_state(app.client, incident, lambda s: len(s.checklist) == count + 1)
        await settle(pilot)
        assert checklist.row_count == count + 1
        assert str(checklist.get_row_at(count)[3]) == "Disable the [b]fraud[/b] check"

        checklist.move_cursor(row=count)
        await pilot.press("o")
        owners = app.screen
        assert isinstance(owners, OwnerDialog)
        options = owners.query_one("#owner", OptionList)
        assert options.highlighted == 0  # nobody owns it yet
        while options.highlighted_option is None or options.highlighted_option.id != "dave":
            await pilot.press("down")
        await pilot.press("enter")
        await until_state(app.client, incident, lambda s: s.checklist[-1].owner == "dave")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert str(checklist.get_row_at(count)[1]) == "dave"

        await pilot.press("o")  # and clear it again: "nobody" is first
        assert isinstance(app.screen, OwnerDialog)
        await pilot.press("home", "enter")
        await until_state(app.client, incident, lambda s: s.checklist[-1].owner is None)
        await settle(pilot)
        assert str(checklist.get_row_at(count)[1]) == "—"


async def test_cl_is_not_offered_checklist_edits(warroom: Warroom, incident: int) -> None:
    app = await warroom.app("bob", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        checklist = app.screen.query_one(ChecklistPane)
        checklist.focus()
        assert checklist.check_action("add_checklist_item", ()) is False
        assert checklist.check_action("set_checklist_item_owner", ()) is False
        await pilot.press("plus", "o")
        assert isinstance(app.screen, MainScreen)


async def test_records_are_not_offered_even_to_the_ic(warroom: Warroom, incident: int) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # the newest entry: the server's checklist line
        detail = detail_of(app)
        assert detail.entry.kind is EntryKind.SYSTEM
        assert detail.check_action("amend_entry", ()) is False
        await pilot.press("escape", "up", "enter")  # alice's own decision
        detail = detail_of(app)
        assert detail.entry.kind is EntryKind.DECISION
        assert detail.check_action("amend_entry", ()) is True


async def test_a_lone_carriage_return_in_an_entry_shows_as_a_line_break_in_its_detail(
    warroom: Warroom, incident: int
) -> None:
    carol = await warroom.client("carol")
    await note(carol, incident, "drained node-1\rdrained node-2\r\ndrained node-3")
    app = await warroom.app("carol", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # the newest entry: carol's note
        detail_of(app)
        shown = static_text(app, "#entry-text")
        assert "drained node-1\ndrained node-2\ndrained node-3" in shown
        assert "\r" not in shown
        await pilot.press("escape")
        # On the timeline's one row, each break is the visible return symbol.
        assert "drained node-1 \u23ce drained node-2 \u23ce drained" in " ".join(
            timeline_lines(app)
        )
