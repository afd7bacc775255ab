"""Words and lines for the triage view: the alert source's status, ages, an item in full
(pure; no textual)."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from rich.style import Style
from rich.text import Text

from warroom.domain.triage import (
    AlertSourceStatus,
    AlertState,
    SourceState,
    TriageItem,
    TriageStatus,
)
from warroom.protocol.frames import TriageList
from warroom.tui.links import safe_url
from warroom.tui.safe_text import clean
from warroom.tui.time_format import clock_time, day_and_time
from warroom.tui.words import count


def source_status(source: AlertSourceStatus, zone: tzinfo | None) -> tuple[str, str]:
    """What the view says about Alertmanager, and the CSS class that colours it."""
    if not source.configured:
        return "Alertmanager: not configured (incidents are declared by hand)", "-off"
    if source.checked_at is None:
        return "Alertmanager: waiting for the first poll", "-off"
    at = clock_time(source.checked_at, zone, seconds=False)
    if source.ok and source.state is SourceState.RESTARTED:
        return (
            f"Alertmanager: RESTARTED; some alerts unconfirmed until their source sends them "
            f"again, none resolved (as of {at})",
            "-down",
        )
    if source.ok:
        return f"Alertmanager: OK as of {at}", "-ok"
    return f"Alertmanager: UNAVAILABLE: {clean(source.error or 'no answer')} (as of {at})", "-down"


def open_count(triage: TriageList | None) -> int:
    """How many alerts wait for a decision."""
    return sum(1 for i in triage.items if i.status is TriageStatus.OPEN) if triage else 0


def age(span: timedelta) -> str:
    """`<1 min`, `12 min`, `2 h 05 min`, `3 d 4 h`: how long an alert has been firing."""
    minutes = max(0, int(span.total_seconds() // 60))
    if minutes < 1:
        return "<1 min"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def alert_name(item: TriageItem) -> str:
    return item.labels.get("alertname") or item.title


def labels_line(labels: dict[str, str]) -> str:
    """`service=payments, severity=critical` (the alert's name is shown on its own)."""
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "alertname")


def decision_line(item: TriageItem, zone: tzinfo | None) -> str:
    """`declared as incident #3 by alice at 14:10` / `dismissed by bob at 14:02: flapping`."""
    when = f" at {clock_time(item.decided_at, zone, seconds=False)}" if item.decided_at else ""
    who = f" by {item.decided_by}" if item.decided_by else ""
    if item.status is TriageStatus.DECLARED:
        return f"declared as incident #{item.incident_id}{who}{when}"
    if item.status is TriageStatus.DISMISSED:
        return f"dismissed{who}{when}: {item.dismiss_reason}"
    return "open: waiting for the on-call engineer"


_NOT_CONFIRMED = (AlertState.UNPROCESSED, AlertState.SUPPRESSED, AlertState.UNCONFIRMED)
"""Alert states that are not resolved and not firing either, each counted on its own."""


def alert_counts(item: TriageItem) -> str:
    """`1 of 3 alerts firing (1 unprocessed, 1 unconfirmed)`: only confirmed alerts count as
    firing; the others are named by their state (the rest resolved)."""
    states = [alert.state for alert in item.alerts.values()]
    firing = states.count(AlertState.FIRING)
    others = [f"{states.count(s)} {s.value}" for s in _NOT_CONFIRMED if s in states]
    words = f"{firing} of {count(len(states), 'alert')} firing"
    return words + (f" ({', '.join(others)})" if others else "")


def describe_item(item: TriageItem, zone: tzinfo | None, now: datetime) -> Text:
    """Everything about one item; alert text stays literal, the runbook is a hyperlink."""
    text = Text()
    text.append(clean(alert_name(item)), style="bold")
    text.append(f"   proposed {item.proposed_severity.label}", style="bold")
    text.append(f"   {alert_counts(item)}\n")
    summary = item.annotations.get("summary") or item.title
    text.append(clean(summary) + "\n", style="italic")
    description = item.annotations.get("description")
    if description:
        text.append(clean(description, keep_newlines=True) + "\n")
    text.append("labels   ", style="bold")
    text.append(clean(labels_line(item.labels)) or "—")
    text.append("\nstarted  ", style="bold")
    text.append(f"{day_and_time(item.starts_at, zone)} ({age(now - item.starts_at)} ago)")
    text.append(f" · triage opened {clock_time(item.opened_at, zone, seconds=False)}")
    runbook = item.runbook_url
    if runbook:
        text.append("\nrunbook  ", style="bold")
        url = safe_url(runbook)
        if url is not None:
            text.append(clean(runbook), style=Style(underline=True, link=url))
        else:
            text.append(clean(runbook) + " (not a web link; not clickable)")
    if item.note:
        text.append("\nnote     ", style="bold")
        text.append(clean(item.note), style="italic")
    text.append("\nstatus   ", style="bold")
    text.append(clean(decision_line(item, zone)))
    return text
