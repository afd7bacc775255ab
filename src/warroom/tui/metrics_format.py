"""Turns a metrics snapshot into the metrics pane's lines: values coloured by level, sparklines,
one error line under a failing signal (pure; no textual)."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text

from warroom.monitoring.signals import Level, MetricsSnapshot, SignalReading, sparkline_text
from warroom.tui.safe_text import clean

TITLE_WIDTH = 12
VALUE_WIDTH = 9
SPARK_WIDTH = 15
"""Cells for the trend; a 30-minute history at one point a minute is averaged into them."""
ERROR_WIDTH = 34
"""Errors are wrapped to this width under their signal, so the pane need not scroll sideways."""
MAX_ERROR_LINES = 3
"""A longer error is cut: the pinned snapshot on the timeline keeps it whole."""


@dataclass(frozen=True)
class MetricsStyles:
    """Styles for the parts of the pane, resolved from the stylesheet's component classes."""

    levels: Mapping[Level, Style]
    service: Style
    link: Style
    muted: Style


def compress(values: Sequence[float | None], width: int) -> list[float | None]:
    """`values` averaged into at most `width` buckets (gaps ignored; a bucket of gaps stays a
    gap), so a long history fits a narrow pane without dropping its newest point."""
    if len(values) <= width:
        return list(values)
    out: list[float | None] = []
    for cell in range(width):
        lo, hi = cell * len(values) // width, (cell + 1) * len(values) // width
        present = [v for v in values[lo:hi] if v is not None]
        out.append(sum(present) / len(present) if present else None)
    return out


def reading_line(reading: SignalReading, styles: MetricsStyles) -> Text:
    """` Latency p99     2.1 s ▁▂▃▅▇` with the value and trend in the level's colour."""
    level = styles.levels.get(reading.level, Style())
    line = Text(no_wrap=True, end="")
    line.append(" " + clean(reading.title)[:TITLE_WIDTH].ljust(TITLE_WIDTH))
    line.append(clean(reading.display_value).rjust(VALUE_WIDTH), level + Style(bold=True))
    trend = sparkline_text(compress(reading.sparkline, SPARK_WIDTH))
    if trend:
        line.append(" " + trend, level)
    return line


def error_lines(error: str, styles: MetricsStyles) -> list[Text]:
    """The reason a signal failed, under that signal alone, wrapped to the pane's width."""
    lines = textwrap.wrap(clean(error), ERROR_WIDTH, break_on_hyphens=False) or [""]
    if len(lines) > MAX_ERROR_LINES:
        lines = lines[:MAX_ERROR_LINES]
        lines[-1] = lines[-1][: ERROR_WIDTH - 1] + "…"
    style = styles.levels.get(Level.ERROR, Style())
    return [
        Text(("   ⚠ " if n == 0 else "     ") + line, style=style) for n, line in enumerate(lines)
    ]


def service_line(service: str, dashboard: str | None, styles: MetricsStyles) -> Text:
    """The service's name, and its dashboard as a terminal hyperlink when there is one."""
    line = Text(no_wrap=True, end="")
    line.append(clean(service), styles.service)
    if dashboard is not None:
        line.append("  ")
        line.append("↗ dashboard", styles.link + Style(link=dashboard))
    return line


def snapshot_text(
    snapshot: MetricsSnapshot,
    services: Sequence[str],
    dashboards: Mapping[str, str],
    styles: MetricsStyles,
) -> Text:
    """Every service of the snapshot with its readings; services added since it was read are
    listed as waiting for the next reading."""
    lines: list[Text] = []
    shown = list(dict.fromkeys([*snapshot.services, *services]))
    for service in shown:
        if lines:
            lines.append(Text())
        lines.append(service_line(service, dashboards.get(service), styles))
        readings = [r for r in snapshot.readings if r.service == service]
        if not readings:
            lines.append(Text(" not read yet; waiting for the next poll", style=styles.muted))
        for reading in readings:
            lines.append(reading_line(reading, styles))
            if reading.error is not None:
                lines.extend(error_lines(reading.error, styles))
    return Text("\n").join(lines)


def services_text(
    services: Sequence[str], dashboards: Mapping[str, str], styles: MetricsStyles
) -> Text:
    """The incident's services with their dashboard links (when there is no live snapshot)."""
    return Text("\n").join(service_line(s, dashboards.get(s), styles) for s in services)
