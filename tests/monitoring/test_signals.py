"""Signal templates, configuration and snapshots, read from a real Prometheus."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from warroom.monitoring.prometheus import PrometheusClient
from warroom.monitoring.signals import (
    DEFAULT_SIGNALS,
    Level,
    MetricsConfig,
    MetricsSnapshot,
    SignalConfig,
    SignalReading,
    Unit,
    format_value,
    render_promql,
    sparkline_text,
    take_snapshot,
)

from .synthetic_traffic import SyntheticTraffic
from .waiting import eventually

# The rate window must cover a few 1s scrapes; 5s lets load changes show within seconds.
FAST = MetricsConfig(window="5s")


def _all_valued(snapshot: MetricsSnapshot) -> MetricsSnapshot | None:
    return snapshot if all(r.value is not None for r in snapshot.readings) else None


async def test_a_snapshot_reads_every_golden_signal(
    prometheus: PrometheusClient, traffic: SyntheticTraffic
) -> None:
    traffic.set_load("checkout", rps=20, latency=0.15, cpu_cores=0.5)

    async def settled() -> MetricsSnapshot | None:
        snapshot = await take_snapshot(prometheus, ["checkout"], FAST, datetime.now(UTC))
        traffic_now = snapshot.reading("checkout", "traffic").value
        return snapshot if traffic_now is not None and abs(traffic_now - 20) < 1 else None

    snapshot = await eventually(settled, what="checkout traffic at 20/s")

    assert [r.signal for r in snapshot.readings] == list(DEFAULT_SIGNALS)
    assert snapshot.errors == []
    p50 = snapshot.reading("checkout", "latency_p50")
    p99 = snapshot.reading("checkout", "latency_p99")
    # Every request takes 150 ms, so both quantiles interpolate inside the (0.1, 0.25] bucket.
    assert p50.value == pytest.approx(0.175, abs=0.01)
    assert p99.value == pytest.approx(0.2485, abs=0.01)
    assert p50.level is Level.OK
    assert snapshot.reading("checkout", "error_rate").value == 0
    assert snapshot.reading("checkout", "error_rate").level is Level.OK
    assert snapshot.reading("checkout", "saturation").value == pytest.approx(0.5, abs=0.05)
    assert snapshot.reading("checkout", "traffic").level is Level.OK
    assert snapshot.reading("checkout", "traffic").query == (
        'sum(rate(http_requests_total{service="checkout"}[5s]))'
    )


@pytest.fixture
def failing_cart(traffic: SyntheticTraffic) -> Iterator[None]:
    """Cart fails 30% of its requests: bad, but under the alert rule's 50%."""
    traffic.set_load("cart", error_ratio=0.3)
    yield
    traffic.set_load("cart", error_ratio=0.0)


async def test_a_rising_error_rate_shows_in_the_snapshot(
    prometheus: PrometheusClient, failing_cart: None
) -> None:
    async def errors_showing() -> SignalReading | None:
        snapshot = await take_snapshot(prometheus, ["cart"], FAST, datetime.now(UTC))
        error_rate = snapshot.reading("cart", "error_rate")
        value = error_rate.value or 0
        return error_rate if 0.25 < value < 0.35 else None

    error_rate = await eventually(errors_showing, what="cart's 30% error rate")

    assert error_rate.level is Level.CRITICAL
    assert error_rate.display_value.endswith(" %")


async def test_a_broken_template_fails_only_its_own_signal(
    prometheus: PrometheusClient,
) -> None:
    broken = MetricsConfig(
        window="5s",
        signals={
            # The closing parenthesis is missing.
            "saturation": {"template": 'sum(rate(process_cpu_seconds_total{service="{service}"}'},
        },
    )

    snapshot = await eventually(
        lambda: _maybe_valued_except(prometheus, broken, "saturation"),
        what="every signal but the broken one to have a value",
    )

    saturation = snapshot.reading("search", "saturation")
    assert saturation.level is Level.ERROR
    assert saturation.value is None
    assert saturation.error is not None
    assert saturation.error.startswith("bad_data: ")
    assert [r.signal for r in snapshot.errors] == ["saturation"]
    assert "search saturation: bad_data" in snapshot.to_text()


async def _maybe_valued_except(
    prometheus: PrometheusClient, config: MetricsConfig, broken: str
) -> MetricsSnapshot | None:
    snapshot = await take_snapshot(prometheus, ["search"], config, datetime.now(UTC))
    others = [r for r in snapshot.readings if r.signal != broken]
    return snapshot if all(r.value is not None for r in others) else None


async def test_a_template_that_does_not_aggregate_is_an_error(
    prometheus: PrometheusClient,
) -> None:
    config = MetricsConfig(
        window="5s",
        signals={"per_code": SignalConfig(title="Per code", template=DEFAULT_PER_CODE)},
    )

    async def scraped() -> SignalReading | None:
        # Before Prometheus has scraped search's series, the query has nothing to disaggregate.
        snapshot = await take_snapshot(prometheus, ["search"], config, datetime.now(UTC))
        reading = snapshot.reading("search", "per_code")
        return None if reading.level is Level.NO_DATA else reading

    reading = await eventually(scraped, what="search's series to be scraped")
    assert reading.level is Level.ERROR
    assert reading.error is not None
    assert "aggregate" in reading.error


DEFAULT_PER_CODE = 'rate(http_requests_total{service="{service}"}[{window}])'


async def test_an_unreachable_prometheus_gives_errors_not_a_crash(unused_url: str) -> None:
    async with PrometheusClient(unused_url, timeout=2) as client:
        snapshot = await take_snapshot(client, ["checkout", "cart"], FAST, datetime.now(UTC))

    assert len(snapshot.readings) == 2 * len(DEFAULT_SIGNALS)
    assert all(r.level is Level.ERROR for r in snapshot.readings)
    assert all(
        r.error is not None and r.error.startswith("connection: ") for r in snapshot.readings
    )
    assert "Errors:" in snapshot.to_text()


async def test_an_unknown_service_reads_as_no_data(prometheus: PrometheusClient) -> None:
    snapshot = await take_snapshot(prometheus, ["ghost"], FAST, datetime.now(UTC))

    assert snapshot.errors == []
    assert {r.level for r in snapshot.readings} == {Level.NO_DATA}
    assert {r.display_value for r in snapshot.readings} == {"no data"}


async def test_the_sparkline_holds_the_recent_range(prometheus: PrometheusClient) -> None:
    config = MetricsConfig(
        window="5s", sparkline_span=timedelta(seconds=20), sparkline_step=timedelta(seconds=2)
    )

    async def some_history() -> MetricsSnapshot | None:
        snapshot = await take_snapshot(prometheus, ["inventory"], config, datetime.now(UTC))
        line = snapshot.reading("inventory", "saturation").sparkline
        return snapshot if sum(v is not None for v in line) >= 3 else None

    snapshot = await eventually(some_history, what="a few points of inventory CPU history")

    line = snapshot.reading("inventory", "saturation").sparkline
    assert len(line) == 11
    points = [v for v in line if v is not None]
    # The earliest points are rates over windows that begin before Prometheus' first scrape,
    # so only the latest is exact.
    assert points[-1] == pytest.approx(0.2, abs=0.02)
    assert all(0 < v < 0.25 for v in points)
    assert snapshot.sparkline_step == timedelta(seconds=2)
    assert snapshot.sparkline_start == snapshot.read_at.replace(microsecond=0) - timedelta(
        seconds=20 + snapshot.read_at.second % 2
    )


async def test_a_real_snapshot_is_plain_json_and_round_trips(
    prometheus: PrometheusClient,
) -> None:
    snapshot = await eventually(
        lambda: _valued(prometheus), what="a fully valued snapshot of checkout and search"
    )

    # allow_nan=False: the frame encoder may be strict, so no NaN or Infinity may slip through.
    encoded = json.dumps(snapshot.model_dump(mode="json"), allow_nan=False)
    assert MetricsSnapshot.model_validate_json(encoded) == snapshot
    assert MetricsSnapshot.model_validate_json(snapshot.model_dump_json()) == snapshot
    assert len(snapshot.reading("checkout", "traffic").sparkline) == 31


async def _valued(prometheus: PrometheusClient) -> MetricsSnapshot | None:
    snapshot = await take_snapshot(prometheus, ["checkout", "search"], FAST, datetime.now(UTC))
    return _all_valued(snapshot)


def test_service_names_cannot_break_out_of_the_matcher() -> None:
    rendered = render_promql(
        'up{service="{service}"}[{window}]', service='a"} or vector(1) #\\', window="1m"
    )

    assert rendered == 'up{service="a\\"} or vector(1) #\\\\"}[1m]'


def test_default_templates_render_for_a_service() -> None:
    rendered = {n: s.promql("api", "5m") for n, s in DEFAULT_SIGNALS.items()}

    assert rendered["latency_p99"] == (
        "histogram_quantile(0.99, sum by (le) "
        '(rate(http_request_duration_seconds_bucket{service="api"}[5m])))'
    )
    assert rendered["error_rate"] == (
        '(sum(rate(http_requests_total{service="api",code=~"5.."}[5m])) or vector(0))'
        ' / sum(rate(http_requests_total{service="api"}[5m]))'
    )
    assert all("{" + "service}" not in q and "{window}" not in q for q in rendered.values())


def test_config_given_as_data_overrides_defaults_field_by_field() -> None:
    config = MetricsConfig.model_validate(
        {
            "window": "2m",
            "signals": {
                "saturation": {"template": 'max(queue_depth{service="{service}"})', "warn": 50},
                "traffic": None,
                "queue": {"title": "Queue", "template": "q", "unit": "none"},
            },
        }
    )

    assert list(config.signals) == [
        "latency_p50",
        "latency_p99",
        "error_rate",
        "saturation",
        "queue",
    ]
    saturation = config.signals["saturation"]
    assert saturation.template == 'max(queue_depth{service="{service}"})'
    assert saturation.warn == 50
    assert saturation.critical == DEFAULT_SIGNALS["saturation"].critical
    assert saturation.title == DEFAULT_SIGNALS["saturation"].title
    assert MetricsConfig().signals == DEFAULT_SIGNALS


@pytest.mark.parametrize(
    "changes",
    [
        {"window": "5 minutes"},
        {"window": ""},
        {"sparkline_step": timedelta(0)},
        {"sparkline_span": timedelta(seconds=10), "sparkline_step": timedelta(minutes=1)},
        {"sparkline_span": timedelta(days=1), "sparkline_step": timedelta(seconds=1)},
        {"max_concurrent_queries": 0},
    ],
)
def test_invalid_configs_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        MetricsConfig.model_validate(changes)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, Level.OK),
        (0.29, Level.OK),
        (0.3, Level.WARN),
        (0.99, Level.WARN),
        (1.0, Level.CRITICAL),
    ],
)
def test_thresholds_colour_a_reading(value: float, expected: Level) -> None:
    assert DEFAULT_SIGNALS["latency_p50"].level(value) is expected


def test_thresholds_can_treat_low_values_as_bad() -> None:
    traffic = SignalConfig(title="T", template="t", warn=10, critical=1, worse_when="below")

    assert traffic.level(50) is Level.OK
    assert traffic.level(10) is Level.WARN
    assert traffic.level(0) is Level.CRITICAL
    assert traffic.level(float("nan")) is Level.NO_DATA


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.175, Unit.SECONDS, "175 ms"),
        (0.0004, Unit.SECONDS, "0.4 ms"),
        (2.5, Unit.SECONDS, "2.5 s"),
        (0.025, Unit.RATIO, "2.5 %"),
        (0.0, Unit.RATIO, "0 %"),
        (12345.6, Unit.PER_SECOND, "12,346/s"),
        (0.5, Unit.CORES, "0.5 cores"),
        (3.14159, Unit.NONE, "3.14"),
    ],
)
def test_values_read_with_their_units(value: float, unit: Unit, text: str) -> None:
    assert format_value(value, unit) == text


def test_sparkline_text_scales_to_the_series() -> None:
    assert sparkline_text([0, 1, 2, None, 7]) == "▁▂▃ █"
    assert sparkline_text([5, 5]) == "▁▁"
    assert sparkline_text([None, None]) == ""


def test_to_text_is_an_aligned_table_with_queries() -> None:
    at = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    snapshot = MetricsSnapshot(
        read_at=at,
        window="5m",
        sparkline_start=at - timedelta(minutes=2),
        sparkline_step=timedelta(minutes=1),
        services=["api"],
        readings=[
            SignalReading(
                service="api",
                signal="latency_p99",
                title="Latency p99",
                unit=Unit.SECONDS,
                query="q1",
                value=1.2,
                level=Level.WARN,
                sparkline=[0.5, None, 1.2],
            ),
            SignalReading(
                service="api",
                signal="error_rate",
                title="Error rate",
                unit=Unit.RATIO,
                query="q2",
                level=Level.ERROR,
                error="bad_data: parse error",
            ),
            SignalReading(
                service="api",
                signal="latency_p50",
                title="Latency p50",
                unit=Unit.SECONDS,
                query="q3",
                non_finite="+Inf",
                level=Level.CRITICAL,
            ),
        ],
    )

    assert snapshot.to_text() == "\n".join(
        [
            "Metrics at 2024-05-01 12:00:00 UTC (rate window 5m)",
            "SERVICE  SIGNAL       VALUE  LEVEL     TREND",
            "api      Latency p99  1.2 s  warn      ▁ █",
            "api      Error rate   error  error",
            "api      Latency p50  +Inf   critical",
            "Errors:",
            "  api error_rate: bad_data: parse error",
            "Queries:",
            "  api latency_p99: q1",
            "  api error_rate: q2",
            "  api latency_p50: q3",
        ]
    )
    assert "Queries:" not in snapshot.to_text(include_queries=False)


async def test_naive_now_is_refused(prometheus: PrometheusClient) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await take_snapshot(prometheus, ["api"], FAST, datetime(2024, 1, 1))  # noqa: DTZ001
