"""The incident screen's investigation actions: triage, metrics (refresh, pin), services, and
the links of entries and dashboards."""

from __future__ import annotations

from textual import on, work

from warroom.client.session import CommandRefused, new_id
from warroom.domain.commands import AddService, RemoveService
from warroom.domain.links import DEFAULT_KEY
from warroom.tui.links import dashboard_items, dashboard_links, entry_links
from warroom.tui.screens.entry_detail import EntryDetailScreen
from warroom.tui.screens.incident_base import IncidentScreenBase
from warroom.tui.screens.links_dialog import LinksDialog
from warroom.tui.screens.service_dialog import AddServiceDialog, RemoveServiceDialog
from warroom.tui.widgets.timeline_view import TimelineView


class InvestigationActions(IncidentScreenBase):
    """Actions of the investigation area; mixed into `MainScreen`."""

    def action_show_triage(self) -> None:
        self.host.show_triage()

    # --- metrics ------------------------------------------------------------------------------

    def sync_metrics(self) -> None:
        """Show the snapshot the server last pushed for this incident."""
        snapshot = self.host.client.metrics.get(self.incident_id)
        if snapshot is not None:
            self.metrics = snapshot

    @work(exclusive=True, group="metrics", exit_on_error=False)
    async def refresh_metrics(self) -> None:
        """Ask for the latest snapshot (the server takes one if it has none) or why there is
        none; the server pushes later ones by itself."""
        report = await self.host.client.get_metrics(self.incident_id)
        self.metrics_note = report.error or ""
        if report.snapshot is not None:
            self.metrics = report.snapshot

    def action_pin_metrics(self) -> None:
        self.pin_metrics()

    @work(group="pin", exit_on_error=False)
    async def pin_metrics(self) -> None:
        # Pinning is a write: a refusal (no snapshot, no services, no Prometheus) is shown by the
        # app like any refused write (`WriteRefused`); nothing was written.
        try:
            await self.host.client.pin_metrics(self.incident_id)
        except CommandRefused:
            return
        self.notify("The current metrics are on the timeline.", title="Metrics pinned")

    # --- services -----------------------------------------------------------------------------

    def action_add_service(self) -> None:
        state = self.state
        if state is None:
            return
        known = [name for name in self.links if name != DEFAULT_KEY]
        dialog = AddServiceDialog(state.incident.services, known)
        self.app.push_screen(dialog, self._add_service)

    def _add_service(self, service: str | None) -> None:
        if service is not None:
            self.send_command(
                AddService(id=new_id(), incident_id=self.incident_id, service=service)
            )

    def action_remove_service(self) -> None:
        state = self.state
        if state is not None and state.incident.services:
            dialog = RemoveServiceDialog(state.incident.services)
            self.app.push_screen(dialog, self._remove_service)

    def _remove_service(self, service: str | None) -> None:
        if service is not None:
            self.send_command(
                RemoveService(id=new_id(), incident_id=self.incident_id, service=service)
            )

    # --- links --------------------------------------------------------------------------------

    def action_show_links(self) -> None:
        state = self.state
        if state is not None:
            links = dashboard_links(state, self.links, self.host.clock())
            self.app.push_screen(LinksDialog(dashboard_items(links)))

    @on(TimelineView.EntryOpened)
    def show_entry_in_full(self, event: TimelineView.EntryOpened) -> None:
        state = self.state
        links = entry_links(event.entry, state, self.links) if state is not None else []
        self.app.push_screen(EntryDetailScreen(event.entry, self.zone, links))
