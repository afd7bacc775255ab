"""The incident screen: lays out the panes, keeps them fed, and turns actions into commands."""

from __future__ import annotations

from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import Reactive, reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input, Select

from warroom.client.session import new_id
from warroom.domain.commands import (
    AcceptIc,
    AddEntry,
    AssignRole,
    DeclineIc,
    SetItemState,
    SetPhase,
    SetSeverity,
)
from warroom.domain.incident import IncidentState
from warroom.domain.roles import Role
from warroom.tui.commands_table import Scope, bindings_for, command_for, is_offered
from warroom.tui.connection_state import ConnectionInfo
from warroom.tui.host import WarroomHost
from warroom.tui.pending import PendingEntry
from warroom.tui.screens.phase_dialog import PhaseChoice, PhaseDialog
from warroom.tui.screens.role_dialog import ASSIGNABLE_ROLES, RoleChoice, RoleDialog
from warroom.tui.screens.severity_dialog import SeverityChoice, SeverityDialog
from warroom.tui.widgets.checklist_pane import ChecklistPane
from warroom.tui.widgets.header import IncidentHeader
from warroom.tui.widgets.metrics_pane import MetricsPane
from warroom.tui.widgets.roster_pane import RosterPane
from warroom.tui.widgets.scribe_input import ScribeInput
from warroom.tui.widgets.severity_pane import SeverityPane
from warroom.tui.widgets.timeline_pane import TimelinePane
from warroom.tui.widgets.timeline_view import TimelineView


class MainScreen(Screen[None]):
    """One incident, live: header, severity, roles, metrics, timeline, checklist, Scribe line."""

    BINDINGS = bindings_for(Scope.MAIN)

    state: Reactive[IncidentState | None] = reactive(None, always_update=True)
    """The incident as the client holds it now; set again on every update."""
    pending: Reactive[tuple[PendingEntry, ...]] = reactive(())
    """This console's entries on their way to the server."""
    online: Reactive[frozenset[str]] = reactive(frozenset())
    """Users connected to the incident now."""
    me: Reactive[str | None] = reactive(None)
    """The signed-in user (None until the server has said who the token belongs to)."""
    now: Reactive[datetime | None] = reactive(None)
    """The app clock, ticking every second."""
    connection: Reactive[ConnectionInfo] = reactive(ConnectionInfo())
    """The link to the server."""

    def __init__(self, host: WarroomHost, incident_id: int) -> None:
        super().__init__(id=f"incident-{incident_id}")
        self.host = host
        self.incident_id = incident_id
        """The incident this screen follows."""
        self._zone = host.clock().tzinfo
        self._offered_for: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        zone = self._zone
        yield IncidentHeader().data_bind(MainScreen.state, MainScreen.now, MainScreen.connection)
        with Horizontal(id="body"):
            with Vertical(id="side"):
                yield SeverityPane(zone).data_bind(MainScreen.state)
                yield RosterPane().data_bind(MainScreen.state, MainScreen.online, MainScreen.me)
                yield MetricsPane(zone).data_bind(MainScreen.state)
            with Vertical(id="work"):
                yield TimelinePane(zone).data_bind(MainScreen.state, MainScreen.pending)
                yield ChecklistPane(zone).data_bind(MainScreen.state, MainScreen.me)
        yield ScribeInput(self.host.clock).data_bind(MainScreen.state, MainScreen.me)
        yield Footer()

    def on_mount(self) -> None:
        self.now = self.host.clock()
        self.sync_from_client()
        self.sync_presence()
        self.query_one("#timeline-view").focus()

    # --- fed by the app -----------------------------------------------------------------------

    def sync_from_client(self) -> None:
        """Show the incident as the client holds it now (called once per coalesced update)."""
        client = self.host.client
        self.me = client.user
        self.pending = self.host.pending.for_incident(self.incident_id)
        self.state = client.states.get(self.incident_id)
        self.connection = ConnectionInfo(client.status, client.unsent)
        # The footer rebuilds itself on every bindings refresh, so refresh only when what is
        # offered may have changed: the user or their roles, not every timeline event.
        roles = self._roles_key()
        if roles != self._offered_for:
            self._offered_for = roles
            self.refresh_bindings()

    def _roles_key(self) -> tuple[object, ...]:
        state = self.state
        if state is None:
            return (self.me,)
        roster = state.roster
        offer = roster.ic_offer.to_user if roster.ic_offer is not None else None
        return (self.me, roster.roles_of(self.me) if self.me else None, offer)

    def sync_presence(self) -> None:
        users = self.host.client.presence.get(self.incident_id, [])
        self.online = frozenset(u.user for u in users)

    # --- which actions are offered ------------------------------------------------------------

    def command_target(self, scope: Scope) -> Widget | None:
        targets: dict[Scope, str] = {
            Scope.TIMELINE: "#timeline-view",
            Scope.CHECKLIST: "#checklist-pane",
            Scope.SCRIBE: "#scribe",
        }
        if scope is Scope.MAIN:
            return self
        selector = targets.get(scope)
        return self.query_one(selector) if selector is not None else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        spec = command_for(Scope.MAIN, action)
        return spec is None or is_offered(spec, self.state, self.me)

    # --- actions ------------------------------------------------------------------------------

    def action_focus_scribe_input(self) -> None:
        self.query_one(ScribeInput).focus()

    def action_focus_timeline_search(self) -> None:
        self.query_one("#timeline-search", Input).focus()

    def action_focus_timeline_filter(self) -> None:
        self.query_one("#timeline-kind", Select).focus()

    def action_change_severity(self) -> None:
        if self.state is not None:
            dialog = SeverityDialog(self.state.incident.severity)
            self.app.push_screen(dialog, self._change_severity)

    def _change_severity(self, choice: SeverityChoice | None) -> None:
        if choice is not None:
            self.host.send(
                SetSeverity(
                    id=new_id(),
                    incident_id=self.incident_id,
                    severity=choice.severity,
                    expected=choice.expected,
                    reason=choice.reason,
                )
            )

    def action_change_phase(self) -> None:
        if self.state is not None:
            self.app.push_screen(PhaseDialog(self.state.incident.phase), self._change_phase)

    def _change_phase(self, choice: PhaseChoice | None) -> None:
        if choice is not None:
            self.host.send(
                SetPhase(
                    id=new_id(),
                    incident_id=self.incident_id,
                    phase=choice.phase,
                    expected=choice.expected,
                    reason=choice.reason,
                )
            )

    def action_assign_role(self) -> None:
        self.app.push_screen(RoleDialog(ASSIGNABLE_ROLES, self._known_users()), self._assign)

    def action_offer_ic_handoff(self) -> None:
        self.app.push_screen(RoleDialog((Role.IC,), self._known_users()), self._assign)

    def _assign(self, choice: RoleChoice | None) -> None:
        if choice is None or choice.role is Role.OBSERVER:
            return
        self.host.send(
            AssignRole(
                id=new_id(),
                incident_id=self.incident_id,
                role=choice.role,
                user=choice.user,
                service=choice.service,
            )
        )

    def action_accept_ic_role(self) -> None:
        self.host.send(AcceptIc(id=new_id(), incident_id=self.incident_id))

    def action_decline_ic_role(self) -> None:
        self.host.send(DeclineIc(id=new_id(), incident_id=self.incident_id))

    def action_withdraw_ic_offer(self) -> None:
        self.host.send(DeclineIc(id=new_id(), incident_id=self.incident_id))

    def action_switch_incident(self) -> None:
        self.host.show_incident_picker()

    def action_declare_incident(self) -> None:
        self.host.show_incident_picker(declare=True)

    @on(ChecklistPane.ItemStateRequested)
    def set_checklist_item_state(self, event: ChecklistPane.ItemStateRequested) -> None:
        self.host.send(
            SetItemState(
                id=new_id(),
                incident_id=self.incident_id,
                item_id=event.item_id,
                state=event.state,
                expected=event.expected,
            )
        )

    @on(ScribeInput.EntryRequested)
    def post_timeline_entry(self, event: ScribeInput.EntryRequested) -> None:
        entry = event.entry
        # Whoever writes wants to see their entry land, even if they had scrolled up to read.
        self.query_one(TimelineView).action_follow_timeline()
        self.host.post_entry(
            AddEntry(
                id=new_id(),
                incident_id=self.incident_id,
                kind=entry.kind,
                text=entry.text,
                occurred_at=entry.occurred_at,
                correlation_id=entry.correlation_id,
            )
        )

    def _known_users(self) -> set[str]:
        known = set(self.online)
        if self.state is not None:
            known.update(tenure.user for tenure in self.state.roster.history)
        return known
