"""Made-up outside data for `warroom demo`: one alert waiting in triage and a metrics snapshot.

A demo has no Alertmanager or Prometheus behind it, so these stand in for what they would send;
the war room handles them exactly as it handles the real thing.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from warroom.domain.links import ServiceLinks
from warroom.monitoring.alertmanager import AlertGroup
from warroom.monitoring.signals import MetricsConfig, MetricsSnapshot, SignalReading

DEMO_LINKS = {
    "default": ServiceLinks(
        dashboard="https://grafana.example.com/d/svc?var-service={service}&from={from}&to={to}",
        traces="https://app.datadoghq.com/apm/traces?query=%40correlation_id%3A{correlation_id}",
        logs="https://app.datadoghq.com/logs?query=%40correlation_id%3A{correlation_id}",
    )
}

# service -> signal -> (value now, value 30 minutes ago): the trend the sparkline draws.
_VALUES = {
    "payments-api": {
        "latency_p50": (0.84, 0.09),
        "latency_p99": (9.8, 0.4),
        "error_rate": (0.617, 0.002),
        "traffic": (212.0, 240.0),
        "saturation": (0.94, 0.35),
    },
    "api-gateway": {
        "latency_p50": (0.12, 0.03),
        "latency_p99": (10.0, 0.3),
        "error_rate": (0.542, 0.001),
        "traffic": (1900.0, 2100.0),
        "saturation": (0.41, 0.30),
    },
}


def waiting_alert(now: datetime) -> AlertGroup:
    """A second, smaller alert nobody has triaged yet."""
    started = now - timedelta(minutes=3)
    return AlertGroup.model_validate(
        {
            "labels": {"alertname": "CheckoutLatencyHigh", "service": "checkout"},
            "receiver": {"name": "warroom"},
            "alerts": [
                {
                    "fingerprint": "demo0c4e7a9f2b1d",
                    "labels": {
                        "alertname": "CheckoutLatencyHigh",
                        "service": "checkout",
                        "severity": "warning",
                    },
                    "annotations": {
                        "summary": "Checkout p99 latency above 2s",
                        "description": "p99 above 2 s; the rule waits 5 minutes before firing.",
                        "runbook_url": "https://runbooks.example.com/checkout-latency",
                    },
                    "startsAt": started.isoformat(),
                    "endsAt": (now + timedelta(minutes=5)).isoformat(),
                    "status": {"state": "active"},
                    "receivers": [{"name": "warroom"}],
                }
            ],
        }
    )


def metrics_snapshot(now: datetime) -> MetricsSnapshot:
    """What the default signals would read for the demo's two services."""
    config = MetricsConfig()
    points = 30
    start = now - timedelta(minutes=points - 1)
    readings = []
    for service, signals in _VALUES.items():
        for name, (current, before) in signals.items():
            signal = config.signals[name]
            trend = [
                before + (current - before) / (1 + math.exp(-(i - points * 0.6) / 1.5))
                for i in range(points)
            ]
            readings.append(
                SignalReading(
                    service=service,
                    signal=name,
                    title=signal.title,
                    unit=signal.unit,
                    query=signal.promql(service, config.window),
                    value=current,
                    level=signal.level(current),
                    sparkline=trend,
                )
            )
    return MetricsSnapshot(
        read_at=now,
        window=config.window,
        sparkline_start=start,
        sparkline_step=timedelta(minutes=1),
        services=list(_VALUES),
        readings=readings,
    )
