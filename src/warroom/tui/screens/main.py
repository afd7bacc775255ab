"""The incident screen: lays out the panes, keeps them fed, and turns actions into commands.

Actions by area live in mixins: `InvestigationActions` (triage, metrics, services, links) and
`CommsActions` (updates, approvals, resolving, the post-mortem); the roles, severity and phase
actions stay here.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.dom import DOMNode
from textual.widgets import Input, Select

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
from warroom.domain.replay_index import ReplayIndex
from warroom.domain.roles import Role
from warroom.tui.commands_table import (
    Scope,
    bindings_for,
    bound_keys,
    command_for,
    is_offered,
    server_offers,
)
from warroom.tui.connection_state import ConnectionInfo
from warroom.tui.host import WarroomHost
from warroom.tui.links import incident_services
from warroom.tui.screens.comms_actions import CommsActions
from warroom.tui.screens.entry_actions import EntryActions
from warroom.tui.screens.investigation_actions import InvestigationActions
from warroom.tui.screens.phase_dialog import PhaseChoice, PhaseDialog
from warroom.tui.screens.projector import ProjectorScreen
from warroom.tui.screens.replay import ReplayScreen
from warroom.tui.screens.role_dialog import RoleChoice, RoleDialog, named_roles
from warroom.tui.screens.severity_dialog import SeverityChoice, SeverityDialog
from warroom.tui.widgets.checklist_pane import ChecklistPane
from warroom.tui.widgets.header import IncidentHeader
from warroom.tui.widgets.metrics_pane import MetricsPane
from warroom.tui.widgets.role_footer import RoleFooter
from warroom.tui.widgets.roster_pane import RosterPane
from warroom.tui.widgets.scribe_input import ScribeInput
from warroom.tui.widgets.severity_pane import SeverityPane
from warroom.tui.widgets.timeline_pane import TimelinePane
from warroom.tui.widgets.timeline_view import TimelineView

REPLAY_WAITS = "Replay is for the review: it opens once the incident is resolved."
"""Said when the replay's key is pressed on an open incident."""


class MainScreen(InvestigationActions, CommsActions, EntryActions):
    """One incident, live: header, severity, roles, metrics, timeline, checklist, Scribe line."""

    BINDINGS = bindings_for(Scope.MAIN)

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-medium"), (220, "-wide")]
    """Width classes for `main.tcss`: below 110 columns the side column folds away."""
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    """Height classes for `main.tcss`: a short terminal keeps its rows for the timeline."""

    def __init__(self, host: WarroomHost, incident_id: int) -> None:
        super().__init__(host, incident_id)
        self._offered_for: tuple[object, ...] | None = None
        self._services: tuple[str, ...] | None = None

    def compose(self) -> ComposeResult:
        zone, clock = self.zone, self.host.clock
        yield IncidentHeader(zone).data_bind(
            MainScreen.state, MainScreen.now, MainScreen.connection, MainScreen.me
        )
        with Horizontal(id="body"):
            with Vertical(id="side"):
                yield SeverityPane(zone).data_bind(MainScreen.state)
                yield RosterPane().data_bind(MainScreen.state, MainScreen.online, MainScreen.me)
                yield MetricsPane(zone, clock).data_bind(
                    MainScreen.state,
                    snapshot=MainScreen.metrics,
                    note=MainScreen.metrics_note,
                    links=MainScreen.links,
                )
            with Vertical(id="work"):
                yield TimelinePane(zone, clock).data_bind(MainScreen.state, MainScreen.pending)
                yield ChecklistPane(zone).data_bind(MainScreen.state, MainScreen.me)
        yield ScribeInput(self.host.clock).data_bind(MainScreen.state, MainScreen.me)
        yield RoleFooter()

    def on_mount(self) -> None:
        self.now = self.host.clock()
        self.sync_from_client()
        self.sync_presence()
        self.sync_metrics()
        self.query_one("#timeline-view").focus()

    # --- fed by the app -----------------------------------------------------------------------

    def sync_from_client(self) -> None:
        """Show the incident as the client holds it now (called once per coalesced update)."""
        client = self.host.client
        self.me = client.user
        self.links = client.links
        self.pending = self.host.pending.for_incident(self.incident_id)
        self.state = state = client.states.get(self.incident_id)
        self.connection = ConnectionInfo(client.status, client.unsent, client.url, len(client.urls))
        if state is not None:
            self.announce_new_drafts(state)
            self.remind_to_close_public_side()
            services = tuple(incident_services(state))
            if services != self._services:
                # New services mean new signals to read; the first sync asks for the snapshot.
                self._services = services
                self.refresh_metrics()
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
        roster, incident = state.roster, state.incident
        offer = roster.ic_offer.to_user if roster.ic_offer is not None else None
        roles = roster.roles_of(self.me) if self.me else None
        # The gates of the command table: an offer, an open incident, listed services.
        return (self.me, roles, offer, incident.phase.is_open, bool(incident.services))

    def sync_presence(self) -> None:
        users = self.host.client.presence.get(self.incident_id, [])
        self.online = frozenset(u.user for u in users)

    # --- which actions are offered ------------------------------------------------------------

    def command_target(self, scope: Scope) -> DOMNode | None:
        targets: dict[Scope, str] = {
            Scope.TIMELINE: "#timeline-view",
            Scope.CHECKLIST: "#checklist-pane",
            Scope.SCRIBE: "#scribe",
        }
        if scope is Scope.MAIN:
            return self
        if scope is Scope.APP:
            return self.app
        selector = targets.get(scope)
        return self.query_one(selector) if selector is not None else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        spec = command_for(Scope.MAIN, action)
        if spec is None:
            return True
        features = self.host.client.features
        return server_offers(spec, features) and is_offered(spec, self.state, self.me)

    def explain_key_not_offered(self, key: str) -> None:
        """Say why `key` does nothing here, if it is the replay's while the incident is open.

        The app calls this for a key that reached it unhandled and was typed on this screen: a
        key not offered does nothing, and the replay's is pressed anyway (the review's habit,
        or the help lists it). Not handled here on the way up, where a key typed just before a
        dialog opened would be taken from the dialog (see `type_ahead`).
        """
        state = self.state
        if (
            state is not None
            and state.incident.phase.is_open
            and key in bound_keys(self, "incident.replay")
        ):
            self.notify(REPLAY_WAITS, title="Replay", markup=False)

    # --- actions ------------------------------------------------------------------------------

    def action_focus_scribe_input(self) -> None:
        self.query_one(ScribeInput).focus()

    def action_toggle_side_panes(self) -> None:
        # One class flips the default of the size: hidden when narrow, shown when wider.
        self.toggle_class("-side-toggled")

    def action_show_projector(self) -> None:
        self.app.push_screen(ProjectorScreen(self))

    @work(exclusive=True, group="replay", exit_on_error=False)
    async def action_replay_incident(self) -> None:
        """Open the replay at the incident as it stands, its whole log read from the server."""
        events = await self.host.client.read_log(self.incident_id)
        self.app.push_screen(ReplayScreen(ReplayIndex(events), self.zone))

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
                    # Made offline, it keeps the moment it was made, as an entry does.
                    typed_at=self.host.clock(),
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
        self.app.push_screen(RoleDialog(named_roles(), self._known_users()), self._assign)

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
                # Time is evidence: an entry typed while the server is unreachable keeps the
                # moment it was typed, not the moment the outbox delivered it.
                typed_at=self.host.clock(),
            )
        )

    def _known_users(self) -> set[str]:
        known = set(self.online)
        if self.state is not None:
            known.update(tenure.user for tenure in self.state.roster.history)
        return known
