"""Metrics as the war room sees them: a snapshot of golden signals per service, ready to send,
show or pin into the timeline. Taking one (PromQL, Prometheus) is `warroom.monitoring`'s job."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict


class Unit(StrEnum):
    """How a signal's number reads to a person."""

    SECONDS = "seconds"
    RATIO = "ratio"
    """A fraction 0..1, shown as a percentage."""
    PER_SECOND = "per_second"
    CORES = "cores"
    NONE = "none"


class Level(StrEnum):
    """How worrying a reading is; consoles map it to theme colours."""

    OK = "ok"
    WARN = "warn"
    CRITICAL = "critical"
    NO_DATA = "no_data"
    """Prometheus answered but had nothing: no series, or NaN such as a quantile of no traffic."""
    ERROR = "error"
    """The query itself failed; `SignalReading.error` says why."""


class SignalReading(BaseModel):
    """One signal of one service at snapshot time: a value or an error, and its recent trend."""

    model_config = ConfigDict(frozen=True)

    service: str
    signal: str
    title: str
    unit: Unit
    query: str
    """The exact PromQL sent, so a pinned snapshot can be re-run by hand."""
    value: float | None = None
    """Always finite, so the snapshot is plain JSON; see `non_finite` for the rest."""
    non_finite: Literal["+Inf", "-Inf"] | None = None
    """Set when Prometheus returned an infinity, e.g. a quantile above the largest bucket."""
    level: Level
    error: str | None = None
    sparkline: list[float | None] = []
    """Values at `MetricsSnapshot.sparkline_start + i * sparkline_step`; None where missing."""

    @property
    def display_value(self) -> str:
        """The value as a person reads it: "175 ms", "2.5 %", "no data", "error"."""
        if self.value is not None:
            return format_value(self.value, self.unit)
        if self.non_finite is not None:
            return self.non_finite
        return "error" if self.error is not None else "no data"


class MetricsSnapshot(BaseModel):
    """Every configured signal for a set of services at one instant, ready to send or pin."""

    model_config = ConfigDict(frozen=True)

    read_at: datetime
    """The instant the values were evaluated at."""
    window: str
    sparkline_start: datetime
    sparkline_step: timedelta
    services: list[str]
    readings: list[SignalReading]
    """Service by service, signals in configuration order."""

    def reading(self, service: str, signal: str) -> SignalReading:
        """The reading for one (service, signal); KeyError if it was not taken."""
        for reading in self.readings:
            if reading.service == service and reading.signal == signal:
                return reading
        raise KeyError((service, signal))

    @property
    def errors(self) -> list[SignalReading]:
        """Readings whose query failed."""
        return [reading for reading in self.readings if reading.error is not None]

    def to_text(self, *, include_queries: bool = True) -> str:
        """A plain-text table for a timeline entry, with failures and queries listed below."""
        when = self.read_at.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
        lines = [f"Metrics at {when} (rate window {self.window})"]
        rows = [("SERVICE", "SIGNAL", "VALUE", "LEVEL", "TREND")]
        rows += [
            (r.service, r.title, r.display_value, r.level.value, sparkline_text(r.sparkline))
            for r in self.readings
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
            lines.append("  ".join([*cells, row[4]]).rstrip())
        if self.errors:
            lines.append("Errors:")
            lines += [f"  {r.service} {r.signal}: {r.error}" for r in self.errors]
        if include_queries:
            lines.append("Queries:")
            lines += [f"  {r.service} {r.signal}: {r.query}" for r in self.readings]
        return "\n".join(lines)


def format_value(value: float, unit: Unit) -> str:
    """A finite value with its unit, to about three significant figures."""
    match unit:
        case Unit.SECONDS:
            if abs(value) < 1:
                return f"{_number(value * 1000)} ms"
            return f"{_number(value)} s"
        case Unit.RATIO:
            return f"{_number(value * 100)} %"
        case Unit.PER_SECOND:
            return f"{_number(value)}/s"
        case Unit.CORES:
            return f"{_number(value)} cores"
        case Unit.NONE:
            return _number(value)


_BARS = "▁▂▃▄▅▆▇█"


def sparkline_text(values: Sequence[float | None]) -> str:
    """Block characters scaled between the series' own min and max; a space for a gap."""
    finite = [v for v in values if v is not None]
    if not finite:
        return ""
    low, high = min(finite), max(finite)
    span = high - low
    top = len(_BARS) - 1
    return "".join(
        " " if v is None else _BARS[round((v - low) / span * top) if span else 0] for v in values
    )


def _number(value: float) -> str:
    # ",.0f" above a thousand: "12,345" reads better on a call than "1.23e+04".
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
