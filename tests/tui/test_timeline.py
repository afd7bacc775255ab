"""The timeline pane: filters, search, amended and struck entries, details, following."""

from __future__ import annotations

from textual.widgets import Select

from warroom.client.session import new_id
from warroom.domain.commands import AddEntry, AmendEntry, StrikeEntry
from warroom.domain.timeline import EntryKind
from warroom.tui.screens.entry_detail import EntryDetailScreen
from warroom.tui.widgets.timeline_pane import TimelinePane
from warroom.tui.widgets.timeline_view import TimelineView

from .harness import Warroom, settle, timeline_lines, until_state


async def add(client: object, incident: int, text: str, kind: EntryKind = EntryKind.NOTE) -> int:
    ack = await client.execute(  # type: ignore[attr-defined]
        AddEntry(id=new_id(), incident_id=incident, kind=kind, text=text)
    )
    return int(ack.seq)


async def test_amended_and_struck_entries_are_marked(warroom: Warroom, incident: int) -> None:
    alice = await warroom.client("alice")
    amended = await add(alice, incident, "db failover done")
    struck = await add(alice, incident, "restart all pods", EntryKind.ACTION)
    await alice.execute(AmendEntry(id=new_id(), incident_id=incident, entry_id=amended,
                                   text="db failover done (eu-west-1)"))  # fmt: skip
    await alice.execute(StrikeEntry(id=new_id(), incident_id=incident, entry_id=struck,
                                    reason="wrong cluster"))  # fmt: skip
    app = await warroom.app("dave", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await until_state(app.client, incident, lambda s: bool(s.timeline[-1].struck))
        await settle(pilot)
        lines = timeline_lines(app)
        assert lines[-2].endswith("db failover done (eu-west-1)  (amended)")
        assert lines[-1].endswith("restart all pods  (struck: wrong cluster)")
        view = app.screen.query_one(TimelineView)
        struck_text = next(s for s in view.render_line(len(lines) - 1) if "restart" in s.text)
        assert struck_text.style is not None
        assert struck_text.style.strike


async def test_filter_by_kind_and_search(warroom: Warroom, incident: int) -> None:
    alice = await warroom.client("alice")
    await add(alice, incident, "page the DBA", EntryKind.ACTION)
    await add(alice, incident, "ledger lag 40s cid:abc")
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await until_state(app.client, incident, lambda s: s.timeline[-1].text.startswith("ledger"))
        await settle(pilot)
        pane = app.screen.query_one(TimelinePane)
        await pilot.press("f")
        assert app.screen.query_one("#timeline-kind", Select).has_focus
        app.screen.query_one("#timeline-kind", Select).value = EntryKind.DECISION
        await settle(pilot)
        assert [line[10:18] for line in timeline_lines(app)] == ["DECISION"]
        assert str(pane.border_title).endswith("1 of 9 entries")
        app.screen.query_one("#timeline-kind", Select).clear()
        await pilot.press("slash", *"DBA")
        await settle(pilot)
        assert len(timeline_lines(app)) == 1
        assert timeline_lines(app)[0].endswith("page the DBA")
        await pilot.press("enter")  # from the search box to the results
        assert app.screen.query_one(TimelineView).has_focus


async def test_enter_shows_the_whole_entry(warroom: Warroom, incident: int) -> None:
    alice = await warroom.client("alice")
    long_text = "line one [b]not bold[/b]\n" + "word " * 100
    await add(alice, incident, long_text)
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await until_state(app.client, incident, lambda s: s.timeline[-1].text == long_text)
        await settle(pilot)
        await pilot.press("enter")
        detail = app.screen
        assert isinstance(detail, EntryDetailScreen)
        shown = str(detail.query_one("Static").content)  # type: ignore[attr-defined]
        assert "line one [b]not bold[/b]\nword word" in shown
        assert "NOTE  #" in shown
        await pilot.press("escape")
        assert not isinstance(app.screen, EntryDetailScreen)


async def test_follows_new_entries_unless_the_reader_moved_up(
    warroom: Warroom, incident: int
) -> None:
    alice = await warroom.client("alice")
    for n in range(60):
        await add(alice, incident, f"backlog {n}")
    app = await warroom.app("dave", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await until_state(app.client, incident, lambda s: s.timeline[-1].text == "backlog 59")
        await settle(pilot)
        view = app.screen.query_one(TimelineView)
        pane = app.screen.query_one(TimelinePane)
        assert view.is_following
        assert timeline_lines(app)[-1].endswith("backlog 59")

        await add(alice, incident, "new while following")
        await until_state(app.client, incident, lambda s: s.timeline[-1].text.startswith("new"))
        await settle(pilot)
        assert timeline_lines(app)[-1].endswith("new while following")

        view.focus()
        await pilot.press("pageup")
        before = timeline_lines(app)
        await add(alice, incident, "new while reading")
        await until_state(app.client, incident, lambda s: s.timeline[-1].text.endswith("reading"))
        await settle(pilot)
        assert timeline_lines(app) == before  # the reader's place is kept
        assert pane.border_subtitle == "↓ 1 new below · End follows"

        await pilot.press("end")
        await settle(pilot)
        assert timeline_lines(app)[-1].endswith("new while reading")
        assert pane.border_subtitle == ""
