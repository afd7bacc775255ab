"""The communications view: public drafts and where each stands, the IC's approve / send back,
the internal-update clock the CL works to, and, once resolved, whether the public side still
needs closing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import Reactive, reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable

from warroom.client.session import new_id
from warroom.domain.commands import ApproveExternalUpdate, RejectExternalUpdate
from warroom.domain.communications import DraftStatus, ExternalUpdate
from warroom.domain.incident import IncidentState
from warroom.domain.public_side import closing_reminder
from warroom.tui.commands_table import Scope, bindings_for, command_for, is_offered, key_hint
from warroom.tui.comms_format import clock_line, closing_words, describe_draft, status_words
from warroom.tui.host import WarroomHost
from warroom.tui.safe_text import clean
from warroom.tui.screens.prompt_dialog import PromptDialog
from warroom.tui.screens.publish_dialog import PublishDialog
from warroom.tui.time_format import clock_time
from warroom.tui.widgets.quiet_static import QuietStatic
from warroom.tui.widgets.role_footer import RoleFooter

_DECISIONS = {"approve_public_update", "reject_public_update"}


def ordered_drafts(state: IncidentState) -> list[ExternalUpdate]:
    """Drafts waiting for the IC first (oldest first), then decided ones, newest first."""
    pending = [d for d in state.external_updates if d.status is DraftStatus.PENDING]
    decided = [d for d in state.external_updates if d.status is not DraftStatus.PENDING]
    return pending + decided[::-1]


class CommsScreen(Screen[None]):
    """Follows the incident screen beneath it: its state, user and clock are watched, not
    copied, so this view is as live as the panes."""

    BINDINGS = bindings_for(Scope.COMMS)

    state: Reactive[IncidentState | None] = reactive(None, always_update=True)
    """The incident, as the incident screen holds it."""
    me: Reactive[str | None] = reactive(None)
    """The signed-in user; decides who may approve."""
    now: Reactive[datetime | None] = reactive(None)
    """The app clock, for the update clock line."""

    def __init__(self, incident_screen: Screen[None], host: WarroomHost, incident_id: int) -> None:
        super().__init__(id="comms")
        self.host = host
        self.incident_id = incident_id
        """The incident whose communications are shown."""
        self._incident_screen = incident_screen
        self._zone = host.clock().tzinfo
        self._drafts: list[ExternalUpdate] = []
        self._ready = False
        """Set once the table has its columns; state set before that waits for it."""
        self._clock = QuietStatic(id="comms-clock")
        self._closing_line = QuietStatic(id="comms-closing")
        self._detail = QuietStatic(id="comms-detail")

    def compose(self) -> ComposeResult:
        yield self._clock
        yield self._closing_line
        with Vertical(id="comms-drafts", classes="pane") as box:
            box.border_title = "Public updates"
            yield DataTable[Text](id="draft-list", cursor_type="row", zebra_stripes=True)
        with Vertical(id="comms-detail-pane", classes="pane") as detail:
            detail.border_title = "Draft"
            yield self._detail
        yield RoleFooter()

    def on_mount(self) -> None:
        table = self.query_one("#draft-list", DataTable)
        for label, key in (("#", "id"), ("Stage", "stage"), ("Drafted", "drafted"),
                           ("By", "by"), ("Status", "status")):  # fmt: skip
            table.add_column(label, key=key)
        self._ready = True
        for name in ("state", "me", "now"):
            self.watch(self._incident_screen, name, self._follow(name))
        table.focus()

    def _follow(self, name: str) -> Callable[[object], None]:
        def take(value: object) -> None:
            setattr(self, name, value)

        return take

    def command_target(self, scope: Scope) -> Widget | None:
        return self if scope is Scope.COMMS else None

    # --- showing ------------------------------------------------------------------------------

    def watch_state(self) -> None:
        self._fill()

    def watch_me(self) -> None:
        self.refresh_bindings()

    def watch_now(self) -> None:
        self._show_clock()

    def _fill(self) -> None:
        state = self.state
        if state is None or not self._ready:
            return
        drafts = ordered_drafts(state)
        table = self.query_one("#draft-list", DataTable)
        selected = self.selected_draft
        self._drafts = drafts
        table.clear()
        for draft in drafts:
            pending = draft.status is DraftStatus.PENDING
            table.add_row(
                Text(str(draft.id)),
                Text(draft.state.value),
                Text(clock_time(draft.drafted_at, self._zone, seconds=False)),
                Text(clean(draft.drafted_by)),
                Text(
                    clean(status_words(draft, state.roster.ic, self._zone)),
                    style="bold" if pending else "",
                ),
                key=str(draft.id),
            )
        if selected is not None:
            row = next((n for n, d in enumerate(drafts) if d.id == selected.id), 0)
            table.move_cursor(row=row, animate=False)
        waiting = sum(1 for d in drafts if d.status is DraftStatus.PENDING)
        box = self.query_one("#comms-drafts")
        box.border_title = f"Public updates · {waiting} waiting for the IC"
        self._show_detail()
        self._show_clock()
        self._show_closing(state)
        self.refresh_bindings()

    def _show_closing(self, state: IncidentState) -> None:
        reminder = closing_reminder(state)
        self._closing_line.display = reminder is not None
        if reminder is not None:
            words = closing_words(
                reminder,
                f"press {key_hint(self, 'comms-view.approve')}",
                key_hint(self, "comms-view.public"),
            )
            self._closing_line.show(Text(words))

    def _show_detail(self) -> None:
        draft, state = self.selected_draft, self.state
        if draft is None or state is None:
            hint = "No public updates yet. The CL drafts one with e; the IC approves it here."
            self._detail.show(Text(hint, style="italic"))
            return
        self._detail.show(describe_draft(draft, state.roster.ic, self._zone))

    def _show_clock(self) -> None:
        state = self.state
        if state is None:
            return
        line, overdue = clock_line(state, self.now or self.host.clock(), self._zone)
        self._clock.show(line)
        self._clock.set_class(overdue, "-overdue")

    @property
    def selected_draft(self) -> ExternalUpdate | None:
        table = self.query_one("#draft-list", DataTable)
        row = table.cursor_row
        return self._drafts[row] if table.row_count and 0 <= row < len(self._drafts) else None

    @on(DataTable.RowHighlighted, "#draft-list")
    def show_highlighted_draft(self) -> None:
        self._show_detail()
        self.refresh_bindings()

    # --- actions ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        spec = command_for(Scope.COMMS, action)
        if spec is None:
            return True
        if not is_offered(spec, self.state, self.me):
            return False
        if action in _DECISIONS:
            draft = self.selected_draft
            # Offered to the IC, but only meaningful on a draft that still waits: dimmed.
            return True if draft is not None and draft.status is DraftStatus.PENDING else None
        return True

    def action_approve_public_update(self) -> None:
        draft = self.selected_draft
        if draft is not None and draft.status is DraftStatus.PENDING:
            self.app.push_screen(PublishDialog(draft), lambda yes: self._approve(draft.id, yes))

    def _approve(self, draft_id: int, confirmed: bool | None) -> None:
        if confirmed:
            self.host.send(
                ApproveExternalUpdate(id=new_id(), incident_id=self.incident_id, draft_id=draft_id)
            )

    def action_reject_public_update(self) -> None:
        draft = self.selected_draft
        if draft is None or draft.status is not DraftStatus.PENDING:
            return
        dialog = PromptDialog(
            f"Send back public update #{draft.id}",
            f"{draft.drafted_by} sees your comment on the timeline and drafts again.",
            "Comment for the author",
            submit="Send back",
            placeholder="e.g. do not name the payment provider",
            variant="warning",
        )
        self.app.push_screen(dialog, lambda comment: self._reject(draft.id, comment))

    def _reject(self, draft_id: int, comment: str | None) -> None:
        if comment:
            self.host.send(
                RejectExternalUpdate(
                    id=new_id(), incident_id=self.incident_id, draft_id=draft_id, comment=comment
                )
            )

    async def action_draft_public_update(self) -> None:
        await self._incident_screen.run_action("draft_public_update")

    async def action_post_internal_update(self) -> None:
        await self._incident_screen.run_action("post_internal_update")

    def action_close_comms(self) -> None:
        self.app.pop_screen()
