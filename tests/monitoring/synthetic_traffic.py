"""A real prometheus_client exporter whose request, latency and CPU rates the tests dial in."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, math.inf)


@dataclass(frozen=True)
class Load:
    """What one service is doing right now."""

    rps: float = 10.0
    error_ratio: float = 0.0
    """Share of requests answered with a 500."""
    latency: float = 0.05
    """Every request takes this long, so quantiles land in one known bucket."""
    cpu_cores: float = 0.2


@dataclass
class _Totals:
    load: Load
    ok: float = 0.0
    errors: float = 0.0
    latency_sum: float = 0.0
    buckets: list[float] = field(default_factory=lambda: [0.0] * len(BUCKETS))
    cpu_seconds: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)
    """Discrete request counts per status code, added on top of the steady load."""


class SyntheticTraffic(Collector):
    """Counters that grow as if each service served its `Load` continuously.

    Counters are integrated over real time at each scrape, so Prometheus' `rate()` sees exactly
    the configured rates, and a change takes effect from the moment it is made.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._services: dict[str, _Totals] = {}
        self._last = clock()

    def set_load(self, service: str, **changes: float) -> None:
        """Change some of a service's rates from now on (adding the service if new)."""
        with self._lock:
            self._advance()
            totals = self._services.setdefault(service, _Totals(Load()))
            totals.load = replace(totals.load, **changes)

    def add_requests(self, service: str, code: str, count: int) -> None:
        """Count `count` extra requests with status `code` at once."""
        with self._lock:
            self._advance()
            totals = self._services.setdefault(service, _Totals(Load(rps=0, cpu_cores=0)))
            totals.extra[code] = totals.extra.get(code, 0.0) + count

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            self._advance()
            requests = CounterMetricFamily(
                "http_requests", "Requests served.", labels=["service", "code"]
            )
            durations = HistogramMetricFamily(
                "http_request_duration_seconds", "Request latency.", labels=["service"]
            )
            cpu = CounterMetricFamily("process_cpu_seconds", "CPU time.", labels=["service"])
            for service, totals in self._services.items():
                codes = {"200": totals.ok, "500": totals.errors}
                for code, extra in totals.extra.items():
                    codes[code] = codes.get(code, 0.0) + extra
                for code, value in codes.items():
                    requests.add_metric([service, code], value)
                durations.add_metric(
                    [service],
                    buckets=[
                        ("+Inf" if math.isinf(le) else str(le), count)
                        for le, count in zip(BUCKETS, totals.buckets, strict=True)
                    ],
                    sum_value=totals.latency_sum,
                )
                cpu.add_metric([service], totals.cpu_seconds)
        yield from (requests, durations, cpu)

    def _advance(self) -> None:
        now = self._clock()
        elapsed, self._last = now - self._last, now
        for totals in self._services.values():
            load = totals.load
            served = load.rps * elapsed
            totals.errors += served * load.error_ratio
            totals.ok += served * (1 - load.error_ratio)
            totals.latency_sum += served * load.latency
            for index, le in enumerate(BUCKETS):
                if load.latency <= le:
                    totals.buckets[index] += served
            totals.cpu_seconds += load.cpu_cores * elapsed


@dataclass
class Exporter:
    """A running exporter: where to scrape it and the knobs behind it."""

    traffic: SyntheticTraffic
    port: int
    stop: Callable[[], None]


def serve(traffic: SyntheticTraffic, port: int) -> Exporter:
    """Serve `traffic` over HTTP on 127.0.0.1:`port` from a background thread."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(traffic)
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return Exporter(traffic=traffic, port=port, stop=stop)
