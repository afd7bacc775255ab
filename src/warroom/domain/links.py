"""Investigation links (plan step 4): dashboards, traces and logs per service, from URL templates.

Templates come from the server's config and reach clients in the `welcome` frame. Placeholders:
`{service}`, `{correlation_id}`, `{from}`, `{to}` (ISO 8601 UTC) and `{from_ms}`, `{to_ms}` (Unix
milliseconds, what Grafana's `from=`/`to=` URL parameters take); values are URL-encoded.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict

DEFAULT_KEY = "default"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ServiceLinks(BaseModel):
    """URL templates for one service."""

    model_config = ConfigDict(extra="forbid")

    dashboard: str | None = None
    traces: str | None = None
    logs: str | None = None


class InvestigationLinks(BaseModel):
    """The links offered for one service, and for one Correlation-ID when there is one."""

    dashboard: str | None = None
    traces: str | None = None
    logs: str | None = None


def _unix_ms(at: datetime | None) -> str:
    # Grafana reads a bare number in `from`/`to` as epoch milliseconds; an ISO string it rejects.
    # Integer arithmetic on the timedelta: a float timestamp times 1000 can come out 1 ms short.
    if at is None:
        return ""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return str((aware - _EPOCH) // timedelta(milliseconds=1))


def placeholder_values(
    service: str,
    correlation_id: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[str, str]:
    """Every placeholder a link template may use, filled and URL-encoded."""
    return {
        "service": quote(service, safe=""),
        "correlation_id": quote(correlation_id or "", safe=""),
        "from": quote(start.isoformat() if start else "", safe=""),
        "to": quote(end.isoformat() if end else "", safe=""),
        "from_ms": _unix_ms(start),
        "to_ms": _unix_ms(end),
    }


def links_for(
    templates: dict[str, ServiceLinks],
    service: str,
    *,
    correlation_id: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> InvestigationLinks:
    """Fill the templates for `service` (or the default ones). Trace and log links need a
    Correlation-ID and are left out without one."""
    chosen = templates.get(service) or templates.get(DEFAULT_KEY) or ServiceLinks()
    values = placeholder_values(service, correlation_id, start, end)

    def fill(template: str | None, needs_id: bool) -> str | None:
        if template is None or (needs_id and not correlation_id):
            return None
        try:
            return template.format_map(values)
        except (KeyError, IndexError, ValueError):
            return None  # a template with an unknown placeholder offers no link, not a crash

    return InvestigationLinks(
        dashboard=fill(chosen.dashboard, needs_id=False),
        traces=fill(chosen.traces, needs_id=True),
        logs=fill(chosen.logs, needs_id=True),
    )
