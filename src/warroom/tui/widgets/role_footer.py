"""The footer: every offered key where they fit; on a narrower terminal, the most-used keys the
user's roles are offered, in order of use, with `? Help` always first."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer

# The footer's own key widget, which `textual.widgets` does not export.
from textual.widgets._footer import FooterKey

MOST_USED: tuple[str, ...] = (
    "show_help",
    # The replay's keys (only offered there): playing, stepping and leaving come first, so
    # space is never the key an 80-column footer leaves out.
    "toggle_play",
    "step_forward",
    "step_back",
    "close_replay",
    "toggle_speed",
    "next_severity_change",
    "accept_ic_role",
    "decline_ic_role",
    "focus_scribe_input",
    "post_internal_update",
    "show_comms",
    "approve_public_update",
    "reject_public_update",
    "advance_checklist_item",
    "tick_checklist_item",
    "change_severity",
    "change_phase",
    "leave_scribe_input",
    "leave_timeline_search",
    "cancel_dialog",
    "close_comms",
    "close_triage",
    "close_picker",
    "close_projector",
    "declare_triage_item",
    "dismiss_triage_item",
    "focus_declare_form",
    "amend_entry",
    "strike_entry",
    "follow_timeline",
    "assign_role",
    "draft_public_update",
    "resolve_incident",
    "quit",
)
"""Actions by how often a call needs them; keys the user is not offered (their role may not,
or the focused pane has none) are already absent, so each role gets its own most-used set.
Actions not listed follow, in the footer's usual order."""

_PALETTE_WIDTH = 14
"""Room kept at the right for the command palette's key."""


def _width(key: FooterKey) -> int:
    """Cells a key takes: its key, its description, and the padding around them."""
    return len(key.key_display) + len(key.description) + 3


def _rank(key: FooterKey) -> int:
    return MOST_USED.index(key.action) if key.action in MOST_USED else len(MOST_USED)


class RoleFooter(Footer):
    """A `Footer` that chooses what fits on a narrow terminal instead of cutting at the edge."""

    def __init__(self) -> None:
        super().__init__()
        self._needs = 0
        """Cells every offered key takes, as last composed."""
        self._composed_at = 0

    def compose(self) -> ComposeResult:
        width = self._composed_at = self.app.size.width
        widgets: list[Widget] = list(super().compose())
        keys = [w for w in widgets if isinstance(w, FooterKey)]
        keys = [key for key in keys if not key.has_class("-command-palette")]
        self._needs = sum(map(_width, keys)) + _PALETTE_WIDTH
        if self._needs <= width:
            yield from widgets
            return
        budget = width - _PALETTE_WIDTH
        chosen: list[FooterKey] = []
        for key in sorted(keys, key=_rank):
            if _width(key) <= budget:
                chosen.append(key)
                budget -= _width(key)
        self.styles.grid_size_columns = len(chosen)
        yield from chosen
        yield from (w for w in widgets if w not in keys)

    def on_resize(self, _event: events.Resize) -> None:
        # Only a change of what fits needs new keys: every key fitted and still does, or not.
        before, now = self._composed_at, self.app.size.width
        if now != before and (before < self._needs or now < self._needs):
            self.call_after_refresh(self.recompose)
