"""The triage desk: alerts from Alertmanager (polled and pushed) become triage items; declaring one
makes an incident whose timeline then follows its alerts (fired, resolved, fired again).

Plan steps 1-2. One item per alert (its fingerprint), whatever Alertmanager's grouping, unless the
server's config groups by labels. Only Alertmanager resolves an alert: a resolved notification
(webhook) with its `endsAt`, or a poll of the same Alertmanager process that no longer lists it.
An unreachable Alertmanager changes nothing; a restarted one leaves its missing alerts
"unconfirmed" until the source sends them again or their `endsAt` passes. Resolving an incident
does not resolve its alerts: an alert still firing is said so on the incident.

On a shared database the items are every node's: each node reads the rows other nodes wrote
(`catch_up`, on their notifications and before deciding on an item), and the store keeps a
decision once taken (`keep_decision`), so no node undoes another's.
"""

from __future__ import annotations

import asyncio
import json
import logging
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from warroom.domain.errors import DomainError, ErrorCode
from warroom.domain.events import (
    EntryAdded,
    Event,
    EventBody,
    IncidentDeclared,
    PhaseChanged,
    ServiceAdded,
    SummaryChanged,
)
from warroom.domain.limits import MAX_SERVICE, MAX_SUMMARY, MAX_TITLE
from warroom.domain.phase import Phase
from warroom.domain.severity import Severity
from warroom.domain.timeline import EntryKind
from warroom.domain.triage import (
    AlertSourceStatus,
    AlertState,
    Detection,
    SourceState,
    TriageAlert,
    TriageItem,
    TriageStatus,
    keep_decision,
    mark_declared,
)
from warroom.integrations.tasks import TaskSet
from warroom.monitoring.alertmanager import (
    DEFAULT_SEVERITY_MAP,
    Alert,
    AlertGroup,
    WebhookAlert,
    WebhookMessage,
    propose_severity,
)
from warroom.monitoring.alertmanager import AlertState as ApiState
from warroom.protocol.frames import SubscribeTriage, TriageList
from warroom.server.connection import Connection
from warroom.server.sequencer import Sequencer
from warroom.store.base import EventStore, SharedEventStore, StoreError

log = logging.getLogger(__name__)

KEEP_RESOLVED = timedelta(hours=1)
"""How long an undeclared item whose alerts all resolved stays on the triage list."""
MAX_OPEN = 500
"""Open items with a firing alert at most (`[alertmanager] max_open_items`)."""


def clean_title(text: str) -> str:
    """A one-line title for the incident the item may become (control characters dropped)."""
    flat = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    return " ".join(flat.split())[:MAX_TITLE] or "Alert"


def alert_line(verb: str, alert: TriageAlert) -> str:
    labels = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()) if k != "alertname")
    summary = alert.annotations.get("summary", "")
    text = f"{verb} {alert.name}" + (f": {summary}" if summary else "") + f" ({labels})"
    runbook = alert.annotations.get("runbook_url")
    return text + (f" runbook: {runbook}" if runbook else "")


def alert_summary(annotations: Mapping[str, str]) -> str:
    """The incident summary an alert suggests: its summary and description annotations."""
    parts = [annotations.get("summary", "").strip(), annotations.get("description", "").strip()]
    return "\n\n".join(p for p in parts if p)[:MAX_SUMMARY]


def usable_service(name: str) -> bool:
    """Whether a `service` label can name an incident's service (one line, not too long)."""
    return 0 < len(name) <= MAX_SERVICE and name.strip() == name and name.isprintable()


_API_STATES = {
    ApiState.UNPROCESSED: AlertState.UNPROCESSED,
    ApiState.SUPPRESSED: AlertState.SUPPRESSED,
}
"""Alertmanager's states that are not plain firing (`active`)."""


@dataclass(frozen=True)
class Observed:
    """One alert as Alertmanager reported it, from a poll or a webhook delivery."""

    fingerprint: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: datetime
    state: AlertState
    """FIRING, UNPROCESSED, SUPPRESSED or RESOLVED."""
    ends_at: datetime | None
    """Resolved: when. Active: when Alertmanager will resolve it unless re-sent (None: unknown)."""

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")

    @classmethod
    def from_api(cls, alert: Alert) -> Observed:
        return cls(
            alert.fingerprint,
            alert.labels,
            alert.annotations,
            alert.starts_at,
            _API_STATES.get(alert.status.state, AlertState.FIRING),
            alert.ends_at,
        )

    @classmethod
    def from_webhook(cls, alert: WebhookAlert) -> Observed:
        resolved = alert.status == "resolved"
        return cls(
            alert.fingerprint,
            alert.labels,
            alert.annotations,
            alert.starts_at,
            AlertState.RESOLVED if resolved else AlertState.FIRING,
            # A firing alert's endsAt in a notification is the zero time: no expected end.
            alert.ends_at if resolved else None,
        )


class TriageDesk:
    """Holds the triage items, applies what Alertmanager reports to them, answers the triage
    list frames, and is the book the sequencer decides declarations and dismissals against."""

    def __init__(
        self,
        hub: Sequencer,
        store: EventStore,
        tasks: TaskSet,
        clock: Callable[[], datetime],
        *,
        configured: bool,
        severity_map: Mapping[str, Severity] = DEFAULT_SEVERITY_MAP,
        group_by: Sequence[str] | None = None,
        keep_resolved: timedelta = KEEP_RESOLVED,
        max_open: int = MAX_OPEN,
    ) -> None:
        """Args:
        configured: whether the server reads alerts at all (an `[alertmanager]` section).
        severity_map: `severity` label values to proposed severities.
        group_by: label names whose values put alerts on one item; None: one item per alert.
        keep_resolved: how long an undeclared item whose alerts resolved stays listed.
        max_open: open items with a firing alert at most; a new alert beyond makes no item.
        """
        self._hub = hub
        self._store = store
        self._shared = store if isinstance(store, SharedEventStore) else None
        self._mark = 0
        """The highest change number of the shared items this node has read."""
        self._reading = asyncio.Lock()
        self._again = False
        """A notification came while a catch-up was running: run another after it."""
        self._catching_up = False
        self._tasks = tasks
        self._clock = clock
        self._severity_map = severity_map
        self._group_by = list(group_by) if group_by is not None else None
        self._keep_resolved = keep_resolved
        self._max_open = max_open
        self._room = 0
        """New items the report being applied may still open (`_make_room` sets it)."""
        self._refused = 0
        """New alerts of the report being applied that found no room."""
        self.refused_alerts = 0
        """New alerts that made no item for want of room, since start (for tests and logs)."""
        self.items: dict[int, TriageItem] = {}
        self._latest: dict[str, int] = {}
        """Item key -> the newest item with that key."""
        self.source = AlertSourceStatus(
            configured=configured, state=SourceState.WAITING if configured else None
        )
        self._started: datetime | None = None
        """When the Alertmanager process the last poll talked to started."""
        self._turn = 0
        """Counts applied reports, so a poll answered before a webhook cannot undo it."""
        self._changed: dict[str, int] = {}
        """Fingerprint -> the turn its state last changed in."""
        self._lock = asyncio.Lock()
        self._followers: dict[Connection, None] = {}
        self.on_change: Callable[[], None] | None = None
        """Called after every change of the items or the source (e.g. to update gauges)."""
        hub.route(SubscribeTriage, self.on_subscribe_triage)
        hub.attach_triage(self)
        # Only the node that committed a declaration or a resolution writes what follows from it
        # on the incident; the others learn of the item's decision from its row.
        hub.add_observer(self.on_events_committed, other_nodes=False)

    async def load(self) -> None:
        if self._shared is not None:
            self._mark, loaded = await self._shared.triage_changed(-1)
        else:
            loaded = await self._store.load_triage()
        self.items = {item.id: item for item in loaded}
        for item in sorted(self.items.values(), key=lambda i: i.id):
            self._latest[item.group_key] = item.id
            if self._group_by is None and not item.group_key.startswith("alert:"):
                # Items saved when alerts were keyed by Alertmanager's group: their alerts
                # still continue on them, each under its own key.
                for fingerprint in item.alerts:
                    self._latest[f"alert:{fingerprint}"] = item.id

    # --- other nodes' items ---------------------------------------------------------------------

    def changed_elsewhere(self) -> None:
        """A node (maybe this one) wrote triage items: read them soon. Only schedules work."""
        if self._shared is None:
            return
        if self._catching_up:
            self._again = True
            return
        self._catching_up = True
        self._tasks.spawn(self._keep_catching_up(), "triage catch-up")

    async def _keep_catching_up(self) -> None:
        try:
            again = True
            while again:
                self._again = False
                try:
                    await self.catch_up()
                except StoreError as exc:
                    log.warning("triage items not read (the next check retries): %s", exc)
                again = self._again
        finally:
            self._catching_up = False

    async def catch_up(self) -> None:
        """Take the items any node wrote since the last read, and tell the followers if that
        changed the list. Never waits for the desk's own work (the sequencer calls it).

        Raises:
            StoreError: the store cannot be read; nothing changed.
        """
        if self._shared is None:
            return
        async with self._reading:
            self._mark, rows = await self._shared.triage_changed(self._mark)
            changed = False
            for row in rows:
                known = self.items.get(row.id)
                item = row if known is None else keep_decision(known, row)
                if item != known:
                    self.items[item.id] = item
                    changed = True
                if self._latest.get(item.group_key, 0) < item.id:
                    self._latest[item.group_key] = item.id
            if changed:
                self._broadcast()

    # --- frames ---------------------------------------------------------------------------------

    def on_subscribe_triage(self, conn: Connection, frame: SubscribeTriage) -> None:
        self._followers[conn] = None
        conn.send(self._list_frame(frame.id))

    # --- what the sequencer reads and tells ----------------------------------------------------

    def item(self, triage_id: int) -> TriageItem | None:
        return self.items.get(triage_id)

    def decided(self, items: list[TriageItem]) -> None:
        """Items a committed triage log record changed (dismissals): already saved with it."""
        for item in items:
            self.items[item.id] = item
        self._broadcast()

    # --- declaring ------------------------------------------------------------------------------

    def claim(self, triage_id: int) -> Detection:
        item = self.items.get(triage_id)
        self._require_open(item, triage_id)
        assert item is not None
        return Detection(
            triage_id=item.id,
            alert_name=item.labels.get("alertname", item.title),
            alert_started_at=item.starts_at,
            triage_opened_at=item.opened_at,
        )

    def _require_open(self, item: TriageItem | None, triage_id: int) -> None:
        if item is None:
            raise DomainError(ErrorCode.UNKNOWN_ENTRY, f"no triage item {triage_id}")
        if item.status is not TriageStatus.OPEN:
            raise DomainError(
                ErrorCode.CONFLICT,
                f"triage item {triage_id} was already {item.status.value}",
                current=item.status.value,
            )

    def on_events_committed(self, events: list[Event]) -> None:
        for event in events:
            body = event.body
            if isinstance(body, IncidentDeclared) and body.detection is not None:
                item = self.items.get(body.detection.triage_id)
                if item is None:
                    continue
                mark_declared(item, event.incident_id, event.actor, event.at)
                self._tasks.spawn(self._declared(item), f"triage {item.id} declared")
            elif isinstance(body, PhaseChanged) and body.phase is Phase.RESOLVED:
                self._tasks.spawn(
                    self._incident_resolved(event.incident_id),
                    f"alerts of incident {event.incident_id} resolved",
                )

    async def _declared(self, item: TriageItem) -> None:
        async with self._lock:
            await self._save(item)
            self._broadcast()
            assert item.incident_id is not None
            await self._carry_over(item.incident_id, item)
            for alert in item.alerts.values():
                if alert.firing:
                    await self._note(item.incident_id, "FIRING", alert, alert.starts_at)

    async def _carry_over(self, incident_id: int, item: TriageItem) -> None:
        """The alerts' `service` labels become the incident's services, and their summary and
        description annotations its summary unless the declarer wrote one."""
        state = self._hub.incident_state(incident_id)
        if state is None:
            return
        listed = set(state.incident.services)
        for service in item.services:
            if service in listed:
                continue
            if not usable_service(service):
                log.warning("triage %d: service label %r is not a service name", item.id, service)
                continue
            await self._write(incident_id, ServiceAdded(service=service))
            listed.add(service)
        summary = alert_summary(item.annotations)
        if summary and not state.incident.summary:
            await self._write(incident_id, SummaryChanged(summary=summary))

    async def _incident_resolved(self, incident_id: int) -> None:
        """The incident is over for the war room; its alerts are over only when Alertmanager
        says so. One that still fires is said so on the incident, for the IC to see."""
        async with self._lock:
            for item in self.items.values():
                if item.incident_id != incident_id:
                    continue
                for alert in item.alerts.values():
                    if alert.firing:
                        await self._note(incident_id, "STILL FIRING", alert, self._clock())

    # --- what Alertmanager reports --------------------------------------------------------------

    @property
    def turn(self) -> int:
        """Take this before asking Alertmanager, and give it to `reconcile` with the answer."""
        return self._turn

    async def reconcile(
        self,
        groups: list[AlertGroup],
        *,
        source_started: datetime | None = None,
        taken: int | None = None,
    ) -> None:
        """Bring the items up to date with the alerts Alertmanager lists now (a poll).

        Args:
            groups: the receiver's groups, active, silenced and inhibited alerts included.
            source_started: when that Alertmanager process started; a different start than an
                alert was last listed by explains a missing alert by a restart, not a resolution.
            taken: `turn` before the request; what changed since (a webhook delivery that
                arrived meanwhile) is newer than this answer and is kept.
        """
        turn = self._turn if taken is None else taken
        async with self._lock:
            self._turn += 1
            now = self._clock()
            self._started = source_started
            listed: dict[str, Observed] = {}
            for group in groups:
                for reported in group.alerts:
                    listed.setdefault(reported.fingerprint, Observed.from_api(reported))
            self._make_room()
            for seen in sorted(listed.values(), key=lambda s: (s.starts_at, s.fingerprint)):
                await self._observe(seen, turn)
            self._tell_refused()
            for item in list(self.items.values()):
                for known in list(item.alerts.values()):
                    if known.firing and known.fingerprint not in listed:
                        await self._missing(item, known, now, turn)
            unconfirmed = any(
                a.state is AlertState.UNCONFIRMED
                for i in self.items.values()
                for a in i.alerts.values()
            )
            self.source = self.source.model_copy(
                update={
                    "configured": True,
                    "ok": True,
                    "error": None,
                    "checked_at": now,
                    "state": SourceState.RESTARTED if unconfirmed else SourceState.OK,
                    "restarted_at": source_started,
                }
            )
            self._broadcast()

    async def deliver(self, message: WebhookMessage) -> None:
        """Apply a webhook notification: each alert's own status, firing or resolved."""
        async with self._lock:
            self._turn += 1
            now = self._clock()
            if message.truncated_alerts:
                log.warning(
                    "webhook left out %d alerts; the next poll brings them",
                    message.truncated_alerts,
                )
            self._make_room()
            for alert in sorted(message.alerts, key=lambda a: (a.starts_at, a.fingerprint)):
                await self._observe(Observed.from_webhook(alert), self._turn)
            self._tell_refused()
            update: dict[str, object] = {"configured": True, "webhook_at": now}
            if self.source.state is SourceState.WAITING:
                update["state"] = SourceState.OK
            self.source = self.source.model_copy(update=update)
            self._broadcast()

    def source_failed(self, error: str) -> None:
        """The poll failed: shown as such; every alert keeps its last known state."""
        log.warning("alert source unavailable: %s", error)
        self.source = self.source.model_copy(
            update={
                "configured": True,
                "ok": False,
                "checked_at": self._clock(),
                "error": error,
                "state": SourceState.UNREACHABLE,
            }
        )
        self._broadcast()

    async def _observe(self, seen: Observed, turn: int) -> None:
        key = self._key(seen)
        item = self.items.get(self._latest.get(key, 0))
        known = item.alerts.get(seen.fingerprint) if item is not None else None
        if seen.state is AlertState.RESOLVED:
            if item is None or known is None or not known.firing:
                return
            if seen.starts_at < known.starts_at:
                return  # the end of an earlier episode, delivered late
            await self._resolve(item, known, seen.ends_at or self._clock())
            return
        if item is not None and known is not None:
            if known.firing:
                await self._still_active(item, known, seen)
                return
            if self._changed.get(seen.fingerprint, -1) > turn:
                return  # resolved after this report was taken: the report is stale
        if seen.state is AlertState.SUPPRESSED and (item is None or not self._continues(item)):
            return  # silenced or inhibited before anyone saw it: someone decided already
        if item is None or not self._continues(item):
            if self._room <= 0:
                self._refused += 1
                return
            self._room -= 1
            item = await self._new_item(seen, item)
            opened_elsewhere = item.alerts.get(seen.fingerprint)
            if opened_elsewhere is not None and opened_elsewhere.firing:
                await self._still_active(item, opened_elsewhere, seen)
                return
        await self._fired(item, seen, known)

    def _make_room(self) -> None:
        """How many new items the report about to be applied may open: a flood of distinct
        alerts must not grow the items (memory, the store, every console's list) without end."""
        open_firing = sum(
            1 for i in self.items.values() if i.status is TriageStatus.OPEN and i.firing
        )
        self._room = self._max_open - open_firing
        self._refused = 0

    def _tell_refused(self) -> None:
        if not self._refused:
            return
        self.refused_alerts += self._refused
        # One line per report, and the server's log throttle keeps a flood of reports short.
        log.warning(
            "triage: %d new alerts made no item: %d open items with firing alerts is the limit "
            "([alertmanager] max_open_items); declare or dismiss items, and the next poll (or "
            "Alertmanager's next repeat) brings the rest",
            self._refused,
            self._max_open,
        )

    async def _still_active(self, item: TriageItem, known: TriageAlert, seen: Observed) -> None:
        """The same episode goes on: keep what Alertmanager says now, write only a change."""
        changed = known.state is not seen.state or (
            known.source_started_at != self._started and self._started is not None
        )
        known.state = seen.state
        known.expected_end = seen.ends_at
        if self._started is not None:
            known.source_started_at = self._started
        if changed:
            self._changed[known.fingerprint] = self._turn
            await self._save(item)

    async def _fired(self, item: TriageItem, seen: Observed, before: TriageAlert | None) -> None:
        again = before is not None
        record = TriageAlert(
            fingerprint=seen.fingerprint,
            name=seen.name,
            labels=dict(seen.labels),
            annotations=dict(seen.annotations),
            starts_at=seen.starts_at,
            state=seen.state,
            expected_end=seen.ends_at,
            source_started_at=self._started,
            times_fired=(before.times_fired + 1) if before is not None else 1,
        )
        item.alerts[seen.fingerprint] = record
        self._changed[seen.fingerprint] = self._turn
        await self._save(item)
        if item.status is TriageStatus.DECLARED and item.incident_id is not None:
            await self._note(
                item.incident_id, "FIRING AGAIN" if again else "FIRING", record, seen.starts_at
            )

    async def _missing(
        self, item: TriageItem, alert: TriageAlert, now: datetime, turn: int
    ) -> None:
        """A poll no longer lists an alert that was not resolved."""
        if self._changed.get(alert.fingerprint, -1) > turn:
            return  # (re)fired after this poll's answer was taken
        restarted = (
            self._started is not None
            and alert.source_started_at is not None
            and alert.source_started_at != self._started
        )
        if not restarted:
            # The Alertmanager that listed it no longer does: it resolved it, at its endsAt or
            # since the last poll.
            end = alert.expected_end
            await self._resolve(item, alert, end if end is not None and end < now else now)
        elif alert.expected_end is not None and alert.expected_end <= now:
            # Lost in a restart and not sent again before it would have ended anyway: by
            # Alertmanager's own rule it resolved at its endsAt.
            await self._resolve(item, alert, alert.expected_end)
        elif alert.state is not AlertState.UNCONFIRMED:
            alert.state = AlertState.UNCONFIRMED
            self._changed[alert.fingerprint] = self._turn
            await self._save(item)

    async def _resolve(self, item: TriageItem, alert: TriageAlert, at: datetime) -> None:
        alert.state = AlertState.RESOLVED
        alert.ends_at = at
        alert.expected_end = None
        self._changed[alert.fingerprint] = self._turn
        await self._save(item)
        if item.status is TriageStatus.DECLARED and item.incident_id is not None:
            await self._note(item.incident_id, "RESOLVED", alert, at)

    def _key(self, seen: Observed) -> str:
        if self._group_by is None:
            return f"alert:{seen.fingerprint}"
        return "group:" + json.dumps([[name, seen.labels.get(name, "")] for name in self._group_by])

    def _continues(self, item: TriageItem) -> bool:
        """Whether an alert firing (again) belongs on `item` rather than on a new one."""
        if item.status is TriageStatus.OPEN:
            return True
        if item.status is TriageStatus.DECLARED:
            # Also while the incident is resolved but an alert never stopped: still the same
            # trouble, already shown to the IC; only a fresh episode after all stopped is new.
            return self._incident_open(item) or item.firing
        return item.firing  # dismissed: the same noise while any of it fires

    async def _new_item(self, seen: Observed, latest: TriageItem | None) -> TriageItem:
        """A new item for the alert, numbered and saved by the store. On a shared database
        another node may have opened one for the same key meanwhile (the alert reached both):
        that one is taken instead."""
        note = ""
        if latest is not None and latest.status is TriageStatus.DISMISSED:
            note = f"fired again; dismissed before by {latest.decided_by}: {latest.dismiss_reason}"
        elif latest is not None and latest.incident_id is not None:
            note = f"fired again after incident #{latest.incident_id} was resolved"
        service = seen.labels.get("service", "")
        item = TriageItem(
            id=max(self.items, default=0) + 1,
            group_key=self._key(seen),
            title=clean_title(seen.annotations.get("summary") or f"{seen.name} {service}"),
            labels=dict(seen.labels),
            annotations=dict(seen.annotations),
            starts_at=seen.starts_at,
            opened_at=self._clock(),
            proposed_severity=propose_severity(seen.labels, self._severity_map),
            note=note,
        )
        try:
            item = await self._store.open_triage(item, latest.id if latest is not None else 0)
        except StoreError as exc:
            # Kept in memory as any unsaved item is; a shared store never lets a later save of
            # it replace another node's item under the same number.
            log.error("triage item %d not saved: %s", item.id, exc)
        self.items[item.id] = item
        self._latest[item.group_key] = item.id
        return item

    def _incident_open(self, item: TriageItem) -> bool:
        state = self._hub.incident_state(item.incident_id or 0)
        return state is not None and state.incident.phase.is_open

    async def _note(self, incident_id: int, verb: str, alert: TriageAlert, at: datetime) -> None:
        body = EntryAdded(kind=EntryKind.ALERT, text=alert_line(verb, alert), occurred_at=at)
        await self._write(incident_id, body)

    async def _write(self, incident_id: int, body: EventBody) -> None:
        try:
            await self._hub.record(incident_id, body)
        except DomainError as exc:
            log.error("could not record alert on incident %d: %s", incident_id, exc.message)

    async def _save(self, item: TriageItem) -> None:
        try:
            await self._store.save_triage(item)
        except StoreError as exc:
            log.error("triage item %d not saved: %s", item.id, exc)

    def counts(self) -> dict[tuple[str, str], int]:
        """Items by (status, state words), for the node's gauges."""
        counted: dict[tuple[str, str], int] = {}
        for item in self.listed():
            key = (item.status.value, "firing" if item.firing else "resolved")
            counted[key] = counted.get(key, 0) + 1
        return counted

    # --- the list -------------------------------------------------------------------------------

    def listed(self) -> list[TriageItem]:
        """The items on the list: open first, newest first; undeclared items whose alerts all
        resolved longer than `keep_resolved` ago have aged out."""
        now = self._clock()
        kept = [
            item
            for item in self.items.values()
            if item.status is TriageStatus.DECLARED
            or (ended := item.resolved_at) is None
            or now - ended <= self._keep_resolved
        ]
        return sorted(kept, key=lambda i: (i.status is not TriageStatus.OPEN, -i.id))

    def _list_frame(self, frame_id: str | None) -> str:
        return TriageList(
            id=frame_id, items=self.listed()[:200], source=self.source
        ).model_dump_json()

    def _broadcast(self) -> None:
        if self.on_change is not None:
            self.on_change()
        frame = self._list_frame(None)
        for conn in list(self._followers):
            if conn.closed:
                del self._followers[conn]
            else:
                conn.send(frame)
