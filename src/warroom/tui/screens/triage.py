"""The triage view: open alerts with everything known about them, recent decisions, and the
alert source's status; the on-call engineer declares or dismisses from here."""

from __future__ import annotations

import contextlib
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import Reactive, reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable
from textual.worker import Worker

from warroom.client.session import ClientError, CommandRefused
from warroom.domain.commands import DeclareIncident
from warroom.domain.triage import TriageItem, TriageStatus
from warroom.protocol.frames import TriageList
from warroom.tui.commands_table import Scope, bindings_for
from warroom.tui.host import WarroomHost
from warroom.tui.safe_text import clean
from warroom.tui.screens.prompt_dialog import PromptDialog
from warroom.tui.screens.triage_declare_dialog import TriageDeclareDialog
from warroom.tui.severity_colors import severity_style
from warroom.tui.time_format import clock_time
from warroom.tui.triage_format import age, alert_name, decision_line, describe_item, source_status
from warroom.tui.widgets.quiet_static import QuietStatic
from warroom.tui.widgets.role_footer import RoleFooter
from warroom.tui.worker_errors import report_failed_worker

_SOURCE_CLASSES = ("-ok", "-off", "-down")


class TriageScreen(Screen[None]):
    """Alerts that fired and wait for a decision; live, as the server pushes the list."""

    HELP_SCOPE = Scope.TRIAGE
    """Listed first in help opened here."""

    BINDINGS = bindings_for(Scope.TRIAGE)

    triage: Reactive[TriageList | None] = reactive(None, always_update=True)
    """The list as the client holds it; None until the server answered."""
    now: Reactive[datetime | None] = reactive(None)
    """The app clock, for the alerts' ages."""

    def __init__(self, host: WarroomHost) -> None:
        super().__init__(id="triage")
        self.host = host
        self._zone = host.clock().tzinfo
        self._open: list[TriageItem] = []
        self._recent: list[TriageItem] = []
        self._minute: datetime | None = None
        self._ready = False
        """Set once the tables have their columns; reactives set before that wait for it."""
        self._source = QuietStatic(id="triage-source")
        self._detail = QuietStatic(id="triage-detail")

    def compose(self) -> ComposeResult:
        yield self._source
        with Vertical(id="triage-open", classes="pane") as box:
            box.border_title = "Open alerts"
            yield DataTable[Text](id="triage-items", cursor_type="row", zebra_stripes=True)
        with Vertical(id="triage-detail-pane", classes="pane") as detail:
            detail.border_title = "Alert"
            yield self._detail
        with Vertical(id="triage-recent", classes="pane") as recent:
            recent.border_title = "Recent decisions"
            yield DataTable[Text](id="triage-recent-items", cursor_type="row")
        yield RoleFooter()

    def on_mount(self) -> None:
        items = self.query_one("#triage-items", DataTable)
        for label, key in (("#", "id"), ("SEV", "sev"), ("Alert", "alert"), ("Started", "start"),
                           ("Age", "age"), ("Summary", "summary")):  # fmt: skip
            items.add_column(label, key=key)
        recent = self.query_one("#triage-recent-items", DataTable)
        for label, key in (("#", "id"), ("Alert", "alert"), ("Decision", "decision")):
            recent.add_column(label, key=key)
        self._ready = True
        self.now = self.host.clock()
        self.triage = self.host.client.triage
        items.focus()

    def command_target(self, scope: Scope) -> Widget | None:
        return self if scope is Scope.TRIAGE else None

    # --- showing the list ---------------------------------------------------------------------

    def watch_triage(self) -> None:
        if self._ready:
            self._fill()

    def watch_now(self, now: datetime | None) -> None:
        minute = now.replace(second=0, microsecond=0) if now is not None else None
        # Ages are shown in minutes: redraw once a minute, not on every tick.
        if minute != self._minute and self._ready:
            self._minute = minute
            self._fill()

    def _fill(self) -> None:
        triage = self.triage
        if triage is None:
            self._source.show(Text("Loading the triage list…"))
            self._detail.show(Text())
            return
        words, css_class = source_status(triage.source, self._zone)
        self._source.show(Text(words))
        for name in _SOURCE_CLASSES:
            self._source.set_class(name == css_class, name)
        self._open = [i for i in triage.items if i.status is TriageStatus.OPEN]
        self._recent = [i for i in triage.items if i.status is not TriageStatus.OPEN][:20]
        self._fill_open()
        self._fill_recent()
        self.query_one("#triage-open").border_title = f"Open alerts · {len(self._open)}"
        self._show_detail(self.selected_item or (self._recent[0] if self._recent else None))
        self.refresh_bindings()

    def _fill_open(self) -> None:
        table = self.query_one("#triage-items", DataTable)
        selected = self.selected_item
        table.clear()
        now = self.now or self.host.clock()
        variables = self.app.theme_variables
        for item in self._open:
            table.add_row(
                Text(str(item.id)),
                Text(
                    item.proposed_severity.label,
                    style=severity_style(variables, item.proposed_severity),
                ),
                Text(clean(alert_name(item))),
                Text(clock_time(item.starts_at, self._zone, seconds=False)),
                Text(age(now - item.starts_at)),
                Text(clean(item.annotations.get("summary") or item.title)),
                key=str(item.id),
            )
        if selected is not None and selected in self._open:
            table.move_cursor(row=self._open.index(selected), animate=False)

    def _fill_recent(self) -> None:
        table = self.query_one("#triage-recent-items", DataTable)
        table.clear()
        for item in self._recent:
            table.add_row(
                Text(str(item.id)),
                Text(clean(alert_name(item))),
                Text(clean(decision_line(item, self._zone))),
                key=str(item.id),
            )

    def _show_detail(self, item: TriageItem | None) -> None:
        if item is None:
            self._detail.show(Text("No alerts are waiting for triage.", style="italic"))
            return
        self._detail.show(describe_item(item, self._zone, self.now or self.host.clock()))

    @property
    def selected_item(self) -> TriageItem | None:
        """The open item under the cursor of the open alerts' table."""
        table = self.query_one("#triage-items", DataTable)
        row = table.cursor_row
        return self._open[row] if table.row_count and 0 <= row < len(self._open) else None

    @on(DataTable.RowHighlighted, "#triage-items")
    def show_open_item(self) -> None:
        self._show_detail(self.selected_item)
        self.refresh_bindings()

    @on(DataTable.RowHighlighted, "#triage-recent-items")
    def show_recent_item(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self._recent):
            self._show_detail(self._recent[event.cursor_row])

    # --- actions ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {"declare_triage_item", "dismiss_triage_item"}:
            return self.selected_item is not None
        return True

    @on(DataTable.RowSelected, "#triage-items")
    def action_declare_triage_item(self) -> None:
        item = self.selected_item
        if item is not None:
            self.app.push_screen(TriageDeclareDialog(item), self._declare)

    def _declare(self, command: DeclareIncident | None) -> None:
        if command is not None:
            self.send_declaration(command)

    @work(group="declare", exit_on_error=False)
    async def send_declaration(self, command: DeclareIncident) -> None:
        try:
            ack = await self.host.send(command)
        except ClientError:
            return  # the app has shown why; the item stays open
        self.host.open_incident(ack.incident_id)

    def action_dismiss_triage_item(self) -> None:
        item = self.selected_item
        if item is None:
            return
        dialog = PromptDialog(
            f"Dismiss {alert_name(item)}",
            "Dismissed alerts are kept with the reason; if the group fires again, the new "
            "triage item says it was dismissed before.",
            "Reason",
            submit="Dismiss",
            placeholder="e.g. flapping during the deploy; tracked in OPS-123",
            variant="warning",
        )
        self.app.push_screen(dialog, lambda reason: self._dismiss(item.id, reason))

    def _dismiss(self, triage_id: int, reason: str | None) -> None:
        if reason:
            self.send_dismissal(triage_id, reason)

    @work(group="dismiss", exit_on_error=False)
    async def send_dismissal(self, triage_id: int, reason: str) -> None:
        # Dismissing is a write: a refusal (already declared by someone else) is shown by the app
        # like any refused write (`WriteRefused`).
        with contextlib.suppress(CommandRefused):
            await self.host.client.dismiss_triage(triage_id, reason)

    @on(Worker.StateChanged)
    def report_failed_worker(self, event: Worker.StateChanged) -> None:
        report_failed_worker(self.app, event)

    def action_close_triage(self) -> None:
        self.app.pop_screen()
