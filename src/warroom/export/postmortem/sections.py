"""The post-mortem's sections in one table, and the document built from them.

The section list follows the Google SRE and PagerDuty post-mortem templates. What the war room
recorded fills each section; what only the review can say is left as a visible prompt.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from warroom.domain.events import Event
from warroom.domain.incident import IncidentState
from warroom.domain.phase import Phase
from warroom.domain.timeline import EntryKind
from warroom.export.postmortem import record
from warroom.export.postmortem.clock import Clock
from warroom.export.postmortem.context import Builder, Context, prompt
from warroom.export.postmortem.document import (
    Block,
    BulletList,
    Document,
    Paragraph,
    Section,
    em,
    inline,
)
from warroom.export.postmortem.entries import entry_line, entry_text
from warroom.export.postmortem.key_moments import key_moments
from warroom.export.postmortem.milestones import key_times


def _tagged(tag: str) -> Builder:
    """Live entries tagged `tag`, each citing its entry, else the review prompt."""

    def build(ctx: Context) -> list[Block]:
        cited = [
            inline(*entry_text(e), " ", em(f"(#{e.id}, {e.author})")) for e in ctx.entries(tag=tag)
        ]
        return [BulletList(cited)] if cited else [prompt()]

    return build


def _updates(kind: EntryKind) -> Builder:
    """Every update of `kind` as it went out, struck ones shown struck."""

    def build(ctx: Context) -> list[Block]:
        lines = [entry_line(ctx.clock, e) for e in ctx.of_kind(kind)]
        return [BulletList(lines)] if lines else [prompt("None.")]

    return build


def _subsections(*parts: tuple[str, Builder]) -> Builder:
    return lambda ctx: [Section(title, build(ctx)) for title, build in parts]


def _summary(ctx: Context) -> list[Block]:
    summary = ctx.state.incident.summary.strip()
    return [Paragraph(inline(summary))] if summary else [prompt()]


def _impact(ctx: Context) -> list[Block]:
    peak = min(change.severity for change in ctx.state.severity_history)
    what = f"Peak severity {peak.label}, {peak.policy.title}: {peak.policy.definition}"
    return [Paragraph(inline(what)), *_tagged("impact")(ctx)]


def _resolution(ctx: Context) -> list[Block]:
    resolved = [p for p in ctx.state.phase_history if p.phase is Phase.RESOLVED]
    how = _tagged("resolution")(ctx)
    if not resolved:
        return how
    when = f"Resolved by {resolved[-1].by} at {ctx.clock.stamp(resolved[-1].at)}."
    return [Paragraph(inline(when)), *how]


def _action_items(ctx: Context) -> list[Block]:
    items = [
        inline(*entry_text(e), " ", em(f"(raised by {e.author}, #{e.id})"))
        for e in ctx.entries(EntryKind.TODO)
    ]
    return [BulletList(items, tasks=True)] if items else [prompt()]


SECTIONS: tuple[tuple[str, Builder], ...] = (
    ("Summary", _summary),
    ("Impact", _impact),
    ("Key times", key_times),
    ("Key moments", key_moments),
    ("Detection", record.detection),
    ("Response", record.response),
    ("Timeline", record.timeline),
    ("Mitigation", record.mitigation),
    ("Metrics", record.metrics),
    (
        "Communications",
        _subsections(
            ("Internal updates", _updates(EntryKind.STATUS)),
            ("Public updates, as sent", _updates(EntryKind.EXTERNAL)),
        ),
    ),
    ("Root cause", _tagged("root-cause")),
    ("Trigger", _tagged("trigger")),
    ("Resolution", _resolution),
    ("Action items", _action_items),
    (
        "Lessons learned",
        _subsections(
            ("What went well", _tagged("went-well")),
            ("What went wrong", _tagged("went-wrong")),
            ("Where we got lucky", _tagged("got-lucky")),
        ),
    ),
)
"""The post-mortem's sections, in order, each with the function that fills it."""


def build_document(
    state: IncidentState, events: list[Event], *, tz: tzinfo | None, generated_at: datetime
) -> Document:
    """The post-mortem draft of `state`, whose log is `events`; `tz` None is the machine's zone."""
    ctx = Context(state=state, events=events, clock=Clock(tz), generated_at=generated_at)
    return Document(
        title=inline("Post-mortem: ", state.incident.title.strip()),
        header=record.header(ctx),
        sections=[Section(title, build(ctx)) for title, build in SECTIONS],
    )
