"""Picking, declaring and switching incidents; role-based offering; keymaps; the palette."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input

from warroom.client.session import new_id
from warroom.config import AlertmanagerSettings, PrometheusSettings, ServerConfig
from warroom.domain.commands import DeclareIncident
from warroom.domain.severity import Severity
from warroom.tui.app import make_app
from warroom.tui.commands_table import BINDING_IDS, COMMANDS, Scope
from warroom.tui.palette import WarroomCommands
from warroom.tui.screens.main import MainScreen
from warroom.tui.screens.picker import PickerScreen
from warroom.tui.screens.projector import ProjectorScreen
from warroom.tui.screens.replay import ReplayScreen
from warroom.tui.screens.severity_dialog import SeverityDialog
from warroom.tui.widgets.scribe_input import ScribeInput

from .conftest import Notice
from .harness import APP_NOW, Warroom, settle, static_text, until


@pytest.fixture
def server_config() -> ServerConfig:
    """A server offering triage and metrics (never polled: the harness's clock is injected),
    so what is offered here depends on roles only."""
    return ServerConfig(
        alertmanager=AlertmanagerSettings(url="http://127.0.0.1:9"),
        prometheus=PrometheusSettings(url="http://127.0.0.1:9"),
    )


async def palette_titles(screen: object) -> list[str]:
    provider = WarroomCommands(screen)  # type: ignore[arg-type]
    return [str(hit.prompt) async for hit in provider.discover()]


def footer_keys(app: object) -> set[str]:
    screen = app.screen  # type: ignore[attr-defined]
    return {
        active.binding.action
        for active in screen.active_bindings.values()
        if active.binding.show and active.enabled
    }


async def test_without_an_incident_the_picker_lists_them_and_declares_one(
    warroom: Warroom, incident: int
) -> None:
    alice = await warroom.client("alice")
    await alice.execute(
        DeclareIncident(id=new_id(), title="[b]Search[/b] slow \\[x]", severity=Severity.SEV3)
    )
    app = make_app(alice, clock=lambda: APP_NOW)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, PickerScreen)
        table = app.screen.query_one("#incident-list", DataTable)
        rows = {str(table.get_row_at(i)[0]): table.get_row_at(i) for i in range(table.row_count)}
        assert str(rows["2"][3]) == "[b]Search[/b] slow \\[x]"  # shown literally
        assert str(rows[str(incident)][1]).strip() == "SEV1"

        await pilot.press("ctrl+n")
        assert app.screen.query_one("#declare-title", Input).has_focus
        app.screen.query_one("#declare-title", Input).value = "Login failing"
        await pilot.press("enter")
        await until(alice, lambda: 3 in alice.states)
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.incident_id == 3
        assert static_text(app, "#header-title") == "#3 Login failing"
        assert str(app.screen.query_one("#sev-badge").content) == "SEV2"  # type: ignore[attr-defined]


async def test_switching_incidents_from_the_incident_screen(
    warroom: Warroom, incident: int
) -> None:
    alice = await warroom.client("alice")
    await alice.execute(DeclareIncident(id=new_id(), title="Search slow", severity=Severity.SEV3))
    app = make_app(alice, incident_id=incident, clock=lambda: APP_NOW)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        await pilot.press("escape")  # back to the open incident
        assert isinstance(app.screen, MainScreen)
        await pilot.press("ctrl+o")
        await settle(pilot)
        table = app.screen.query_one("#incident-list", DataTable)
        row = next(i for i in range(table.row_count) if str(table.get_row_at(i)[0]) == "2")
        table.move_cursor(row=row)
        table.focus()
        await pilot.press("enter")
        await until(alice, lambda: 2 in alice.states)
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.incident_id == 2
        assert [type(s).__name__ for s in app.screen_stack][1:] == ["MainScreen"]
        assert incident not in alice.states  # the old incident is no longer followed
        assert static_text(app, "#header-title") == "#2 Search slow"


async def test_an_observer_is_not_offered_what_their_role_may_not_do(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("erin", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        for action in ("change_severity", "change_phase", "assign_role", "offer_ic_handoff",
                       "accept_ic_role", "focus_scribe_input"):  # fmt: skip
            assert screen.check_action(action, ()) is False, action
        titles = await palette_titles(screen)
        assert "Severity" not in titles
        assert "Write" not in titles
        assert "Search" in titles
        assert "change_severity" not in footer_keys(app)
        assert app.screen.query_one(ScribeInput).disabled
        await pilot.press("s")  # nothing happens: the key is not offered
        assert app.screen is screen


async def test_the_ic_is_offered_the_ic_actions(warroom: Warroom, incident: int) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        titles = await palette_titles(app.screen)
        assert {"Severity", "Phase", "Assign", "Hand off IC", "Write"} <= set(titles)
        assert {"Resolve", "Update", "Public", "Comms", "Pin metrics", "Add service"} <= set(titles)
        assert "Accept IC" not in titles
        assert "Remove service" not in titles  # the incident lists none yet
        assert {"change_severity", "assign_role", "focus_scribe_input"} <= footer_keys(app)


async def test_the_cl_is_offered_updates_but_not_the_ics_decisions(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("bob", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        titles = set(await palette_titles(app.screen))
        assert {"Update", "Public", "Comms", "Pin metrics", "Triage", "Export"} <= titles
        assert not {"Resolve", "Severity", "Add service"} & titles
        await pilot.press("c")
        await settle(pilot)
        comms = set(await palette_titles(app.screen))
        assert {"Public", "Update", "Back"} <= comms
        assert not {"Approve", "Send back"} & comms


async def test_the_scribe_may_write_but_not_change_severity(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("dave", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert app.screen.check_action("focus_scribe_input", ())
        assert not app.screen.check_action("change_severity", ())
        assert not app.screen.query_one(ScribeInput).disabled


async def test_a_keymap_moves_a_binding(warroom: Warroom, incident: int) -> None:
    client = await warroom.client("alice")
    app = make_app(client, incident_id=incident, keymap={"severity.change": "ctrl+s"},
                   clock=lambda: APP_NOW)  # fmt: skip
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        assert isinstance(app.screen, MainScreen)
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, SeverityDialog)


def test_every_command_has_a_unique_binding_id_and_help() -> None:
    assert len(BINDING_IDS) == len(COMMANDS)
    for spec in COMMANDS:
        assert spec.help, spec.binding_id
        assert spec.title, spec.binding_id
    # Each action is defined on the widget that owns its scope.
    from warroom.tui.app import WarroomApp
    from warroom.tui.screens.comms import CommsScreen
    from warroom.tui.screens.dialog_base import FormDialog
    from warroom.tui.screens.entry_detail import EntryDetailScreen
    from warroom.tui.screens.triage import TriageScreen
    from warroom.tui.widgets.checklist_pane import ChecklistPane
    from warroom.tui.widgets.link_list import LinkList
    from warroom.tui.widgets.timeline_pane import SearchInput
    from warroom.tui.widgets.timeline_view import TimelineView

    owners: dict[Scope, type] = {
        Scope.APP: WarroomApp,
        Scope.SEARCH: SearchInput,
        Scope.MAIN: MainScreen,
        Scope.TIMELINE: TimelineView,
        Scope.CHECKLIST: ChecklistPane,
        Scope.SCRIBE: ScribeInput,
        Scope.PICKER: PickerScreen,
        Scope.TRIAGE: TriageScreen,
        Scope.COMMS: CommsScreen,
        Scope.LINKS: LinkList,
        Scope.DIALOG: FormDialog,
        Scope.ENTRY: EntryDetailScreen,
        Scope.PROJECTOR: ProjectorScreen,
        Scope.REPLAY: ReplayScreen,
    }
    for spec in COMMANDS:
        if spec.action.startswith("app."):
            continue
        assert hasattr(owners[spec.scope], f"action_{spec.action}"), spec.binding_id


async def test_an_unknown_incident_says_so_and_shows_the_picker(
    warroom: Warroom, incident: int, notices: list[Notice]
) -> None:
    app = await warroom.app("alice", 99)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, PickerScreen)
        assert [n.message for n in notices] == ["no incident 99"]
