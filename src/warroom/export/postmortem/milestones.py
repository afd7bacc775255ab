"""The incident's key moments and the standard durations between them, for the post-mortem.

Each moment is taken from the event that really marks it, never from a phase name:

- start: the first alert began firing (Alertmanager's `startsAt`, from the triage detection or an
  alert entry before the declaration); with no alert, the declaration itself;
- detected: the alert reached the war room's triage; without triage, the declaration, which is
  then the first record of anyone knowing;
- declared: the incident was declared;
- mitigated: the first mitigation on the checklist was marked done (the plan's short-term fix is
  in place); an incident resolved without one counts as mitigated at its resolution;
- resolved: the IC moved the incident to resolved (user-facing impact gone).

Every duration runs from the start, as time to detect, declare, mitigate and resolve usually do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from warroom.domain.checklist import ItemState
from warroom.domain.events import ChecklistItemChanged
from warroom.domain.instants import order_key, span
from warroom.domain.timeline import EntryKind
from warroom.export.postmortem.clock import duration_text
from warroom.export.postmortem.context import Context
from warroom.export.postmortem.document import (
    Block,
    BulletList,
    Inline,
    Paragraph,
    Span,
    Table,
    em,
    inline,
    strong,
)

DEFINITIONS = (
    "Every duration is counted from the start: when the first alert began firing (its startsAt), "
    "or the declaration when no alert came before it. Detected: the alert reached the war room's "
    "triage (without triage, the declaration). Mitigated: the first mitigation on the checklist "
    "was marked done (or the resolution, if none was). Resolved: the incident was moved to "
    'resolved. "Not yet" means the moment has not been reached; "unknown" means a time it '
    "depends on is out of range."
)
"""The note printed above the durations, so readers know what each one measures."""

NOT_YET = "not yet"


@dataclass(frozen=True)
class Moment:
    """One key moment: when it happened (None: not yet) and what marked it."""

    name: str
    at: datetime | None
    marked_by: str


@dataclass(frozen=True)
class Milestones:
    start: Moment
    detected: Moment
    declared: Moment
    mitigated: Moment
    resolved: Moment
    alerted: bool
    """False when no alert came before the declaration: then nothing says when it began."""
    time_to_declare: timedelta | None
    """From the start to the declaration; None when a time it needs is out of range."""

    @property
    def moments(self) -> tuple[Moment, ...]:
        return (self.start, self.detected, self.declared, self.mitigated, self.resolved)

    def since_start(self, moment: Moment) -> timedelta | None:
        """From the start to `moment`; None when unknown (callers check `at` for "not yet")."""
        if moment.at is None or self.start.at is None:
            return None
        return span(self.start.at, moment.at)


def milestones(ctx: Context) -> Milestones:
    """The key moments of the incident in `ctx`, from its state and its log."""
    inc = ctx.state.incident
    declared = Moment("Declared", inc.declared_at, f"declared by {inc.declared_by}")
    detected = Moment("Detected", inc.declared_at, "the declaration (not declared from triage)")
    # (when, what marked it, whether it is the triage detection's own alert start)
    alert_starts = [
        (e.when, f"alert entry #{e.id} began firing", False)
        for e in ctx.entries(EntryKind.ALERT)
        if order_key(e.when) <= order_key(inc.declared_at)
    ]
    found = inc.detection
    if found is not None:
        alert_starts.append(
            (found.alert_started_at, f"alert {found.alert_name} began firing", True)
        )
        detected = Moment("Detected", found.triage_opened_at, "the alert reached triage")
    time_to_declare: timedelta | None = None
    if alert_starts:
        at, how, from_triage = min(alert_starts, key=lambda start: order_key(start[0]))
        start = Moment("Start", at, how)
        time_to_declare = span(at, inc.declared_at)
        if from_triage and found is not None and time_to_declare is not None:
            time_to_declare = found.time_to_declare(inc.declared_at)  # the domain's measure
    else:
        start = Moment("Start", inc.declared_at, "the declaration (no alert came before it)")
    resolved_at = inc.resolved_at if not inc.phase.is_open else None
    return Milestones(
        start=start,
        detected=detected,
        declared=declared,
        mitigated=_mitigated(ctx, resolved_at),
        resolved=Moment("Resolved", resolved_at, "moved to resolved"),
        alerted=bool(alert_starts),
        time_to_declare=time_to_declare,
    )


def _mitigated(ctx: Context, resolved_at: datetime | None) -> Moment:
    for event in ctx.events:
        body = event.body
        if isinstance(body, ChecklistItemChanged) and body.state is ItemState.DONE:
            item = ctx.state.item(body.item_id)
            title = f": {item.title.strip()}" if item else ""
            return Moment("Mitigated", event.at, f"first mitigation done{title}")
    return Moment("Mitigated", resolved_at, "the resolution (no mitigation was marked done)")


def _took(moment: Moment, took: timedelta | None) -> Span:
    if moment.at is None:
        return em(NOT_YET)
    return Span(duration_text(took))


def durations(marks: Milestones) -> list[tuple[str, Span]]:
    """(label, value) of the four standard durations."""
    detect: Span = _took(marks.detected, marks.since_start(marks.detected))
    declare: Span = _took(marks.declared, marks.time_to_declare)
    if not marks.alerted:
        detect = declare = em("not derivable: declared with no alert before it")
    return [
        ("Time to detect", detect),
        ("Time to declare", declare),
        ("Time to mitigate", _took(marks.mitigated, marks.since_start(marks.mitigated))),
        ("Time to resolve", _took(marks.resolved, marks.since_start(marks.resolved))),
    ]


def key_times(ctx: Context) -> list[Block]:
    """The section: the definitions, the four durations, and the moments they run between."""
    marks = milestones(ctx)
    clock = ctx.clock
    rows: list[tuple[Inline, ...]] = [
        (
            inline(m.name),
            inline(clock.stamp(m.at)) if m.at is not None else inline(em(NOT_YET)),
            inline(m.marked_by),
        )
        for m in marks.moments
    ]
    lines = [inline(strong(f"{label}:"), " ", value) for label, value in durations(marks)]
    return [
        Paragraph(inline(em(DEFINITIONS))),
        BulletList(lines),
        Table(("Moment", "At", "Marked by"), rows),
    ]
