"""Investigation links for the panes: filled from the server's templates and checked before they
become terminal hyperlinks (OSC 8). No textual here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from warroom.domain.incident import IncidentState
from warroom.domain.instants import in_range
from warroom.domain.links import DEFAULT_KEY, ServiceLinks, links_for
from warroom.domain.timeline import TimelineEntry

ENTRY_WINDOW = timedelta(minutes=15)
"""Traces and logs are searched this long before and after the entry's time."""
DASHBOARD_LEAD = timedelta(minutes=30)
"""Dashboards open this long before the declaration, to show the lead-up."""
MAX_URL = 2048


@dataclass(frozen=True)
class LinkItem:
    """One link as offered to the user: what it is, and where it goes."""

    label: str
    """E.g. `traces · payments-api`."""
    url: str


def safe_url(url: str | None) -> str | None:
    """`url` if it is a plain http(s) URL that is safe to put in a terminal hyperlink, else None.

    Templates come from the server's config and runbook URLs from alert annotations; a control
    character in either could end the OSC 8 sequence early and reach the terminal, and other
    schemes (`file:`, `javascript:`) have no business in a war room.
    """
    if not url or len(url) > MAX_URL:
        return None
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    return url


def incident_services(state: IncidentState) -> list[str]:
    """The incident's services plus those its technical leads own (what the server polls)."""
    owned = [service for service in state.roster.tls.values() if service]
    return sorted(set(state.incident.services) | set(owned))


def _services_with_templates(state: IncidentState, templates: dict[str, ServiceLinks]) -> list[str]:
    services = incident_services(state)
    if services:
        return services
    # Without services the default template still gives the team somewhere to look.
    return [DEFAULT_KEY] if DEFAULT_KEY in templates else []


def entry_links(
    entry: TimelineEntry, state: IncidentState, templates: dict[str, ServiceLinks]
) -> list[LinkItem]:
    """Trace and log links for an entry's Correlation-ID, per service; none without an ID."""
    if not entry.correlation_id or not templates:
        return []
    start, end = _shifted(entry.when, -ENTRY_WINDOW), _shifted(entry.when, ENTRY_WINDOW)
    found: list[LinkItem] = []
    for service in _services_with_templates(state, templates):
        links = links_for(
            templates, service, correlation_id=entry.correlation_id, start=start, end=end
        )
        for label, url in (("traces", links.traces), ("logs", links.logs)):
            checked = safe_url(url)
            if checked is not None:
                found.append(LinkItem(f"{label} · {service}", checked))
    return found


def dashboard_links(
    state: IncidentState, templates: dict[str, ServiceLinks], now: datetime
) -> dict[str, str]:
    """Each service's dashboard URL, over the incident so far (or until it was resolved)."""
    if not templates:
        return {}
    start = _shifted(state.incident.declared_at, -DASHBOARD_LEAD)
    # Whole minutes, so the URL (and the pane showing it) does not change every second.
    end = state.incident.resolved_at or (
        now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    )
    found: dict[str, str] = {}
    for service in _services_with_templates(state, templates):
        checked = safe_url(links_for(templates, service, start=start, end=end).dashboard)
        if checked is not None:
            found[service] = checked
    return found


def _shifted(when: datetime, by: timedelta) -> datetime | None:
    """`when` moved by `by`, or None (no time in the link) for a stored time out of range: a
    damaged store or a hostile server may hold one, and moving it raised OverflowError in the
    metrics pane. A time in range is at least a day from the calendar's ends."""
    return when + by if in_range(when) else None


def dashboard_items(links: dict[str, str]) -> list[LinkItem]:
    """Dashboard links as list items."""
    return [LinkItem(f"dashboard · {service}", url) for service, url in sorted(links.items())]
