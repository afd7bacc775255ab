"""The incident screen's communication and closing actions: internal and public updates, the
communications view, resolving, and exporting the post-mortem draft."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, tzinfo

from rich.text import Text
from textual import on, work

from warroom.client.session import new_id
from warroom.domain.checklist import ItemState
from warroom.domain.commands import PostStatusUpdate, SetPhase
from warroom.domain.communications import DraftStatus, public_title
from warroom.domain.incident import POSTMORTEM_DUE_AFTER, IncidentState
from warroom.domain.permissions import Permission, allows
from warroom.domain.phase import Phase
from warroom.domain.public_side import ClosingReminder, closing_reminder
from warroom.domain.severity import Severity
from warroom.tui.commands_table import key_hint
from warroom.tui.comms_format import closing_words
from warroom.tui.links import incident_services
from warroom.tui.postmortem_export import export_postmortem, render_postmortem
from warroom.tui.safe_text import clean
from warroom.tui.screens.comms import CommsScreen
from warroom.tui.screens.export_dialog import ExportChoice, ExportDialog
from warroom.tui.screens.incident_base import IncidentScreenBase
from warroom.tui.screens.prompt_dialog import PromptDialog
from warroom.tui.screens.public_update_dialog import PublicUpdateDialog
from warroom.tui.screens.status_update_dialog import StatusUpdateDialog
from warroom.tui.time_format import clock_time
from warroom.tui.widgets.header import IncidentHeader
from warroom.tui.words import count

_POSTMORTEM_HOURS = int(POSTMORTEM_DUE_AFTER.total_seconds() // 3600)

REMIND_EVERY = timedelta(minutes=5)
"""How often the IC is reminded that a resolved incident's public page is still open."""


class CommsActions(IncidentScreenBase):
    """Actions of the communications area; mixed into `MainScreen`."""

    _announced_drafts: set[int] | None = None
    """Drafts the IC was already told about; None until the first state arrives."""

    def action_post_internal_update(self) -> None:
        state = self.state
        if state is not None:
            opened_with = state.incident.severity

            def severity_now() -> Severity:
                return self.state.incident.severity if self.state is not None else opened_with

            dialog = StatusUpdateDialog(self.incident_id, severity_now, self.host.clock)
            self.app.push_screen(dialog, self.post_status_update)

    def post_status_update(self, command: PostStatusUpdate | None) -> None:
        """Post what the form built, shown greyed in the timeline until the server has it: an
        update kept while offline said so only in a toast and the header's unsent count."""
        if command is not None:
            self.host.post_entry(command)

    def action_draft_public_update(self) -> None:
        state = self.state
        if state is not None:
            dialog = PublicUpdateDialog(
                self.incident_id,
                public_title(state.external_updates),
                state.incident.phase,
                incident_services(state),
            )
            self.app.push_screen(dialog, self.send_command)

    def action_show_comms(self) -> None:
        self.app.push_screen(CommsScreen(self, self.host, self.incident_id))

    def announce_new_drafts(self, state: IncidentState) -> None:
        """Ring the bell for the IC, once, when a public draft starts waiting for them.

        What waits is said in the header, read from the state: a toast would stay on every
        screen after the draft was decided.
        """
        pending = {d.id for d in state.external_updates if d.status is DraftStatus.PENDING}
        seen = self._announced_drafts
        self._announced_drafts = pending | (seen or set())
        if seen is None or not pending - seen or self.me is None:
            return
        if allows(state.roster.roles_of(self.me), Permission.APPROVE_EXTERNAL):
            self.app.bell()

    _closing_reminded: tuple[ClosingReminder, datetime] | None = None
    """The last reminder to close the public side, and when it was shown."""

    def remind_to_close_public_side(self) -> None:
        """Remind the IC, until they approve the resolved update or send it back, that the
        incident is resolved while the public page still says otherwise (again every
        `REMIND_EVERY`, and at once when what is left to do changes)."""
        state, me = self.state, self.me
        reminder = closing_reminder(state) if state is not None else None
        if (
            state is None
            or reminder is None
            or me is None
            or not allows(state.roster.roles_of(me), Permission.APPROVE_EXTERNAL)
        ):
            self._closing_reminded = None
            return
        now = self.now or self.host.clock()
        last = self._closing_reminded
        if last is not None and last[0] == reminder and now - last[1] < REMIND_EVERY:
            return
        self._closing_reminded = (reminder, now)
        words = closing_words(
            reminder,
            f"press {key_hint(self, 'comms.show')}, then {key_hint(self, 'comms-view.approve')}",
            key_hint(self, "comms.public"),
        )
        self.notify(
            words, title="Close the public side", severity="warning", timeout=30, markup=False
        )

    def watch_now(self) -> None:
        self.remind_to_close_public_side()

    @on(IncidentHeader.UpdateOverdue)
    def warn_update_overdue(self, event: IncidentHeader.UpdateOverdue) -> None:
        state = self.state
        if state is None or self.me is None:
            return
        if allows(state.roster.roles_of(self.me), Permission.POST_STATUS):
            self.notify(
                f"The internal update is overdue: press {key_hint(self, 'comms.internal')} to "
                "post one.",
                title=f"{state.incident.severity.label} update overdue",
                severity="error",
                timeout=30,
                markup=False,
            )

    # --- resolving and the post-mortem --------------------------------------------------------

    def action_resolve_incident(self) -> None:
        state = self.state
        if state is None or not state.incident.phase.is_open:
            return
        warning = loose_ends(state, self.zone)
        dialog = PromptDialog(
            f"Resolve incident #{self.incident_id}",
            "Resolve once user-facing impact is gone. The on-call page is resolved too, and "
            f"the blameless post-mortem is due within {_POSTMORTEM_HOURS} hours.",
            "Reason (optional, goes to the timeline)",
            submit="Resolve",
            required=False,
            placeholder="e.g. rollback complete, error rate back to baseline",
            variant="error",
            dialog_id="resolve-dialog",
            warning=warning,
        )
        phase = state.incident.phase
        self.app.push_screen(dialog, lambda reason: self._resolve(phase, reason))

    def _resolve(self, seen: Phase, reason: str | None) -> None:
        if reason is not None:
            self.send_command(
                SetPhase(
                    id=new_id(),
                    incident_id=self.incident_id,
                    phase=Phase.RESOLVED,
                    expected=seen,
                    reason=reason,
                )
            )

    def action_export_postmortem(self) -> None:
        self.app.push_screen(ExportDialog(self.incident_id), self._export)

    def _export(self, choice: ExportChoice | None) -> None:
        if choice is not None:
            self.write_postmortem(choice)

    @work(group="export", exit_on_error=False)
    async def write_postmortem(self, choice: ExportChoice) -> None:
        if self.app.is_web:
            await self._send_postmortem_to_browser(choice)
            return
        try:
            written = await export_postmortem(
                self.host.client,
                self.incident_id,
                choice.markdown,
                html=choice.html,
                generated_at=self.host.clock(),
                zone=self.zone,
            )
        except OSError as exc:
            where = clean(str(exc.filename or choice.markdown))
            self.notify(
                f"{clean(exc.strerror or str(exc))}: {where}",
                title="Post-mortem not written",
                severity="error",
                markup=False,
            )
            return
        self.notify(
            # The full path: the console's working folder is not always where people think.
            clean(" and ".join(str(path.resolve()) for path in written)),
            title="Post-mortem draft written",
            timeout=15,
            markup=False,
        )

    async def _send_postmortem_to_browser(self, choice: ExportChoice) -> None:
        """In a browser the console runs on someone else's host: the draft goes to the browser
        as downloads, named like the files, and nothing is written on the host."""
        documents = await render_postmortem(
            self.host.client,
            self.incident_id,
            choice.markdown,
            html=choice.html,
            generated_at=self.host.clock(),
            zone=self.zone,
        )
        for path, text in documents:
            self.app.deliver_text(io.StringIO(text), save_filename=path.name)
        self.notify(
            clean(" and ".join(path.name for path, _ in documents)),
            title="Post-mortem draft sent to your browser",
            timeout=15,
            markup=False,
        )


def loose_ends(state: IncidentState, zone: tzinfo | None) -> Text | None:
    """What resolving would leave behind: mitigations still in progress and public drafts the
    IC has not decided on, listed for the resolve dialog; None when there are none."""
    doing = [item for item in state.checklist if item.state is ItemState.IN_PROGRESS]
    drafts = [d for d in state.external_updates if d.status is DraftStatus.PENDING]
    if not doing and not drafts:
        return None
    text = Text()
    text.append("Before you resolve\n", style="bold")
    if doing:
        text.append(f"{count(len(doing), 'mitigation')} still in progress:\n")
        for item in doing:
            text.append("  • ")
            text.append(clean(item.title))
            if item.owner:
                text.append(f" ({clean(item.owner)})", style="italic")
            text.append("\n")
    if drafts:
        text.append(f"{count(len(drafts), 'public draft')} not approved (never published):\n")
        for draft in drafts:
            text.append("  • ")
            text.append(clean(draft.title))
            when = clock_time(draft.drafted_at, zone, seconds=False)
            text.append(f" — {clean(draft.drafted_by)}, {when}", style="italic")
            text.append("\n")
    text.rstrip()
    return text
