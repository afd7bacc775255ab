"""A scripted incident for the exporter tests, built from events exactly as the server logs them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

from warroom.domain.checklist import PLAN_MITIGATIONS, ItemState
from warroom.domain.events import (
    ChecklistItemAdded,
    ChecklistItemChanged,
    ChecklistItemOwnerSet,
    EntryAdded,
    EntryAmended,
    EntryStruck,
    Event,
    EventBody,
    IcAccepted,
    IcOffered,
    IncidentDeclared,
    PhaseChanged,
    RoleAssigned,
    RoleUnassigned,
    SeverityChanged,
)
from warroom.domain.incident import IncidentState
from warroom.domain.phase import Phase
from warroom.domain.projection import replay
from warroom.domain.roles import Role
from warroom.domain.severity import Severity
from warroom.domain.timeline import EntryKind

T0 = datetime(2024, 5, 1, 14, 0, tzinfo=UTC)
"""When the incident is declared."""

CEST = timezone(timedelta(hours=2), "CEST")
"""The zone the rendering tests show local times in."""

EXPECTED_HEADINGS = [
    (1, "Post-mortem: Payments failing"),
    (2, "Summary"),
    (2, "Impact"),
    (2, "Key times"),
    (2, "Key moments"),
    (2, "Detection"),
    (2, "Response"),
    (3, "Who held each role"),
    (3, "Phases"),
    (2, "Timeline"),
    (2, "Mitigation"),
    (2, "Metrics"),
    (2, "Communications"),
    (3, "Internal updates"),
    (3, "Public updates, as sent"),
    (2, "Root cause"),
    (2, "Trigger"),
    (2, "Resolution"),
    (2, "Action items"),
    (2, "Lessons learned"),
    (3, "What went well"),
    (3, "What went wrong"),
    (3, "Where we got lucky"),
]
"""The headings of a full post-mortem, in order, as (level, text)."""

HOSTILE = (
    "# Heading\n| a | b |\n<script>alert(1)</script> [red]x[/red] "
    "\x1b[31mred\x1b]8;;http://evil\x07 \u202e ![img](http://evil/x.png) [link](http://evil) "
    "*em* _em_ `code` ~~del~~ > quote\n1. one\n- item\n```\n---\n\x9b\x00 &amp; \\"
)
"""Text that would break a naive document: headings, tables, HTML, markup, escapes, bidi."""

METRICS_TABLE = "service      p99    err%\napi-gateway  2.1s   54.2\npayments     0.9s   12.0"


class Script:
    """Appends events with gap-free sequence numbers, `minutes` after T0."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(self, minutes: float, actor: str, body: EventBody) -> int:
        seq = len(self.events) + 1
        at = T0 + timedelta(minutes=minutes)
        self.events.append(Event(incident_id=7, seq=seq, at=at, actor=actor, body=body))
        return seq

    def entry(self, minutes: float, actor: str, kind: EntryKind, text: str, **extra: object) -> int:
        return self.add(minutes, actor, EntryAdded(kind=kind, text=text, **extra))


def scripted_incident(
    say: Callable[[str], str] = lambda text: text, extra_tag: str | None = None
) -> tuple[IncidentState, list[Event]]:
    """A resolved SEV1 with an IC handoff, every entry kind, back-dating, amends and strikes.

    `say` turns each piece of user text into what is typed (the hostile test wraps it);
    `extra_tag` is added to every tagged entry.
    """

    def tags(*names: str) -> list[str]:
        return [*names, extra_tag] if extra_tag else list(names)

    s = Script()
    declared = IncidentDeclared(
        title=say("Payments failing"),
        summary=say("Card payments failed for 25 minutes after a config push."),
        severity=Severity.SEV2,
        channel="#incident-2024-05-01-payments-failing",
        checklist=list(PLAN_MITIGATIONS),
    )
    s.add(0, "alice", declared)
    s.entry(
        1,
        "warroom",
        EntryKind.ALERT,
        say("HighErrorRate api-gateway"),
        occurred_at=T0 - timedelta(minutes=5),
        correlation_id="req-7f3a",
    )
    s.add(2, "alice", RoleAssigned(role=Role.CL, user="bob"))
    s.add(2.5, "alice", RoleAssigned(role=Role.TL, user="carol", service=say("payments")))
    s.add(3, "alice", RoleAssigned(role=Role.SCRIBE, user="dave"))
    s.add(
        4,
        "alice",
        SeverityChanged(
            severity=Severity.SEV1, previous=Severity.SEV2, reason=say("card payments down")
        ),
    )
    s.add(5, "alice", PhaseChanged(phase=Phase.INVESTIGATING, previous=Phase.DECLARED))
    s.entry(
        6,
        "dave",
        EntryKind.NOTE,
        say("Config push 1.2.3 went out"),
        occurred_at=T0 - timedelta(minutes=10),
        tags=tags("trigger"),
    )
    s.entry(7, "bob", EntryKind.STATUS, say("Investigating elevated 5xx on payments"))
    s.entry(8, "warroom", EntryKind.METRICS, say(METRICS_TABLE))
    s.add(
        9,
        "carol",
        ChecklistItemChanged(item_id=1, state=ItemState.IN_PROGRESS, previous=ItemState.TODO),
    )
    s.add(9.5, "carol", ChecklistItemOwnerSet(item_id=1, owner="carol"))
    cause = s.entry(
        10,
        "carol",
        EntryKind.DECISION,
        say("Flag X turned off retries"),
        correlation_id="req-7f3a",
        tags=tags("root-cause"),
    )
    s.add(11, "carol", EntryAmended(entry_id=cause, text=say("Flag X turned off client retries")))
    wrong = s.entry(12, "dave", EntryKind.NOTE, say("DB failover started"))
    s.add(13, "dave", EntryStruck(entry_id=wrong, reason=say("posted in the wrong incident")))
    s.add(
        14,
        "alice",
        PhaseChanged(
            phase=Phase.MITIGATING, previous=Phase.INVESTIGATING, reason=say("rolling back")
        ),
    )
    s.add(
        15,
        "carol",
        ChecklistItemChanged(item_id=1, state=ItemState.DONE, previous=ItemState.IN_PROGRESS),
    )
    s.add(16, "alice", IcOffered(to_user="erin"))
    s.add(16.5, "erin", IcAccepted(user="erin", previous="alice"))
    s.entry(17, "erin", EntryKind.EXTERNAL, say("Some card payments are failing; fix underway"))
    s.entry(18, "dave", EntryKind.TODO, say("Add a canary stage for config flags"))
    s.entry(19, "dave", EntryKind.NOTE, say("Rollback was one command"), tags=tags("went-well"))
    s.entry(19.2, "dave", EntryKind.NOTE, say("Alert fired late"), tags=tags("went-wrong"))
    s.entry(19.4, "dave", EntryKind.NOTE, say("Low traffic hour"), tags=tags("got-lucky"))
    s.entry(19.6, "carol", EntryKind.ACTION, say("Rolled back flag X"), tags=tags("resolution"))
    s.add(20, "carol", ChecklistItemAdded(item_id=5, title=say("Purge the CDN cache")))
    s.add(25, "erin", PhaseChanged(phase=Phase.RESOLVED, previous=Phase.MITIGATING))
    s.add(26, "erin", RoleUnassigned(role=Role.SCRIBE, user="dave"))
    return replay(s.events), s.events


def declared_only() -> tuple[IncidentState, list[Event]]:
    """An incident that has only just been declared: every section falls back to its prompt."""
    s = Script()
    s.add(
        0,
        "alice",
        IncidentDeclared(
            title="Login slow",
            severity=Severity.SEV3,
            channel="#incident-2024-05-01-login-slow",
            checklist=[],
        ),
    )
    return replay(s.events), s.events


def with_entry(
    state_events: tuple[IncidentState, list[Event]], actor: str, text: str
) -> tuple[IncidentState, list[Event]]:
    """The incident with one more note, by `actor`, carrying `text` as its correlation id too."""
    _, events = state_events
    note = EntryAdded(kind=EntryKind.NOTE, text=text, correlation_id=text, tags=[text])
    last = events[-1]
    extra = Event(incident_id=7, seq=last.seq + 1, at=last.at, actor=actor, body=note)
    return replay([*events, extra]), [*events, extra]
