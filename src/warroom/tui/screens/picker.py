"""The incident picker: every incident on the server, and the form to declare a new one."""

from __future__ import annotations

from pydantic import ValidationError
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.dom import DOMNode
from textual.reactive import Reactive, reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, Select, Static

from warroom.client.session import ClientError, new_id
from warroom.client.updates import ConnectionStatus
from warroom.domain.commands import DeclareIncident
from warroom.domain.incident import IncidentSummary
from warroom.domain.limits import MAX_SUMMARY, MAX_TITLE
from warroom.domain.severity import Severity
from warroom.tui.commands_table import Scope, bindings_for, command_for, key_hint, server_offers
from warroom.tui.connection_state import ConnectionInfo
from warroom.tui.host import WarroomHost
from warroom.tui.safe_text import clean
from warroom.tui.severity_colors import severity_style
from warroom.tui.time_format import day_and_time
from warroom.tui.triage_format import open_count
from warroom.tui.widgets.role_footer import RoleFooter
from warroom.tui.words import count

REFRESH_EVERY = 10.0
"""Seconds between reloads of the list while the picker is open (the server does not push it)."""

FORM_HINTS: dict[str, str] = {
    "declare-title": "Enter declares · Tab: choose the severity",
    "declare-severity": "↑↓ lists severities, Enter picks · Tab: summary",
    "declare-summary": "Enter declares",
    "declare": "Enter declares",
}
"""What the keys do in the declare form, by the field that has focus: the footer only lists the
screen's own keys, and a newcomer must not have to guess how to pick the severity."""
FORM_HINT_ELSEWHERE = "Type a title to declare a new incident"


class PickerScreen(Screen[None]):
    """Pick an incident to open, or declare one (the declarer becomes its IC)."""

    HELP_SCOPE = Scope.PICKER
    """Listed first in help opened here."""

    BINDINGS = bindings_for(Scope.PICKER)

    connection: Reactive[ConnectionInfo] = reactive(ConnectionInfo())
    """The link to the server, so an empty list is not mistaken for "no incidents"."""
    open_alerts: Reactive[int] = reactive(0)
    """Alerts waiting in triage, so the on-call engineer sees them from here."""

    def __init__(self, host: WarroomHost, *, declare: bool = False) -> None:
        super().__init__(id="picker")
        self.host = host
        self._focus_form = declare
        self._refresh_timer: Timer | None = None
        self._status = Static(id="picker-status")
        self._summary = "loading incidents…"
        self._error = Static("", classes="dialog-error")
        self._hint = Static(FORM_HINT_ELSEWHERE, id="declare-hint")

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-list", classes="pane") as box:
            box.border_title = "Incidents"
            yield DataTable[Text](id="incident-list", cursor_type="row", zebra_stripes=True)
            yield self._status
        with Vertical(id="declare-form", classes="pane") as form:
            form.border_title = "Declare a new incident (you become its IC)"
            # Not selected on focus: the key that starts a title from the list is already in
            # it when the focus arrives, and the next key would replace it.
            yield Input(placeholder="Title, e.g. Payment processing down", id="declare-title",
                        max_length=MAX_TITLE, select_on_focus=False)  # fmt: skip
            # Tab follows the DOM: title, severity, summary, then the button. The button sits
            # right of the error line, clear of the severity dropdown when it opens.
            with Horizontal(id="declare-row"):
                yield Select(
                    [(f"{s.label} · {s.policy.title}", s) for s in Severity],
                    value=Severity.SEV2,
                    allow_blank=False,
                    id="declare-severity",
                )
                yield Input(placeholder="Summary (optional)", id="declare-summary",
                            max_length=MAX_SUMMARY)  # fmt: skip
            with Horizontal(id="declare-buttons"):
                with Vertical(id="declare-notes"):
                    yield self._hint
                    yield self._error
                yield Button("Declare", variant="error", id="declare")
        yield RoleFooter()

    def on_mount(self) -> None:
        table = self.query_one("#incident-list", DataTable)
        for label, key in (("#", "id"), ("SEV", "sev"), ("Phase", "phase"), ("Title", "title"),
                           ("IC", "ic"), ("Declared", "declared")):  # fmt: skip
            table.add_column(label, key=key)
        self.connection = ConnectionInfo(
            self.host.client.status,
            self.host.client.unsent,
            self.host.client.url,
            len(self.host.client.urls),
        )
        self.open_alerts = open_count(self.host.client.triage)
        if self._focus_form:
            self.action_focus_declare_form()
        self.action_refresh_incidents()

    def command_target(self, scope: Scope) -> Widget | None:
        return self if scope is Scope.PICKER else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_picker":
            # Only when an incident screen lies beneath to go back to.
            return any(getattr(s, "incident_id", None) for s in self.app.screen_stack[:-1])
        spec = command_for(Scope.PICKER, action)
        return spec is None or server_offers(spec, self.host.client.features)

    def watch_connection(self) -> None:
        self._show_status()

    def watch_open_alerts(self) -> None:
        self._show_status()

    def _show_status(self) -> None:
        status = Text(f"{clean(self.connection.text)}  ·  {self._summary}")
        if self.open_alerts:
            waits = "waits" if self.open_alerts == 1 else "wait"
            alerts = f"{count(self.open_alerts, 'alert')} {waits}"
            status.append("  ·  ")
            key = key_hint(self, "picker.triage")
            status.append(f" ⚑ {alerts} in triage ({key}) ", style="bold reverse")
        self._status.update(status)

    # --- list ---------------------------------------------------------------------------------

    def action_refresh_incidents(self) -> None:
        if self._refresh_timer is not None:
            self._refresh_timer.stop()
        self.load_incidents()

    @work(exclusive=True, group="incidents", exit_on_error=False)
    async def load_incidents(self) -> None:
        if self.host.client.status is not ConnectionStatus.CONNECTED:
            self._summary = "waiting for the server to list incidents…"
            self._show_status()
        try:
            incidents = await self.host.client.list_incidents()
        except ClientError as exc:
            self._summary = f"cannot list incidents: {clean(str(exc))}"
            self._show_status()
            return
        self._show_incidents(incidents)
        # Poll, finish, reschedule: the next load starts only after this one answered.
        self._refresh_timer = self.set_timer(REFRESH_EVERY, self.load_incidents)

    def _show_incidents(self, incidents: list[IncidentSummary]) -> None:
        table = self.query_one("#incident-list", DataTable)
        selected = table.cursor_row
        table.clear()
        zone = self.host.clock().tzinfo
        # Table cells are Rich text, so the theme's severity colour is read from its variables.
        variables = self.app.theme_variables
        for inc in sorted(incidents, key=lambda i: (i.resolved_at is not None, -i.id)):
            sev = Text(inc.severity.label, style=severity_style(variables, inc.severity))
            table.add_row(
                Text(str(inc.id)),
                sev,
                Text(inc.phase.value.replace("_", " ")),
                Text(clean(inc.title)),
                Text(clean(inc.ic)),
                Text(day_and_time(inc.declared_at, zone)),
                key=str(inc.id),
            )
        if table.row_count:
            table.move_cursor(row=min(max(selected, 0), table.row_count - 1))
        if not incidents and self.focused is not None and self.focused.id == "incident-list":
            # Nothing to pick: the title box is where the first key goes. Typing there from the
            # list raced the focus in a real terminal, and a fast typist lost letters.
            self.action_focus_declare_form()
        self._summary = (
            f"{count(len(incidents), 'incident')} · Enter opens one"
            if incidents
            else "no incidents yet: declare one below"
        )
        self._show_status()

    @on(DataTable.RowSelected, "#incident-list")
    def open_selected_incident(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.host.open_incident(int(event.row_key.value))

    def action_close_picker(self) -> None:
        self.app.pop_screen()

    def action_show_triage(self) -> None:
        self.host.show_triage()

    # --- declaring ----------------------------------------------------------------------------

    def key_read(self, key: events.Key) -> None:
        """Called as the app reads each key, before handing it to the widget with the focus.

        "Declare one below" takes typing at once: a printable key read while the list has the
        focus starts the title, and the focus moves there before the key is handed on. Moved
        later, once the list had handled the first key, the rest of a burst was already on
        its way to the list and reached the picker after the focus had left it: a typist lost
        all but the "C" of a title in a real terminal, and keys replayed from the list fell
        in behind the ones typed after the move. A key the screen binds (q quits, ? helps)
        keeps its meaning: as in k9s and lazygit, q quits wherever no text is being edited.
        """
        if (
            key.is_printable
            and key.key not in self.active_bindings
            and self.focused is self.query_one("#incident-list")
        ):
            self.set_focus(self.query_one("#declare-title", Input))

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # The field itself, or the field whose part took focus (the severity's open list).
        node: DOMNode | None = event.widget
        while node is not None and node.id not in FORM_HINTS:
            node = node.parent
        self._hint.update(
            FORM_HINTS[node.id] if node is not None and node.id else FORM_HINT_ELSEWHERE
        )

    def action_focus_declare_form(self) -> None:
        self.query_one("#declare-title", Input).focus()

    @on(Button.Pressed, "#declare")
    @on(Input.Submitted, "#declare-title, #declare-summary")
    def declare_incident(self) -> None:
        severity = self.query_one("#declare-severity", Select).value
        try:
            command = DeclareIncident(
                id=new_id(),
                title=self.query_one("#declare-title", Input).value.strip(),
                severity=severity if isinstance(severity, Severity) else Severity.SEV2,
                summary=self.query_one("#declare-summary", Input).value.strip(),
            )
        except ValidationError:
            self._error.update(Text("Give the incident a one-line title (up to 200 characters)."))
            return
        self._error.update(Text("Declaring… (sent as soon as the server answers)"))
        self.send_declaration(command)

    @work(group="declare", exit_on_error=False)
    async def send_declaration(self, command: DeclareIncident) -> None:
        try:
            ack = await self.host.send(command)
        except ClientError:
            self._error.update(Text("Not declared; see the message above."))
            return
        self.host.open_incident(ack.incident_id)
