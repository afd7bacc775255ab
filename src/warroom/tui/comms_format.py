"""Words for the communications view: a draft's status, the draft in full, the update clock, the
reminder to close the public side (pure; no textual)."""

from __future__ import annotations

from datetime import datetime, tzinfo

from rich.text import Text

from warroom.domain.communications import DraftStatus, ExternalUpdate
from warroom.domain.incident import IncidentState
from warroom.domain.public_side import ClosingReminder
from warroom.domain.timeline import EntryKind
from warroom.domain.update_clock import update_status
from warroom.tui.safe_text import clean
from warroom.tui.time_format import clock_time, duration


def status_words(draft: ExternalUpdate, ic: str, zone: tzinfo | None) -> str:
    """`waiting for the IC (alice)`, `approved by alice 14:10 · published`,
    `sent back by alice 14:11: say which regions`."""
    when = f" {clock_time(draft.decided_at, zone, seconds=False)}" if draft.decided_at else ""
    match draft.status:
        case DraftStatus.PENDING:
            return f"waiting for the IC ({ic})"
        case DraftStatus.APPROVED:
            return f"approved by {draft.decided_by}{when} · published"
        case DraftStatus.REJECTED:
            return f"sent back by {draft.decided_by}{when}: {draft.comment}"


def describe_draft(draft: ExternalUpdate, ic: str, zone: tzinfo | None) -> Text:
    """The draft as the status page would show it, and where it stands."""
    text = Text()
    text.append(f"#{draft.id} ", style="bold")
    text.append(clean(draft.title), style="bold")
    text.append(f"   {draft.state.value}", style="italic")
    components = ", ".join(clean(c) for c in draft.components) or "—"
    text.append(f"\ncomponents  {components}")
    text.append(f"\ndrafted     by {clean(draft.drafted_by)} ")
    text.append(clock_time(draft.drafted_at, zone, seconds=False))
    text.append("\nstatus      ")
    style = "bold reverse" if draft.status is DraftStatus.PENDING else "bold"
    text.append(clean(status_words(draft, ic, zone)), style=style)
    text.append("\n\n")
    text.append(clean(draft.text, keep_newlines=True))
    return text


def clock_line(state: IncidentState, now: datetime, zone: tzinfo | None) -> tuple[Text, bool]:
    """The internal-update clock for the CL, and whether it is overdue."""
    status = update_status(state, now)
    text = Text("Internal updates: ", style="bold")
    last = next((e for e in state.timeline.newest_of_kind(EntryKind.STATUS) if not e.struck), None)
    if last is not None:
        text.append(f"last {clock_time(last.at, zone, seconds=False)} by {clean(last.author)}")
    else:
        text.append("none posted yet")
    if status.due_at is None or status.remaining is None:
        text.append(" · none owed now")
        return text, False
    due = clock_time(status.due_at, zone, seconds=False)
    if status.overdue:
        text.append(f" · OVERDUE since {due} ({duration(status.remaining)})", style="bold")
    else:
        text.append(f" · next due {due} (in {duration(status.remaining)})")
    return text, status.overdue


def closing_words(reminder: ClosingReminder, approve_keys: str, draft_key: str) -> str:
    """The reminder that the incident is resolved but the public page does not say so yet;
    `approve_keys` says how to approve (`press c, then a`), `draft_key` how to draft."""
    told = f"Resolved, but the status page still says {reminder.public_state.value}."
    if reminder.draft_id is None:
        return f"{told} Press {draft_key} to draft a resolved update for it."
    return (
        f"{told} Public update #{reminder.draft_id} (resolved) waits for the IC: "
        f"{approve_keys} to approve it, or send it back to leave the page as it is."
    )
