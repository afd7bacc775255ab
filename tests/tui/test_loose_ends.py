"""Loose ends people notice: the approval call goes once answered, counts agree with their
nouns, refusals are said in words, form errors sit under their field, and resolving warns about
what it leaves behind."""

from __future__ import annotations

from textual.widgets import Button, Input, Select, Static

from warroom.client.session import new_id
from warroom.domain.checklist import ItemState
from warroom.domain.commands import (
    ApproveExternalUpdate,
    DeclareIncident,
    DraftExternalUpdate,
    SetItemState,
    SetPhase,
)
from warroom.domain.communications import PublicState
from warroom.domain.errors import ErrorCode
from warroom.domain.phase import Phase
from warroom.domain.roles import Role
from warroom.domain.severity import Severity
from warroom.tui.refusals import REFUSALS, describe_refusal
from warroom.tui.screens.comms import CommsScreen
from warroom.tui.screens.main import MainScreen
from warroom.tui.screens.picker import PickerScreen
from warroom.tui.screens.prompt_dialog import PromptDialog
from warroom.tui.screens.role_dialog import RoleDialog
from warroom.tui.words import count

from .conftest import Notice
from .harness import Warroom, settle, static_text, until, until_state


async def _draft(warroom: Warroom, incident: int) -> int:
    """bob (the CL) drafts a public update; returns its id."""
    bob = await warroom.client("bob")
    ack = await bob.execute(
        DraftExternalUpdate(
            id=new_id(),
            incident_id=incident,
            title="Card payments degraded",
            text="We are investigating problems with card payments.",
            state=PublicState.INVESTIGATING,
        )
    )
    await bob.close()
    return ack.seq


async def test_the_approval_call_shows_on_the_incident_screen_until_the_ic_decides(
    warroom: Warroom, incident: int, notices: list[Notice]
) -> None:
    alice = await warroom.app("alice", incident)
    async with alice.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        draft_id = await _draft(warroom, incident)
        await until_state(alice.client, incident, lambda s: bool(s.external_updates))
        await settle(pilot)
        assert static_text(alice, "#header-meta").startswith(" ✉ 1 draft to approve (c) ")
        # Said in the header of the incident screen, not in a toast that outlives the draft.
        assert not [n for n in notices if "approval" in n.message.lower()]

        await pilot.press("c")
        await settle(pilot)
        assert isinstance(alice.screen, CommsScreen)
        await alice.client.execute(
            ApproveExternalUpdate(id=new_id(), incident_id=incident, draft_id=draft_id)
        )
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert "✉" not in static_text(alice, "#header-meta")


async def test_others_see_the_draft_await_the_ic_until_the_incident_is_resolved(
    warroom: Warroom, incident: int
) -> None:
    await _draft(warroom, incident)
    carol = await warroom.app("carol", incident)
    async with carol.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert static_text(carol, "#header-meta").startswith(" ✉ 1 draft awaits the IC ")
        alice = await warroom.client("alice")
        state = await alice.follow(incident)
        await alice.execute(
            SetPhase(
                id=new_id(),
                incident_id=incident,
                phase=Phase.RESOLVED,
                expected=state.incident.phase,
            )
        )
        await until_state(carol.client, incident, lambda s: not s.incident.phase.is_open)
        await settle(pilot)
        assert "✉" not in static_text(carol, "#header-meta")


def test_counts_agree_with_their_nouns() -> None:
    assert count(1, "entry", "entries") == "1 entry"
    assert count(2, "entry", "entries") == "2 entries"
    assert count(1024, "incident") == "1,024 incidents"
    assert count(0, "incident") == "0 incidents"


async def test_one_incident_reads_1_incident_in_the_list(warroom: Warroom, incident: int) -> None:
    app = await warroom.app("alice", None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, PickerScreen)
        assert "1 incident · Enter opens one" in static_text(app, "#picker-status")


def test_every_error_code_has_a_sentence() -> None:
    assert set(REFUSALS) == set(ErrorCode)
    assert all(sentence and "_" not in sentence for sentence in REFUSALS.values())


def test_a_refusal_falls_back_to_the_servers_message() -> None:
    notice = describe_refusal(ErrorCode.UNKNOWN_USER, "no user named bob")
    assert notice.message == "No user named bob."
    assert describe_refusal(ErrorCode.INTERNAL, "").message == "The server failed; nothing changed."


async def test_assigning_an_unknown_user_is_refused_in_words(
    warroom: Warroom, incident: int, notices: list[Notice]
) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        dialog = app.screen
        assert isinstance(dialog, RoleDialog)
        dialog.query_one("#user", Input).value = "zed"
        dialog.query_one("#user", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        # Sent, then refused: the outbox empties when the refusal arrives.
        await until(app.client, lambda: app.client.unsent == 0)
        await settle(pilot)
    assert Notice("There is no such user on this server", "No user named zed.", "error") in notices
    assert not [n for n in notices if "unknown_user" in n.title + n.message]


async def test_the_empty_name_error_sits_under_the_name_field(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        dialog = app.screen
        assert isinstance(dialog, RoleDialog)
        await pilot.click("#submit")
        await pilot.pause()
        assert "User names are" in str(dialog.error_line.content)
        name = dialog.query_one("#user", Input).region
        service = dialog.query_one("#service", Input).region
        error = dialog.error_line.region
        assert name.bottom <= error.y < service.y


async def test_resolving_lists_mitigations_in_progress_and_drafts_not_approved(
    warroom: Warroom, incident: int
) -> None:
    await _draft(warroom, incident)
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, PromptDialog)
        warning = str(dialog.query_one(".dialog-warning", Static).content)
        assert "1 mitigation still in progress:" in warning
        assert "Roll back the last deployment for the failing service" in warning
        assert "1 public draft not approved" in warning
        assert "Card payments degraded — bob" in warning
        assert str(dialog.query_one("#submit", Button).label) == "Resolve"


async def test_resolving_with_nothing_left_open_has_no_warning(
    warroom: Warroom, incident: int
) -> None:
    alice = await warroom.client("alice")
    await alice.execute(
        SetItemState(
            id=new_id(),
            incident_id=incident,
            item_id=1,
            state=ItemState.DONE,
            expected=ItemState.IN_PROGRESS,
        )
    )
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, PromptDialog)
        assert not app.screen.query(".dialog-warning")


async def test_the_assign_dialog_offers_the_roles_the_domain_names_and_cancel_closes_it(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        dialog = app.screen
        assert isinstance(dialog, RoleDialog)
        offered = [value for _, value in dialog.query_one("#role", Select)._options]
        assert offered == [Role.CL, Role.TL, Role.SCRIBE]
        # The Cancel button of every form is handled once, in `FormDialog`.
        assert await pilot.click("#cancel"), "the click did not land on Cancel"
        # The click, the button's Pressed and the dismissal are three turns of messages: one
        # pause left the check racing them on a loaded machine.
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)


async def test_the_summary_set_from_the_cli_shows_in_the_header_literally(
    warroom: Warroom,
) -> None:
    alice = await warroom.client("alice")
    # What `warroom declare --summary ...` sends.
    ack = await alice.execute(
        DeclareIncident(
            id=new_id(),
            title="Checkout slow",
            severity=Severity.SEV2,
            summary="[bold red]p99[/] over 2 s\x1b[2J for EU",
        )
    )
    app = await warroom.app("alice", ack.incident_id)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        title = static_text(app, "#header-title")
        assert title == f"#{ack.incident_id} Checkout slow  ·  [bold red]p99[/] over 2 s␛[2J for EU"
        tooltip = app.screen.query_one("#header-title").tooltip
        assert str(tooltip) == "[bold red]p99[/] over 2 s␛[2J for EU"


async def test_at_80x24_the_whole_summary_is_in_the_side_column(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("erin", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await pilot.pause()
        pane = app.screen.query_one("#severity-pane")
        drawn = [pane.render_line(y).text for y in range(pane.size.height)]
        assert any("What is wrong: Card payments fail at checkout" in line for line in drawn)
