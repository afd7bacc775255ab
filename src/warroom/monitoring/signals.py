"""Golden-signal PromQL per service, and the JSON-ready metrics snapshot taken from it."""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from warroom.domain.metrics import (
    Level,
    MetricsSnapshot,
    SignalReading,
    Unit,
    format_value,
    sparkline_text,
)
from warroom.monitoring.prometheus import (
    FetchErrorKind,
    PrometheusError,
    RangeSeries,
    Sample,
)

__all__ = [
    "DEFAULT_SIGNALS",
    "Level",
    "MetricsConfig",
    "MetricsSnapshot",
    "PromQLClient",
    "SignalConfig",
    "SignalReading",
    "Unit",
    "format_value",
    "render_promql",
    "sparkline_text",
    "take_snapshot",
]


class SignalConfig(BaseModel):
    """One signal: its PromQL template, unit and colour thresholds.

    Templates use `{service}` and `{window}` placeholders (replaced literally, so PromQL's own
    braces need no escaping) and should aggregate to a single series per service.
    """

    model_config = ConfigDict(frozen=True)

    title: str
    template: str
    unit: Unit = Unit.NONE
    warn: float | None = None
    critical: float | None = None
    worse_when: Literal["above", "below"] = "above"
    """Whether high values (latency) or low ones (e.g. traffic falling to zero) are bad."""

    def promql(self, service: str, window: str) -> str:
        """The template with this service and window filled in."""
        return render_promql(self.template, service=service, window=window)

    def level(self, value: float) -> Level:
        """Where `value` falls against the thresholds; NaN reads as no data."""
        if math.isnan(value):
            return Level.NO_DATA
        if self._crosses(value, self.critical):
            return Level.CRITICAL
        if self._crosses(value, self.warn):
            return Level.WARN
        return Level.OK

    def _crosses(self, value: float, threshold: float | None) -> bool:
        if threshold is None:
            return False
        return value >= threshold if self.worse_when == "above" else value <= threshold


_HTTP = 'http_requests_total{service="{service}"}'
_HTTP_5XX = 'http_requests_total{service="{service}",code=~"5.."}'
_BUCKETS = 'http_request_duration_seconds_bucket{service="{service}"}'

DEFAULT_SIGNALS: dict[str, SignalConfig] = {
    "latency_p50": SignalConfig(
        title="Latency p50",
        template=f"histogram_quantile(0.5, sum by (le) (rate({_BUCKETS}[{{window}}])))",
        unit=Unit.SECONDS,
        warn=0.3,
        critical=1.0,
    ),
    "latency_p99": SignalConfig(
        title="Latency p99",
        template=f"histogram_quantile(0.99, sum by (le) (rate({_BUCKETS}[{{window}}])))",
        unit=Unit.SECONDS,
        warn=1.0,
        critical=2.5,
    ),
    "error_rate": SignalConfig(
        title="Error rate",
        # `or vector(0)`: a service that never failed has no 5xx series at all, and that is a
        # 0% error rate, not missing data. With no traffic the division still yields nothing.
        template=(
            f"(sum(rate({_HTTP_5XX}[{{window}}])) or vector(0)) / sum(rate({_HTTP}[{{window}}]))"
        ),
        unit=Unit.RATIO,
        warn=0.01,
        critical=0.05,
    ),
    "traffic": SignalConfig(
        title="Traffic",
        template=f"sum(rate({_HTTP}[{{window}}]))",
        unit=Unit.PER_SECOND,
    ),
    "saturation": SignalConfig(
        title="CPU",
        # Cores in use; the thresholds assume one core per service, so deployments with more
        # override them or point the template at a utilisation gauge.
        template='sum(rate(process_cpu_seconds_total{service="{service}"}[{window}]))',
        unit=Unit.CORES,
        warn=0.8,
        critical=0.95,
    ),
}
"""The golden signals for services following the usual `http_*` metric conventions."""

T = TypeVar("T")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")


class MetricsConfig(BaseModel):
    """Which signals to read per service, over which window, and how much history to chart.

    `signals` given as plain data is merged over `DEFAULT_SIGNALS`: `{"saturation": {"template":
    "..."}}` changes one field of one signal, a new name adds a signal, and `None` removes one.
    """

    model_config = ConfigDict(frozen=True)

    window: str = "5m"
    """The range selector for `rate()` in every template, in PromQL duration syntax."""
    signals: dict[str, SignalConfig] = Field(default_factory=lambda: dict(DEFAULT_SIGNALS))
    sparkline_span: timedelta = timedelta(minutes=30)
    sparkline_step: timedelta = timedelta(minutes=1)
    max_concurrent_queries: int = Field(default=8, ge=1)
    """Caps in-flight requests so a long service list cannot flood Prometheus."""

    @model_validator(mode="before")
    @classmethod
    def _merge_over_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("signals"), dict):
            return data
        merged: dict[str, Any] = dict(DEFAULT_SIGNALS)
        for name, given in data["signals"].items():
            if given is None:
                merged.pop(name, None)
            elif isinstance(given, dict) and isinstance(merged.get(name), SignalConfig):
                merged[name] = {**merged[name].model_dump(), **given}
            else:
                merged[name] = given
        return {**data, "signals": merged}

    @field_validator("window")
    @classmethod
    def _check_window(cls, window: str) -> str:
        if not _DURATION.match(window):
            raise ValueError(f"{window!r} is not a PromQL duration such as 5m or 90s")
        return window

    @model_validator(mode="after")
    def _check_sparkline(self) -> Self:
        if self.sparkline_step <= timedelta(0) or self.sparkline_span < self.sparkline_step:
            raise ValueError("sparkline_step must be positive and no longer than sparkline_span")
        if self.sparkline_span / self.sparkline_step > 1000:
            raise ValueError("a sparkline of more than 1000 points would never fit a screen")
        return self


class PromQLClient(Protocol):
    """What a snapshot needs from Prometheus; `PrometheusClient` is the real one."""

    async def query(self, promql: str, *, at: datetime | None = None) -> list[Sample]: ...

    async def query_range(
        self, promql: str, *, start: datetime, end: datetime, step: timedelta
    ) -> list[RangeSeries]: ...


async def take_snapshot(
    client: PromQLClient,
    services: Sequence[str],
    config: MetricsConfig,
    now: datetime,
) -> MetricsSnapshot:
    """Read every signal of every service at `now`, concurrently.

    A failing query marks its own reading with an error and leaves the others alone, so one
    broken template or a Prometheus outage never costs the whole snapshot. Only programming
    errors propagate.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    step = config.sparkline_step
    # Aligning the range to whole steps keeps successive sparklines from shimmering as the
    # sample points slide a little with each poll.
    end = now - (now - _EPOCH) % step
    start = end - config.sparkline_span
    points = int(config.sparkline_span / step) + 1
    gate = asyncio.Semaphore(config.max_concurrent_queries)

    async def read(service: str, name: str, signal: SignalConfig) -> SignalReading:
        promql = signal.promql(service, config.window)

        async def instant() -> float | None:
            async with gate:
                samples = await client.query(promql, at=now)
            sample = _only(samples)
            return None if sample is None else sample.value

        async def history() -> list[float | None]:
            async with gate:
                series = await client.query_range(promql, start=start, end=end, step=step)
            line: list[float | None] = [None] * points
            only = _only(series)
            for point in only.points if only is not None else []:
                index = round((point.at - start) / step)
                if 0 <= index < points and math.isfinite(point.value):
                    line[index] = point.value
            return line

        value_result, history_result = await asyncio.gather(
            instant(), history(), return_exceptions=True
        )
        fields: dict[str, Any] = {
            "service": service,
            "signal": name,
            "title": signal.title,
            "unit": signal.unit,
            "query": promql,
        }
        if isinstance(history_result, list):
            fields["sparkline"] = history_result
        if isinstance(value_result, BaseException):
            if not isinstance(value_result, PrometheusError):
                raise value_result
            return SignalReading(**fields, level=Level.ERROR, error=_describe(value_result))
        if isinstance(history_result, BaseException):
            # The current value is still worth showing; the trend just stays blank.
            if not isinstance(history_result, PrometheusError):
                raise history_result
            fields["error"] = f"history: {_describe(history_result)}"
        if value_result is None:
            return SignalReading(**fields, level=Level.NO_DATA)
        level = signal.level(value_result)
        if math.isinf(value_result):
            sign = "+Inf" if value_result > 0 else "-Inf"
            return SignalReading(**fields, non_finite=sign, level=level)
        if math.isnan(value_result):
            return SignalReading(**fields, level=level)
        return SignalReading(**fields, value=value_result, level=level)

    readings = await asyncio.gather(
        *(
            read(service, name, signal)
            for service in services
            for name, signal in config.signals.items()
        )
    )
    return MetricsSnapshot(
        read_at=now,
        window=config.window,
        sparkline_start=start,
        sparkline_step=step,
        services=list(services),
        readings=list(readings),
    )


def _only(items: list[T]) -> T | None:
    if not items:
        return None
    if len(items) > 1:
        raise PrometheusError(
            FetchErrorKind.QUERY,
            f"the query returned {len(items)} series; aggregate it to one, e.g. with sum()",
            error_type="ambiguous",
        )
    return items[0]


def _describe(error: PrometheusError) -> str:
    return f"{error.error_type or error.kind.value}: {error}"


def render_promql(template: str, *, service: str, window: str) -> str:
    """Fill `{service}` and `{window}` into a template.

    The service is escaped as a PromQL double-quoted string body, so a name with a quote or
    backslash cannot end the label matcher early and change what the query means.
    """
    quoted = service.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return template.replace("{service}", quoted).replace("{window}", window)
