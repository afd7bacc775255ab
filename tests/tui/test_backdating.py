"""A back-dated time before the incident's declaration is asked about before it is sent: typed
at 14:20 into an incident declared at 14:00, `03:01` is a slip as often as a fact."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.widgets import Static

from warroom.tui.screens.backdate_dialog import BackdateDialog, placed_words
from warroom.tui.widgets.scribe_input import ScribeInput

from .conftest import Notice
from .harness import Warroom, settle, until_state


async def test_a_time_before_the_declaration_is_asked_about_and_editable(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("dave", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        scribe = app.screen.query_one(ScribeInput)
        await pilot.press("i")
        scribe.value = "03:01 rolled back payments-api"
        await pilot.press("enter")
        await settle(pilot)

        # Asked, with both times and the gap; nothing sent, the line kept.
        dialog = app.screen
        assert isinstance(dialog, BackdateDialog)
        words = " ".join(str(s.content) for s in dialog.query(Static))
        assert "dated 2024-05-02 03:01, 10 h 59 min before the incident was declared" in words
        assert "(2024-05-02 14:00)" in words
        assert not app.pending
        await pilot.press("escape")
        await settle(pilot)
        assert scribe.value == "03:01 rolled back payments-api"
        assert scribe.has_focus
        assert not app.pending

        # Fixed to a time after the declaration: posted without a question.
        scribe.value = "14:03 rolled back payments-api"
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, BackdateDialog)
        await until_state(
            app.client, incident, lambda s: s.timeline[-1].text == "rolled back payments-api"
        )
        assert app.client.states[incident].timeline[-1].occurred_at == datetime(
            2024, 5, 2, 14, 3, tzinfo=UTC
        )


async def test_a_time_before_the_declaration_is_posted_once_confirmed(
    warroom: Warroom, incident: int, notices: list[Notice]
) -> None:
    app = await warroom.app("dave", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        app.screen.query_one(ScribeInput).value = "13:52 /action first alert fired"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, BackdateDialog)
        await pilot.press("enter")  # "Post at that time" has focus
        await until_state(
            app.client, incident, lambda s: s.timeline[-1].text == "first alert fired"
        )
        entry = app.client.states[incident].timeline[-1]
        assert entry.occurred_at == datetime(2024, 5, 2, 13, 52, tzinfo=UTC)
        assert app.screen.query_one(ScribeInput).value == ""
        # Confirmed where it went: far up the timeline, out of sight of the newest entries.
        assert (
            Notice(
                "Back-dated entry",
                "Listed at 13:52, 8 min before the declaration (14:00): above the first "
                "entries, not at the end.",
                "information",
            )
            in notices
        )


def test_the_placed_words_give_dates_only_when_the_entry_is_on_another_day() -> None:
    declared = datetime(2024, 5, 2, 0, 10, tzinfo=UTC)
    occurred = datetime(2024, 5, 1, 23, 50, tzinfo=UTC)
    words = placed_words(occurred, declared, declared - occurred, UTC)
    assert words == (
        "Listed at 2024-05-01 23:50, 20 min before the declaration (2024-05-02 00:10): above "
        "the first entries, not at the end."
    )
