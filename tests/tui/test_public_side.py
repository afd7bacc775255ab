"""The console's side of the public page: the draft form's public title (a neutral offer first,
the published one after, never the incident's own), and the reminder after resolving until the
prepared "resolved" update is approved."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Button, Input, TextArea
from textual.widgets._toast import Toast

from warroom.client.session import WarroomClient, new_id
from warroom.domain.commands import ApproveExternalUpdate, DraftExternalUpdate
from warroom.domain.communications import DraftStatus, PublicState
from warroom.domain.events import SERVER_ACTOR
from warroom.domain.phase import Phase
from warroom.domain.public_side import ClosingReminder
from warroom.tui.comms_format import closing_words
from warroom.tui.screens.comms import CommsScreen
from warroom.tui.screens.comms_actions import REMIND_EVERY
from warroom.tui.screens.main import MainScreen
from warroom.tui.screens.prompt_dialog import PromptDialog
from warroom.tui.screens.public_update_dialog import PublicUpdateDialog
from warroom.tui.screens.publish_dialog import PublishDialog

from .conftest import Notice
from .harness import APP_NOW, Warroom, settle, static_text, until_state

INTERNAL_TITLE = "Payment processing down"
"""The seeded incident's title: for the war room only."""


async def publish(warroom: Warroom, incident: int, title: str) -> None:
    """bob drafts, alice approves: the public has been told the incident is being investigated."""
    bob, alice = await warroom.client("bob"), await warroom.client("alice")
    draft = DraftExternalUpdate(
        id=new_id(),
        incident_id=incident,
        title=title,
        text="We are looking into failed payments.",
        state=PublicState.INVESTIGATING,
        components=["Checkout"],
    )
    draft_id = (await bob.execute(draft)).seq
    await alice.execute(ApproveExternalUpdate(id=new_id(), incident_id=incident, draft_id=draft_id))


async def resolve_until_drafted(pilot: Pilot[None], client: WarroomClient, incident: int) -> None:
    """Resolve the incident from the console (ctrl+r, confirmed) and wait for the resolved
    update the server prepares."""
    await pilot.press("ctrl+r")
    assert isinstance(pilot.app.screen, PromptDialog)
    await pilot.press("enter")
    await until_state(
        client,
        incident,
        lambda s: any(u.drafted_by == SERVER_ACTOR for u in s.external_updates),
    )
    await settle(pilot)


async def test_the_first_draft_offers_a_neutral_title_never_the_incidents_own(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("bob", incident)
    async with app.run_test(size=(160, 44)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        dialog = app.screen
        assert isinstance(dialog, PublicUpdateDialog)
        title = dialog.query_one("#title", Input)
        assert title.value == "Degraded performance: payments-api"
        assert all(INTERNAL_TITLE not in field.value for field in dialog.query(Input))
        # The offer follows the components until the author writes their own title.
        dialog.query_one("#components", Input).value = "Checkout"
        await pilot.pause()
        assert title.value == "Degraded performance: Checkout"
        title.value = "   "
        title.focus()
        await pilot.press("enter")
        assert "Give the public title" in str(dialog.error_line.content)
        assert app.screen is dialog  # nothing sent
        title.value = "Checkout slow"
        dialog.query_one("#components", Input).value = "Checkout, Card payments"
        await pilot.pause()
        assert title.value == "Checkout slow"
        title.focus()
        await pilot.press("enter")
        await until_state(app.client, incident, lambda s: bool(s.external_updates))
        assert app.client.states[incident].external_updates[0].title == "Checkout slow"


async def test_later_drafts_start_from_the_published_title_and_keep_it(
    warroom: Warroom, incident: int
) -> None:
    await publish(warroom, incident, "Card payments degraded")
    app = await warroom.app("bob", incident)
    async with app.run_test(size=(160, 44)) as pilot:
        await until_state(app.client, incident, lambda s: len(s.external_updates) == 1)
        await settle(pilot)
        await pilot.press("e")
        dialog = app.screen
        assert isinstance(dialog, PublicUpdateDialog)
        title = dialog.query_one("#title", Input)
        assert title.value == "Card payments degraded"
        dialog.query_one("#components", Input).value = "API"
        await pilot.pause()
        assert title.value == "Card payments degraded"  # published: only changed on purpose
        dialog.query_one("#text", TextArea).load_text("Still looking.")
        title.focus()
        await pilot.press("enter")
        await until_state(app.client, incident, lambda s: len(s.external_updates) == 2)
        assert app.client.states[incident].external_updates[1].title == "Card payments degraded"


async def test_after_resolving_the_ic_is_reminded_until_the_resolved_update_is_approved(
    warroom: Warroom, incident: int, notices: list[Notice]
) -> None:
    await publish(warroom, incident, "Card payments degraded")
    app = await warroom.app("alice", incident)
    client: WarroomClient = app.client
    async with app.run_test(size=(160, 44)) as pilot:
        await until_state(client, incident, lambda s: len(s.external_updates) == 1)
        await settle(pilot)
        await resolve_until_drafted(pilot, client, incident)
        state = client.states[incident]
        assert state.incident.phase is Phase.RESOLVED
        prepared = state.external_updates[-1]
        assert (prepared.state, prepared.status) == (PublicState.RESOLVED, DraftStatus.PENDING)
        reminder = Notice(
            "Close the public side",
            "Resolved, but the status page still says investigating. Public update "
            f"#{prepared.id} (resolved) waits for the IC: press c, then a to approve it, or "
            "send it back to leave the page as it is.",
            "warning",
        )
        assert notices.count(reminder) == 1

        main = app.screen
        assert isinstance(main, MainScreen)
        main.now = APP_NOW + REMIND_EVERY / 2
        await pilot.pause()
        assert notices.count(reminder) == 1  # not a toast every second
        main.now = APP_NOW + REMIND_EVERY
        await pilot.pause()
        assert notices.count(reminder) == 2  # until it is done

        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, CommsScreen)
        assert app.screen.query_one("#comms-closing").display
        assert static_text(app, "#comms-closing").startswith(
            "Resolved, but the status page still says investigating. Public update "
            f"#{prepared.id} (resolved) waits for the IC: press a to approve it"
        )
        assert app.screen.selected_draft == prepared  # waiting drafts come first
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, PublishDialog)
        await pilot.press("enter")  # "Publish" has the focus
        await until_state(
            client, incident, lambda s: s.external_updates[-1].status is DraftStatus.APPROVED
        )
        await settle(pilot)
        assert not app.screen.query_one("#comms-closing").display
        await pilot.press("escape")
        main.now = APP_NOW + REMIND_EVERY * 3
        await pilot.pause()
        assert notices.count(reminder) == 2


async def test_the_reminder_toast_never_covers_a_dialogs_buttons_at_80x24(
    warroom: Warroom, incident: int, notices: list[Notice]
) -> None:
    await publish(warroom, incident, "Card payments degraded")
    app = await warroom.app("alice", incident)
    client: WarroomClient = app.client
    # Toasts drawn, as users see them (run_test leaves them out unless asked).
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await until_state(client, incident, lambda s: len(s.external_updates) == 1)
        await settle(pilot)
        await resolve_until_drafted(pilot, client, incident)
        assert any(n.title == "Close the public side" for n in notices)  # the 30 s toast is up
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, PublishDialog)
        assert dialog.query(Toast)  # still shown on this screen...
        for button in dialog.query(Button):
            # ...but what is drawn where each button is, is the button.
            region = button.region
            for x in range(region.x, region.right):
                widget, _ = dialog.get_widget_at(x, region.y + region.height // 2)
                assert widget is button, (button.label, widget)


def test_without_a_prepared_update_the_reminder_says_to_draft_one() -> None:
    words = closing_words(ClosingReminder(PublicState.IDENTIFIED, None), "press a", "e")
    assert words == (
        "Resolved, but the status page still says identified. Press e to draft a resolved "
        "update for it."
    )
