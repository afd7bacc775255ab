"""What a first-time on-call engineer at 3 a.m. tripped over (review ux6): the help that would
not scroll with j/k, text typed into a dialog's frame, and a SEV badge too faint to read on a
projector."""

from __future__ import annotations

import pytest
from textual.color import Color
from textual.containers import VerticalScroll
from textual.widgets import Input

from warroom.domain.severity import Severity
from warroom.tui.screens.help_screen import HelpScreen
from warroom.tui.screens.severity_dialog import SeverityDialog

from .harness import Warroom, settle

SHIPPED_THEMES = ("warroom-dark", "warroom-light", "warroom-contrast")
WCAG_AA = 4.5
"""The WCAG AA contrast ratio for normal text."""


def contrast(one: Color, other: Color) -> float:
    """The WCAG contrast ratio of two opaque colours."""

    def luminance(color: Color) -> float:
        def channel(value: int) -> float:
            c = value / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)

    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


async def test_the_help_scrolls_with_j_k_g_and_shift_g_as_in_a_pager(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        box = app.screen.query_one("#help-dialog", VerticalScroll)
        await pilot.press("j", "j", "j")
        await pilot.pause()
        assert box.scroll_target_y == 3
        await pilot.press("k")
        await pilot.pause()
        assert box.scroll_target_y == 2
        await pilot.press("G")
        await pilot.pause()
        assert box.scroll_target_y == box.max_scroll_y > 3
        await pilot.press("g")
        await pilot.pause()
        assert box.scroll_target_y == 0
        await pilot.press("space")
        await pilot.pause()
        assert box.scroll_target_y > 3


async def test_shift_tab_from_a_dialogs_first_field_reaches_a_field_not_its_frame(
    warroom: Warroom, incident: int
) -> None:
    # Shift+Tab from the severity list used to focus the dialog's scrolling frame, which shows
    # no cursor: the reason typed next went nowhere and the person had to type it again.
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SeverityDialog)
        await pilot.press("shift+tab", "shift+tab", "shift+tab")
        await pilot.pause()
        assert app.focused is app.screen.query_one("#reason", Input)
        await pilot.press(*"db down")
        await pilot.pause()
        assert app.screen.query_one("#reason", Input).value == "db down"


@pytest.mark.parametrize("theme", SHIPPED_THEMES)
async def test_the_sev_badge_is_readable_at_wcag_aa_in_every_shipped_theme(
    warroom: Warroom, incident: int, theme: str
) -> None:
    # The badge is what a room reads first off a projector; pale pink on pure red was 3.3:1.
    app = await warroom.app("alice", incident, theme=theme)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        badge = app.screen.query_one("#sev-badge")
        for level in Severity:
            badge.set_class(True, f"sev{level.value}")
            for other in Severity:
                if other is not level:
                    badge.set_class(False, f"sev{other.value}")
            await pilot.pause()
            background = badge.styles.background
            text = background + badge.styles.color
            ratio = contrast(text, background)
            assert ratio >= WCAG_AA, f"{theme} {level.label}: {ratio:.2f}"
