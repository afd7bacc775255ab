"""Session fixtures: a synthetic exporter, a real Prometheus scraping it, a real Alertmanager."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from warroom.monitoring.alertmanager import AlertmanagerClient
from warroom.monitoring.prometheus import PrometheusClient

from .processes import STARTUP_TIMEOUT, Server, binary, log_tail, start, stop
from .synthetic_traffic import Exporter, SyntheticTraffic, serve
from .waiting import free_port

SERVICES = ("checkout", "cart", "search", "payments", "inventory")
"""Each test owns one service, so tests can change its load without disturbing the others."""


PROMETHEUS_CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:{alertmanager_port}"]
rule_files: ["rules.yml"]
scrape_configs:
  - job_name: exporter
    static_configs:
      - targets: ["127.0.0.1:{exporter_port}"]
"""

# A short [5s] window so alerts fire and clear within seconds of the load changing.
RULES = """\
groups:
  - name: warroom-tests
    interval: 1s
    rules:
      - alert: HighErrorRate
        expr: >
          sum by (service) (rate(http_requests_total{code=~"5.."}[5s]))
          / sum by (service) (rate(http_requests_total[5s])) > 0.5
        for: 0s
        labels:
          severity: critical
        annotations:
          summary: "High error rate on {{ $labels.service }}"
          description: "{{ $value | humanizePercentage }} of requests fail."
          runbook_url: "https://runbooks.example.com/high-error-rate"
      - alert: StorageAlwaysFiring
        expr: vector(1)
        labels:
          severity: warning
          team: storage
        annotations:
          summary: "Routed to the storage team, never to the war room"
"""

ALERTMANAGER_CONFIG = """\
global:
  resolve_timeout: 5s
route:
  receiver: warroom
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - receiver: storage
      matchers: ['team="storage"']
receivers:
  - name: warroom
  - name: storage
"""


@pytest.fixture(scope="session")
def exporter() -> Iterator[Exporter]:
    """The synthetic services, each already serving a steady, error-free load."""
    traffic = SyntheticTraffic()
    for service in SERVICES:
        traffic.set_load(service)
    running = serve(traffic, free_port())
    yield running
    running.stop()


@pytest.fixture(scope="session")
def traffic(exporter: Exporter) -> SyntheticTraffic:
    """The knobs of the exporter's load."""
    return exporter.traffic


@pytest.fixture(scope="session")
def alertmanager_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real Alertmanager routing everything to `warroom` except the storage team's alerts."""
    program = binary("prometheus-alertmanager", "alertmanager")
    workdir = tmp_path_factory.mktemp("alertmanager")
    (workdir / "alertmanager.yml").write_text(ALERTMANAGER_CONFIG)
    port = free_port()
    server = start(
        "alertmanager",
        [
            program,
            f"--config.file={workdir / 'alertmanager.yml'}",
            f"--storage.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",  # no gossip: a single instance needs no peers
            "--log.level=warn",
        ],
        port,
        workdir,
    )
    yield server
    stop(server)


@pytest.fixture(scope="session")
def prometheus_server(
    tmp_path_factory: pytest.TempPathFactory, exporter: Exporter, alertmanager_server: Server
) -> Iterator[Server]:
    """A real Prometheus scraping the exporter every second and alerting to Alertmanager."""
    program = binary("prometheus")
    workdir = tmp_path_factory.mktemp("prometheus")
    am_port = alertmanager_server.url.rsplit(":", 1)[1]
    (workdir / "prometheus.yml").write_text(
        PROMETHEUS_CONFIG.format(alertmanager_port=am_port, exporter_port=exporter.port)
    )
    (workdir / "rules.yml").write_text(RULES)
    port = free_port()
    server = start(
        "prometheus",
        [
            program,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            # Re-send firing alerts every second rather than every minute, so Alertmanager's
            # view follows the rules closely.
            "--rules.alert.resend-delay=1s",
            "--log.level=warn",
        ],
        port,
        workdir,
    )
    # Prometheus applies new scrape targets on a 5s tick; tests start once the exporter is in.
    _wait_for_scrape(server)
    yield server
    stop(server)


def _wait_for_scrape(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        response = httpx.get(
            f"{server.url}/api/v1/query", params={"query": 'up{job="exporter"} == 1'}, timeout=1
        )
        if response.json()["data"]["result"]:
            return
        if time.monotonic() > deadline:
            stop(server)
            pytest.fail(f"Prometheus never scraped the exporter:\n{log_tail(server.log)}")
        time.sleep(0.05)  # the poll interval of this bounded wait, not a wait for an event


@pytest.fixture(scope="session")
def prometheus_url(prometheus_server: Server) -> str:
    """Base URL of the session's Prometheus."""
    return prometheus_server.url


@pytest.fixture(scope="session")
def alertmanager_url(alertmanager_server: Server) -> str:
    """Base URL of the session's Alertmanager."""
    return alertmanager_server.url


@pytest.fixture
async def prometheus(prometheus_url: str) -> AsyncIterator[PrometheusClient]:
    """A client for the session's Prometheus."""
    async with PrometheusClient(prometheus_url, timeout=5) as client:
        yield client


@pytest.fixture
async def alertmanager(alertmanager_url: str) -> AsyncIterator[AlertmanagerClient]:
    """A client for the session's Alertmanager."""
    async with AlertmanagerClient(alertmanager_url, timeout=5) as client:
        yield client


@pytest.fixture
def unused_url() -> str:
    """An address where nothing listens, like a stopped Prometheus."""
    return f"http://127.0.0.1:{free_port()}"
