"""The incident screen's editing actions: amending and striking timeline entries (asked from the
entry detail view), adding checklist items and naming their owners."""

from __future__ import annotations

from pydantic import ValidationError
from textual import on

from warroom.client.session import new_id
from warroom.domain.commands import AddChecklistItem, StrikeEntry
from warroom.domain.limits import MAX_TITLE
from warroom.domain.timeline import TimelineEntry
from warroom.tui.safe_text import clean
from warroom.tui.screens.amend_dialog import AmendDialog
from warroom.tui.screens.entry_detail import EntryDetailScreen
from warroom.tui.screens.incident_base import IncidentScreenBase
from warroom.tui.screens.owner_dialog import OwnerDialog
from warroom.tui.screens.prompt_dialog import PromptDialog
from warroom.tui.widgets.checklist_pane import ChecklistPane


class EntryActions(IncidentScreenBase):
    """Actions that change entries and checklist items; mixed into `MainScreen`. What the server
    refuses (someone struck the entry first, the role moved) is shown by the app; nothing
    changes here until the server's event arrives."""

    # --- timeline entries ---------------------------------------------------------------------

    @on(EntryDetailScreen.AmendRequested)
    def ask_for_amended_text(self, event: EntryDetailScreen.AmendRequested) -> None:
        self.app.push_screen(AmendDialog(self.incident_id, event.entry), self.send_command)

    @on(EntryDetailScreen.StrikeRequested)
    def ask_for_strike_reason(self, event: EntryDetailScreen.StrikeRequested) -> None:
        entry = event.entry
        dialog = PromptDialog(
            f"Strike entry #{entry.id}",
            f"{entry.author}: {entry.text}\n\nThe entry stays on the timeline, struck through, "
            "with your reason.",
            "Reason",
            submit="Strike",
            placeholder="e.g. wrong service, see the next entry",
            variant="error",
            dialog_id="strike-dialog",
        )
        self.app.push_screen(dialog, lambda reason: self._strike(entry, reason))

    def _strike(self, entry: TimelineEntry, reason: str | None) -> None:
        if reason is not None:
            self.send_command(
                StrikeEntry(
                    id=new_id(), incident_id=self.incident_id, entry_id=entry.id, reason=reason
                )
            )

    # --- the checklist ------------------------------------------------------------------------

    @on(ChecklistPane.ItemAddRequested)
    def ask_for_item_title(self) -> None:
        dialog = PromptDialog(
            "Add a mitigation",
            "The item is added to the end of the checklist, to do.",
            "Title",
            submit="Add",
            placeholder="e.g. Disable the new fraud check",
            dialog_id="add-item-dialog",
        )
        self.app.push_screen(dialog, self._add_item)

    def _add_item(self, title: str | None) -> None:
        if title is None:
            return
        try:
            command = AddChecklistItem(id=new_id(), incident_id=self.incident_id, title=title)
        except ValidationError:
            # The prompt allows reasons' length; a title must be shorter and on one line.
            self.notify(
                f"A checklist title is one line of at most {MAX_TITLE} characters: "
                f"{clean(title[:60])}...",
                title="Item not added",
                severity="error",
                markup=False,
            )
            return
        self.send_command(command)

    @on(ChecklistPane.OwnerChangeRequested)
    def ask_for_item_owner(self, event: ChecklistPane.OwnerChangeRequested) -> None:
        dialog = OwnerDialog(self.incident_id, event.item, self._people_in_the_room())
        self.app.push_screen(dialog, self.send_command)

    def _people_in_the_room(self) -> set[str]:
        """Who can own an item: whoever is connected or has held a role in this incident."""
        people = set(self.online)
        if self.state is not None:
            people.update(tenure.user for tenure in self.state.roster.history)
        return people
