"""Each action from the keyboard reaches the real server, and its outcome shows on screen."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.widgets import Input, Select

from warroom.client.session import new_id
from warroom.domain.checklist import ItemState
from warroom.domain.commands import SetSeverity
from warroom.domain.roles import Role
from warroom.domain.severity import Severity
from warroom.domain.timeline import EntryKind
from warroom.tui.screens.role_dialog import RoleDialog
from warroom.tui.screens.severity_dialog import SeverityDialog
from warroom.tui.widgets.checklist_pane import ChecklistPane
from warroom.tui.widgets.scribe_input import PLACEHOLDER, ScribeInput

from .conftest import Notice
from .harness import Warroom, settle, static_text, timeline_lines, until, until_state


async def test_scribe_posts_an_entry_with_kind_back_date_correlation_id_and_mention(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("dave", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        scribe = app.screen.query_one(ScribeInput)
        assert scribe.has_focus
        scribe.value = "/decision 14:02 Fail over to eu-west cid:req-77 @carol agreed"
        await pilot.press("enter")
        # The line clears at once; typing goes on while the server answers.
        assert scribe.value == ""
        assert scribe.has_focus

        await until_state(app.client, incident, lambda s: s.timeline[-1].kind is EntryKind.DECISION)
        await settle(pilot)
        entry = app.client.states[incident].timeline[-1]
        assert entry.author == "dave"
        assert entry.text == "Fail over to eu-west @carol agreed"
        assert entry.correlation_id == "req-77"
        assert entry.occurred_at == datetime(2024, 5, 2, 14, 2, tzinfo=UTC)
        assert entry.mentions == ["carol"]
        assert timeline_lines(app)[-1] == (
            "14:02:00~ DECISION dave         cid:req-77 Fail over to eu-west @carol agreed"
        )
        assert not app.pending


async def test_the_scribe_line_names_its_key_until_it_has_focus(
    warroom: Warroom, incident: int
) -> None:
    # Unfocused, letters typed at the line are the screen's keys: it must say to press `i`.
    app = await warroom.app("dave", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        scribe = app.screen.query_one(ScribeInput)
        assert not scribe.has_focus
        assert scribe.placeholder.startswith("Write to the timeline (press i): ")
        await pilot.press("i")
        await pilot.pause()  # the Focus message
        assert scribe.has_focus
        assert scribe.placeholder == PLACEHOLDER
        await pilot.press("escape")
        await pilot.pause()  # the Blur message
        assert not scribe.has_focus
        assert "(press i)" in scribe.placeholder


async def test_a_bad_line_is_kept_and_explained(
    warroom: Warroom, incident: int, notices: list[Notice]
) -> None:
    app = await warroom.app("dave", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        scribe = app.screen.query_one(ScribeInput)
        scribe.focus()
        for line, why in [
            ("/decison typo", "unknown kind"),
            ("/status all good", "Only the IC and the CL post status updates"),
        ]:
            scribe.value = line
            await pilot.press("enter")
            assert scribe.value == line
            assert why in notices[-1].message
        assert not app.pending


async def test_tl_ticks_checklist_items_with_keys(warroom: Warroom, incident: int) -> None:
    app = await warroom.app("carol", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        checklist = app.screen.query_one(ChecklistPane)
        checklist.focus()
        await pilot.press("space")  # item 1: in progress -> done
        await pilot.press("down", "d")  # item 2: to do -> done
        await until_state(
            app.client,
            incident,
            lambda s: [i.state for i in s.checklist[:2]] == [ItemState.DONE, ItemState.DONE],
        )
        await settle(pilot)
        assert str(checklist.get_row_at(0)[0]) == "● done"
        assert str(checklist.get_row_at(1)[0]) == "● done"
        assert str(checklist.get_row_at(1)[2]).startswith("carol ")
        # Each change lands on the timeline, written by the server.
        assert "Checklist 2 'Manually scale up a service': done" in timeline_lines(app)[-1]
        # Done is done: "advance" and "done" are no longer offered for this item.
        assert checklist.check_action("tick_checklist_item", ()) is None
        assert checklist.check_action("reopen_checklist_item", ()) is True


async def test_ic_changes_severity_with_a_reason(warroom: Warroom, incident: int) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        dialog = app.screen
        assert isinstance(dialog, SeverityDialog)
        dialog.query_one("#severity-level", Select).value = Severity.SEV2
        dialog.query_one("#reason", Input).value = "EU traffic recovered"
        dialog.query_one("#reason", Input).focus()
        await pilot.press("enter")
        await until_state(app.client, incident, lambda s: s.incident.severity is Severity.SEV2)
        await settle(pilot)
        assert str(app.screen.query_one("#sev-badge").content) == "SEV2"  # type: ignore[attr-defined]
        assert timeline_lines(app)[-1].endswith("Severity SEV1 -> SEV2: EU traffic recovered")


async def test_severity_needs_a_reason_and_a_new_level(warroom: Warroom, incident: int) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        dialog = app.screen
        assert isinstance(dialog, SeverityDialog)
        dialog.query_one("#reason", Input).focus()
        await pilot.press("enter")
        assert "other than SEV1" in str(dialog.error_line.content)
        dialog.query_one("#severity-level", Select).value = Severity.SEV3
        await pilot.press("enter")
        assert "Give a reason" in str(dialog.error_line.content)
        await pilot.press("escape")
        assert app.screen is not dialog
        assert app.client.unsent == 0


async def test_a_refused_write_is_shown_and_changes_nothing(
    warroom: Warroom, incident: int, notices: list[Notice]
) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        notices.clear()  # only what follows counts
        await pilot.press("s")
        dialog = app.screen
        assert isinstance(dialog, SeverityDialog)
        # Meanwhile the IC's other console lowers the severity: the dialog's "expected" is stale.
        other = await warroom.client("alice")
        await other.execute(
            SetSeverity(id=new_id(), incident_id=incident, severity=Severity.SEV2,
                        expected=Severity.SEV1, reason="other console")
        )  # fmt: skip
        dialog.query_one("#severity-level", Select).value = Severity.SEV3
        dialog.query_one("#reason", Input).value = "from the stale dialog"
        dialog.query_one("#reason", Input).focus()
        await pilot.press("enter")
        await until(app.client, lambda: app.client.unsent == 0 and bool(notices))
        await settle(pilot)
        assert notices[-1] == Notice(
            "Someone else changed it first; look again and retry",
            "Severity was changed by someone else meanwhile.",
            "error",
        )
        state = app.client.states[incident]
        assert state.incident.severity is Severity.SEV2
        assert "from the stale dialog" not in "".join(e.text for e in state.timeline)


async def test_ic_assigns_a_role(warroom: Warroom, incident: int) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        dialog = app.screen
        assert isinstance(dialog, RoleDialog)
        dialog.query_one("#role", Select).value = Role.TL
        dialog.query_one("#service", Input).value = "ledger"
        dialog.query_one("#user", Input).value = "erin"
        dialog.query_one("#user", Input).focus()
        await pilot.press("enter")
        await until_state(app.client, incident, lambda s: "erin" in s.roster.tls)
        await settle(pilot)
        assert "TL        ○ erin (ledger)" in static_text(app, "#roster-pane").splitlines()


async def test_ic_hands_off_and_the_receiver_accepts(warroom: Warroom, incident: int) -> None:
    alice_app = await warroom.app("alice", incident)
    carol_app = await warroom.app("carol", incident)
    async with (
        alice_app.run_test(size=(160, 40)) as alice,
        carol_app.run_test(size=(160, 40)) as carol,
    ):
        await settle(alice)
        await settle(carol)
        assert not carol_app.screen.check_action("accept_ic_role", ())
        await alice.press("h")
        dialog = alice_app.screen
        assert isinstance(dialog, RoleDialog)
        dialog.query_one("#user", Input).value = "carol"
        await alice.press("enter")
        await until_state(carol_app.client, incident, lambda s: s.roster.ic_offer is not None)
        await settle(carol)
        assert "Offered to you" in static_text(carol_app, "#roster-pane")
        assert carol_app.screen.check_action("accept_ic_role", ())
        assert carol_app.screen.check_action("decline_ic_role", ())
        assert alice_app.screen.check_action("withdraw_ic_offer", ())
        await carol.press("y")
        await until_state(alice_app.client, incident, lambda s: s.roster.ic == "carol")
        await settle(alice)
        await settle(carol)
        for app in (alice_app, carol_app):
            assert static_text(app, "#roster-pane").startswith("IC        ● carol")
            assert "IC carol" in static_text(app, "#header-meta")
        # The new IC is offered the IC's actions, the old one no longer.
        assert carol_app.screen.check_action("change_severity", ())
        assert not alice_app.screen.check_action("change_severity", ())


async def test_the_receiver_may_decline_an_ic_offer(warroom: Warroom, incident: int) -> None:
    alice_client = await warroom.client("alice")
    carol_app = await warroom.app("carol", incident)
    async with carol_app.run_test(size=(160, 40)) as carol:
        await settle(carol)
        from warroom.domain.commands import AssignRole

        await alice_client.execute(
            AssignRole(id=new_id(), incident_id=incident, role=Role.IC, user="carol")
        )
        await until_state(carol_app.client, incident, lambda s: s.roster.ic_offer is not None)
        await settle(carol)
        await carol.press("n")
        await until_state(carol_app.client, incident, lambda s: s.roster.ic_offer is None)
        await settle(carol)
        assert carol_app.client.states[incident].roster.ic == "alice"
        assert "carol declined the IC role" in timeline_lines(carol_app)[-1]


async def test_ic_moves_the_incident_to_the_next_phase(warroom: Warroom, incident: int) -> None:
    from warroom.domain.phase import Phase
    from warroom.tui.screens.phase_dialog import PhaseDialog

    app = await warroom.app("alice", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        dialog = app.screen
        assert isinstance(dialog, PhaseDialog)
        dialog.query_one("#phase", Select).value = Phase.MITIGATING
        dialog.query_one("#reason", Input).value = "rollback started"
        dialog.query_one("#reason", Input).focus()
        await pilot.press("enter")
        await until_state(app.client, incident, lambda s: s.incident.phase is Phase.MITIGATING)
        await settle(pilot)
        assert static_text(app, "#header-meta").startswith("mitigating")
