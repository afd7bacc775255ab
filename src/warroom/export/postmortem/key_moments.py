"""The post-mortem's "Key moments": the events a review walks through, each with its incident time,
its event seq and the command that opens the replay right there.

Read from the log, in order: every severity change, every role handoff (the IC handed over, a
role assigned), the first mitigation marked done, every public update published, and every
resolution. A severity change made offline is dated when it was made, as everywhere else; its
row stays in the log's order. The seq is the anchor: `warroom replay INCIDENT --at SEQ` shows
the incident as it stood right after that event.
"""

from __future__ import annotations

from datetime import datetime

from warroom.domain.checklist import ItemState
from warroom.domain.events import (
    ChecklistItemChanged,
    Event,
    ExternalApproved,
    IcAccepted,
    PhaseChanged,
    RoleAssigned,
    SeverityChanged,
)
from warroom.domain.instants import span
from warroom.domain.phase import Phase
from warroom.domain.timeline import entry_when
from warroom.export.postmortem.clock import duration_text
from warroom.export.postmortem.context import Context, prompt
from warroom.export.postmortem.document import Block, Inline, Paragraph, Table, code, em, inline

NOTE = (
    "The moments to walk through in the review. Each seq is an anchor into the replay: the "
    "command beside it opens the console read-only on the incident as it stood right after it."
)


def replay_command(incident_id: int, seq: int) -> str:
    """The command that opens the replay at event `seq`."""
    return f"warroom replay {incident_id} --at {seq}"


def moment_at(event: Event) -> datetime:
    """When the moment happened: a severity change made offline keeps the time it was made, as
    the timeline and the severity history show it; every other moment is when it was recorded."""
    body = event.body
    if isinstance(body, SeverityChanged):
        return entry_when(event.at, None, body.typed_at)
    return event.at


def key_moments(ctx: Context) -> list[Block]:
    """The section: one row per key moment, in the order they happened."""
    inc = ctx.state.incident
    rows: list[tuple[Inline, ...]] = []
    mitigated = False
    for event in ctx.events:
        what = _moment(ctx, event, first_mitigation=not mitigated)
        if what is None:
            continue
        if isinstance(event.body, ChecklistItemChanged):
            mitigated = True
        at = moment_at(event)
        since = duration_text(span(inc.declared_at, at))
        rows.append(
            (
                inline(f"+{since}"),
                inline(ctx.clock.utc(at)),
                inline(str(event.seq)),
                what,
                inline(code(replay_command(inc.id, event.seq))),
            )
        )
    if not rows:
        return [prompt("No severity change, handoff, mitigation, public update or resolution.")]
    header = ("Incident time", "At", "Seq", "Moment", "Replay")
    return [Paragraph(inline(em(NOTE))), Table(header, rows)]


def _moment(ctx: Context, event: Event, *, first_mitigation: bool) -> Inline | None:
    """What `event` did, if it is a key moment."""
    body = event.body
    match body:
        case SeverityChanged():
            reason = f": {body.reason.strip()}" if body.reason.strip() else ""
            return inline(
                f"Severity {body.previous.label} \u2192 {body.severity.label} by {event.actor}",
                reason,
            )
        case IcAccepted():
            return inline(f"IC handed over from {body.previous} to {body.user}")
        case RoleAssigned():
            service = f" ({body.service})" if body.service else ""
            return inline(f"{body.user} became {body.role.full_name}{service}")
        case ChecklistItemChanged() if first_mitigation and body.state is ItemState.DONE:
            item = ctx.state.item(body.item_id)
            title = f": {item.title.strip()}" if item is not None else ""
            return inline(f"First mitigation applied by {event.actor}{title}")
        case ExternalApproved():
            draft = ctx.state.external_update(body.draft_id)
            if draft is None:
                return inline("Public update published")
            return inline(
                f"Public update published ({draft.state.value}), approved by {event.actor}: ",
                draft.text.strip(),
            )
        case PhaseChanged() if body.phase is Phase.RESOLVED:
            return inline(f"Resolved by {event.actor}")
    return None
