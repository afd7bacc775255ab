"""Replay: the console read-only on an incident as it stood after event N, from an export file,
from a live server's log, and from the key on a resolved incident."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from textual.app import App
from textual.widgets import Static

from tests.export.scripted import scripted_incident
from warroom.cli import actions
from warroom.cli.parser import build_parser
from warroom.client.session import new_id
from warroom.domain.commands import SetPhase
from warroom.domain.events import SeverityChanged
from warroom.domain.phase import Phase
from warroom.export.json_export import export_json
from warroom.tui.commands_table import Scope, commands_in
from warroom.tui.screens.help_screen import HelpScreen
from warroom.tui.screens.main import MainScreen
from warroom.tui.screens.replay import ReplayScreen
from warroom.tui.widgets.timeline_view import TimelineView

from .harness import Warroom, settle, until_state


def _text(app: App[None], selector: str) -> str:
    return str(app.screen.query_one(selector, Static).content)


def _replay(app: App[None]) -> ReplayScreen:
    assert isinstance(app.screen, ReplayScreen)
    return app.screen


async def test_replay_file_opens_an_export_steps_and_jumps_to_the_severity_change(
    tmp_path: Path,
) -> None:
    _, events = scripted_incident()
    export = tmp_path / "export.json"
    export.write_text(export_json(events))
    args = build_parser().parse_args(["replay", "--file", str(export), "--at", "2"])
    app = await actions.replay_app(args)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        screen = _replay(app)
        assert screen.seq == 2
        assert _text(app, "#sev-badge") == "SEV2"
        assert "REPLAY" in _text(app, "#header-connection")
        assert "event 2 of" in _text(app, "#replay-bar")
        assert "bob" not in _text(app, "#roster-pane")
        await pilot.press("right")
        assert screen.seq == 3
        assert "CL        ○ bob" in _text(app, "#roster-pane")  # event 3 named bob CL
        change = next(e.seq for e in events if isinstance(e.body, SeverityChanged))
        await pilot.press("s")
        await pilot.pause()
        assert screen.seq == change
        assert _text(app, "#sev-badge") == "SEV1"
        # The entry the step wrote is marked in the timeline.
        view = app.screen.query_one(TimelineView)
        assert view._highlighted == frozenset({change})
        await pilot.press("left")
        assert _text(app, "#sev-badge") == "SEV2"
        await pilot.press("end")
        assert screen.seq == len(events)
        assert screen.state is not None
        assert screen.state.incident.phase is Phase.RESOLVED
        await pilot.press("home")
        assert screen.seq == 1


def test_replay_binds_no_key_that_writes() -> None:
    keys = {spec.action for spec in commands_in(Scope.REPLAY)}
    assert all(spec.permission is None for spec in commands_in(Scope.REPLAY))
    bound = {binding.action for binding in ReplayScreen.BINDINGS}  # type: ignore[union-attr]
    assert bound == keys


async def test_replay_from_a_live_server_reads_the_whole_log_with_read_log(
    warroom: Warroom, incident: int
) -> None:
    server = warroom.server.url
    token = warroom.tokens["erin"]
    args = build_parser().parse_args(
        ["replay", str(incident), "--server", server, "--token", token, "--at", "1"]
    )
    app = await actions.replay_app(args)
    alice = await warroom.client("alice")
    log = await alice.read_log(incident)
    assert app.index.last == len(log) == 7
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        screen = _replay(app)
        assert _text(app, "#sev-badge") == "SEV2"  # as declared, before the escalation
        await pilot.press("end")
        assert _text(app, "#sev-badge") == "SEV1"
        assert screen.state is not None
        # The last step is the incident exactly as the live console folds it.
        live = await alice.follow(incident)
        assert screen.state.model_dump() == live.model_dump()


async def test_the_replay_key_opens_the_replay_on_a_resolved_incident_only(
    warroom: Warroom, incident: int
) -> None:
    alice = await warroom.client("alice")
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.check_action("replay_incident", ()) is False  # still open
        await alice.execute(
            SetPhase(
                id=new_id(), incident_id=incident, phase=Phase.RESOLVED, expected=Phase.DECLARED
            )
        )
        await until_state(app.client, incident, lambda s: not s.incident.phase.is_open)
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)  # the worker read the log and opened the replay
        screen = _replay(app)
        assert screen.seq == screen.index.last
        assert "REPLAY" in _text(app, "#header-connection")
        assert not gc.isenabled()  # the replay collects between its steps, never in one
        closed = weakref.ref(screen)
        del screen
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        await settle(pilot)
        # The collector's pace is the console's again, and the replay (its folded log) is freed.
        assert gc.isenabled()
        assert closed() is None


async def test_help_opened_in_a_replay_lists_the_replay_keys_first(tmp_path: Path) -> None:
    _, events = scripted_incident()
    export = tmp_path / "export.json"
    export.write_text(export_json(events))
    app = await actions.replay_app(build_parser().parse_args(["replay", "--file", str(export)]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        headings = [str(s.content) for s in app.screen.query(".help-heading").results(Static)]
        assert headings[0] == "Replay (read-only)"
        assert headings[1:3] == ["Anywhere", "Incident screen"]  # then the usual order
