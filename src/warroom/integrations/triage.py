"""The triage desk: alert groups from Alertmanager become triage items; declaring one makes an
incident whose timeline then follows its alerts (fired, resolved, fired again).

Plan steps 1-2. Alerts are deduplicated by fingerprint; a group lands on one item. Alertmanager
being down shows as a status on the triage list and a server log line, never a blocked war room.
"""

from __future__ import annotations

import json
import logging
import unicodedata
from collections.abc import Callable, Mapping
from datetime import datetime

from warroom.domain.errors import DomainError, ErrorCode
from warroom.domain.events import EntryAdded, Event, IncidentDeclared
from warroom.domain.limits import MAX_TITLE
from warroom.domain.severity import Severity
from warroom.domain.timeline import EntryKind
from warroom.domain.triage import (
    AlertSourceStatus,
    Detection,
    TriageAlert,
    TriageItem,
    TriageStatus,
)
from warroom.integrations.tasks import TaskSet
from warroom.monitoring.alertmanager import (
    DEFAULT_SEVERITY_MAP,
    Alert,
    AlertGroup,
    propose_severity_for_alerts,
)
from warroom.protocol.frames import SubscribeTriage, TriageList
from warroom.server.connection import Connection
from warroom.server.sequencer import Sequencer
from warroom.store.base import EventStore, StoreError

log = logging.getLogger(__name__)


def group_key(group: AlertGroup) -> str:
    return f"{group.receiver.name}|{json.dumps(sorted(group.labels.items()))}"


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


class TriageDesk:
    """Holds the triage items, reconciles them with Alertmanager's groups, answers the triage
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
    ) -> None:
        self._hub = hub
        self._store = store
        self._tasks = tasks
        self._clock = clock
        self._severity_map = severity_map
        self.items: dict[int, TriageItem] = {}
        self.source = AlertSourceStatus(configured=configured)
        self._followers: dict[Connection, None] = {}
        hub.route(SubscribeTriage, self.on_subscribe_triage)
        hub.attach_triage(self)
        hub.add_observer(self.on_events_committed)

    async def load(self) -> None:
        self.items = {item.id: item for item in await self._store.load_triage()}

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
                item.status = TriageStatus.DECLARED
                item.incident_id = event.incident_id
                item.decided_by = event.actor
                item.decided_at = event.at
                self._tasks.spawn(self._declared(item), f"triage {item.id} declared")

    async def _declared(self, item: TriageItem) -> None:
        await self._save(item)
        self._broadcast()
        assert item.incident_id is not None
        for alert in item.alerts.values():
            if alert.firing:
                await self._note(item.incident_id, "FIRING", alert, alert.starts_at)

    # --- reconciling with Alertmanager ----------------------------------------------------------

    async def reconcile(self, groups: list[AlertGroup]) -> None:
        """Bring the items up to date with the groups Alertmanager lists now."""
        now = self._clock()
        self.source = AlertSourceStatus(configured=True, ok=True, checked_at=now)
        seen: set[int] = set()
        for group in groups:
            firing = [a for a in group.alerts if a.status.state == "active"]
            if not firing:
                continue
            item = self._item_for(group, firing, now)
            seen.add(item.id)
            for fired in firing:
                await self._alert_firing(item, fired)
        for item in list(self.items.values()):
            if item.id not in seen:
                for alert in item.alerts.values():
                    if alert.firing:
                        alert.firing = False
                        if item.status is TriageStatus.DECLARED and item.incident_id:
                            await self._note(item.incident_id, "RESOLVED", alert, now)
                        await self._save(item)
        self._broadcast()

    def source_failed(self, error: str) -> None:
        log.warning("alert source unavailable: %s", error)
        self.source = AlertSourceStatus(
            configured=True, ok=False, checked_at=self._clock(), error=error
        )
        self._broadcast()

    def _item_for(self, group: AlertGroup, firing: list[Alert], now: datetime) -> TriageItem:
        key = group_key(group)
        current = [i for i in self.items.values() if i.group_key == key]
        latest = max(current, key=lambda i: i.id, default=None)
        # The same episode continues on its item: still firing, or open/declared and not over.
        # A dismissed group that stopped and fires again, or one whose incident is resolved,
        # gets a fresh item that says so.
        continues = latest is not None and (
            latest.firing or latest.status is not TriageStatus.DISMISSED
        )
        if (
            continues
            and latest is not None
            and (latest.status is not TriageStatus.DECLARED or self._incident_open(latest))
        ):
            return latest
        note = ""
        if latest is not None and latest.status is TriageStatus.DISMISSED:
            note = f"fired again; dismissed before by {latest.decided_by}: {latest.dismiss_reason}"
        elif latest is not None and latest.incident_id is not None:
            note = f"fired again after incident #{latest.incident_id} was resolved"
        first = min(firing, key=lambda a: a.starts_at)
        item = TriageItem(
            id=max(self.items, default=0) + 1,
            group_key=key,
            title=clean_title(first.summary or f"{first.name} {group.labels.get('service', '')}"),
            labels=dict(first.labels),
            annotations=dict(first.annotations),
            starts_at=first.starts_at,
            opened_at=now,
            proposed_severity=propose_severity_for_alerts(firing, self._severity_map),
            note=note,
        )
        self.items[item.id] = item
        return item

    def _incident_open(self, item: TriageItem) -> bool:
        state = self._hub.incident_state(item.incident_id or 0)
        return state is not None and state.incident.phase.is_open

    async def _alert_firing(self, item: TriageItem, alert: Alert) -> None:
        known = item.alerts.get(alert.fingerprint)
        if known is not None and known.firing:
            return
        again = known is not None
        record = TriageAlert(
            fingerprint=alert.fingerprint,
            name=alert.name,
            labels=dict(alert.labels),
            annotations=dict(alert.annotations),
            starts_at=alert.starts_at,
            times_fired=(known.times_fired + 1) if known else 1,
        )
        item.alerts[alert.fingerprint] = record
        await self._save(item)
        if item.status is TriageStatus.DECLARED and item.incident_id is not None:
            verb = "FIRING AGAIN" if again else "FIRING"
            await self._note(item.incident_id, verb, record, alert.starts_at)

    async def _note(self, incident_id: int, verb: str, alert: TriageAlert, at: datetime) -> None:
        body = EntryAdded(kind=EntryKind.ALERT, text=alert_line(verb, alert), occurred_at=at)
        try:
            await self._hub.record(incident_id, body)
        except DomainError as exc:
            log.error("could not record alert on incident %d: %s", incident_id, exc.message)

    async def _save(self, item: TriageItem) -> None:
        try:
            await self._store.save_triage(item)
        except StoreError as exc:
            log.error("triage item %d not saved: %s", item.id, exc)

    def _list_frame(self, frame_id: str | None) -> str:
        items = sorted(
            self.items.values(), key=lambda i: (i.status is not TriageStatus.OPEN, -i.id)
        )
        return TriageList(id=frame_id, items=items[:200], source=self.source).model_dump_json()

    def _broadcast(self) -> None:
        frame = self._list_frame(None)
        for conn in list(self._followers):
            if conn.closed:
                del self._followers[conn]
            else:
                conn.send(frame)
