"""warroom's own metrics (prometheus_client) and log format: what an operator scrapes and reads.

Instrumentation stays off the hot path: counters and one histogram observation per commit;
gauges (connections, queue depths, triage items) are read only when Prometheus scrapes.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from warroom.domain.events import Event
from warroom.domain.incident import IncidentSummary
from warroom.notify import retry
from warroom.notify.retry import DeliveryOutcome
from warroom.server import connection
from warroom.store.base import StoredSnapshot
from warroom.store.sqlite import SqliteStore

METRIC_NAMES = (
    "warroom_connections",
    "warroom_fanout_queued_frames",
    "warroom_events_committed_total",
    "warroom_commit_seconds_bucket",
    "warroom_deliveries_total",
    "warroom_delivery_retries_total",
    "warroom_triage_items",
    "warroom_alert_webhook_deliveries_total",
    "warroom_integrations_leader",
)
"""Every series name the node exposes, as PromQL names them (histograms by their buckets)."""


class NodeMetrics:
    """One node's registry: counters fed as things happen, gauges read at scrape time."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.events = Counter(
            "warroom_events_committed",
            "Incident events committed to the event log.",
            registry=self.registry,
        )
        self.commit_seconds = Histogram(
            "warroom_commit_seconds",
            "Time to commit one batch of events to SQLite.",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
            registry=self.registry,
        )
        self.deliveries = Counter(
            "warroom_deliveries",
            "Outbound deliveries finished, by integration and outcome (ok or failed).",
            ["integration", "outcome"],
            registry=self.registry,
        )
        self.retries = Counter(
            "warroom_delivery_retries",
            "Attempts beyond the first, by integration.",
            ["integration"],
            registry=self.registry,
        )
        self.webhooks = Counter(
            "warroom_alert_webhook_deliveries",
            "Alertmanager webhook notifications taken.",
            registry=self.registry,
        )
        self._triage_counts: Callable[[], dict[tuple[str, str], int]] = dict
        self._leading: Callable[[], bool] = lambda: True
        self.registry.register(_Gauges(self))

    def watch_leadership(self, leading: Callable[[], bool]) -> None:
        """Read at scrape time whether this node runs the integrations."""
        self._leading = leading

    def watch_triage(self, counts: Callable[[], dict[tuple[str, str], int]]) -> None:
        """Read triage item counts by (status, state) at scrape time."""
        self._triage_counts = counts

    def on_events_committed(self, events: list[Event]) -> None:
        self.events.inc(len(events))

    def on_delivery(self, outcome: DeliveryOutcome) -> None:
        integration = outcome.target.split(" ", 1)[0] or "unknown"
        self.deliveries.labels(integration, "ok" if outcome.ok else "failed").inc()
        if outcome.attempts > 1:
            self.retries.labels(integration).inc(outcome.attempts - 1)

    def start(self) -> None:
        retry.DELIVERY_OBSERVERS.append(self.on_delivery)

    def stop(self) -> None:
        if self.on_delivery in retry.DELIVERY_OBSERVERS:
            retry.DELIVERY_OBSERVERS.remove(self.on_delivery)

    def exposition(self) -> tuple[bytes, str]:
        """The text Prometheus scrapes, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _Gauges(Collector):
    """Values that already exist elsewhere, read when Prometheus asks."""

    def __init__(self, metrics: NodeMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterable[Metric]:
        consoles = [c for c in list(connection.LIVE) if not c.closed]
        yield GaugeMetricFamily("warroom_connections", "Open console connections.", len(consoles))
        yield GaugeMetricFamily(
            "warroom_fanout_queued_frames",
            "Frames queued for consoles, not yet sent (all connections).",
            sum(c.queued for c in consoles),
        )
        items = GaugeMetricFamily(
            "warroom_triage_items",
            "Triage items by decision and alert state.",
            labels=["status", "state"],
        )
        for (status, state), count in sorted(self._metrics._triage_counts().items()):
            items.add_metric([status, state], count)
        yield items
        yield GaugeMetricFamily(
            "warroom_integrations_leader",
            "1 on the node that runs pollers, reminders and outbound deliveries, else 0.",
            1 if self._metrics._leading() else 0,
        )


class TimedSqliteStore(SqliteStore):
    """The SQLite store, timing each commit of events into a histogram."""

    observe_commit: Callable[[float], None] | None = None

    async def append(
        self,
        events: Sequence[Event],
        summaries: Sequence[IncidentSummary] = (),
        snapshots: Sequence[StoredSnapshot] = (),
    ) -> None:
        started = time.perf_counter()
        await super().append(events, summaries, snapshots)
        if self.observe_commit is not None:
            self.observe_commit(time.perf_counter() - started)


# --- logs -----------------------------------------------------------------------------------------


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger, message; an unexpected failure's traceback
    goes into `error` on the same line, never as loose lines."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(log_format: str, level: int) -> None:
    """`text` (the default) or `json` lines on stderr."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


LOG_FORMATS: Sequence[str] = ("text", "json")
