"""Pages the on-call rotation through the PagerDuty Events API v2: trigger, acknowledge, resolve.

One war-room incident is one PagerDuty alert, tied together by its `dedup_key`. A second trigger
with the same key (an escalation) does not page again: PagerDuty only adds it to the open alert's
log. So an escalation's trigger says so where a responder looks first, the summary, and carries
the new `payload.severity`.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, field_validator

from warroom.domain.incident import Incident
from warroom.domain.severity import Severity
from warroom.notify.retry import DeliveryOutcome, RetryPolicy, Sleep, send_with_retry
from warroom.notify.sanitize import clean_json

DEFAULT_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"

PAGERDUTY_SEVERITY: dict[Severity, str] = {
    Severity.SEV1: "critical",
    Severity.SEV2: "error",
    # The plan pages only for SEV1 and SEV2; a SEV3 reaching here still gets a valid value.
    Severity.SEV3: "warning",
}
"""Events API v2 `payload.severity` for each level."""

MAX_SUMMARY = 1024
"""Events API v2 limit on `payload.summary`; longer summaries are refused with a 400."""

_ROUTING_KEY = re.compile(r"[A-Za-z0-9]{32}")
"""An Events API v2 integration key: 32 letters and digits. Anything else is refused with a 400
on the first page, which is the worst moment to find a typo."""


class PagerDutyConfig(BaseModel):
    """Where and how to send PagerDuty events."""

    # Validation errors would otherwise quote the routing key back into logs.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    routing_key: SecretStr
    """The Events API v2 integration key of the service to page (32 characters); kept out of
    reprs and logs."""
    events_url: HttpUrl = HttpUrl(DEFAULT_EVENTS_URL)
    """The enqueue endpoint; a different one only for EU accounts, proxies or tests."""
    source: str = Field(default="warroom", min_length=1)
    """`payload.source` for an incident that lists no service; otherwise its first service is
    the source, as the API asks for the affected system."""
    dedup_prefix: str = Field(default="warroom", min_length=1, max_length=64)
    """Starts every dedup key, so two war rooms sharing a routing key never merge incidents."""
    console_url: HttpUrl | None = None
    """Link back to this war room, sent as the event's `client_url` when set."""
    timeout: float = Field(default=10.0, gt=0)
    """Seconds one attempt may take before it counts as failed and is retried."""
    retry: RetryPolicy = RetryPolicy()

    @field_validator("routing_key")
    @classmethod
    def _is_an_integration_key(cls, value: SecretStr) -> SecretStr:
        key = value.get_secret_value()
        if not _ROUTING_KEY.fullmatch(key):
            # The length helps find a pasted space or a truncated key; the key itself stays out.
            raise ValueError(
                "must be the 32-character integration key of an Events API v2 integration "
                f"(letters and digits; this one has {len(key)} characters)"
            )
        return value


def dedup_key(config: PagerDutyConfig, incident_id: int) -> str:
    """The key that ties a trigger to its resolve: one PagerDuty alert per war-room incident."""
    return f"{config.dedup_prefix}/incident/{incident_id}"


def event_source(config: PagerDutyConfig, incident: Incident) -> str:
    """`payload.source`: the affected service (the incident's first), else the configured source."""
    return incident.services[0] if incident.services else config.source


def trigger_event(
    config: PagerDutyConfig,
    incident: Incident,
    *,
    call_link: str | None = None,
    escalated_from: Severity | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The Events API v2 body that opens the page, or re-triggers it after an escalation.

    Args:
        config: Routing key, source and links.
        incident: The incident as it is now (its severity is the one paged).
        call_link: The war-room call, sent as a link.
        escalated_from: The severity before an escalation of an incident already paged. The
            summary then starts with "escalated to SEV1 from SEV2", since PagerDuty shows this
            trigger only as a log entry of the open alert.
        at: When the event happened (`payload.timestamp`); the declaration time by default.
    """
    label = incident.severity.label
    if escalated_from is not None:
        summary = (
            f"[{label}] #{incident.id} escalated to {label} from {escalated_from.label}: "
            f"{incident.title}"
        )
    else:
        summary = f"[{label}] #{incident.id} {incident.title}"
    details: dict[str, Any] = {
        "incident_id": incident.id,
        "severity": incident.severity.label,
        "phase": incident.phase.value,
        "channel": incident.channel,
        "declared_by": incident.declared_by,
    }
    if escalated_from is not None:
        details["escalated_from"] = escalated_from.label
    if incident.services:
        details["services"] = list(incident.services)
    if incident.summary:
        details["summary"] = incident.summary
    if call_link:
        details["call_link"] = call_link
    event: dict[str, Any] = {
        "routing_key": config.routing_key.get_secret_value(),
        "event_action": "trigger",
        "dedup_key": dedup_key(config, incident.id),
        "payload": {
            "summary": summary[:MAX_SUMMARY],
            "source": event_source(config, incident),
            "severity": PAGERDUTY_SEVERITY[incident.severity],
            "timestamp": (at or incident.declared_at).isoformat(),
            "custom_details": details,
        },
        "client": "warroom",
    }
    if config.console_url is not None:
        event["client_url"] = str(config.console_url)
    if call_link:
        # Links show as clickable on the PagerDuty alert, where custom_details are plain text.
        event["links"] = [{"href": call_link, "text": "Join the war-room call"}]
    return event


def acknowledge_event(config: PagerDutyConfig, incident_id: int) -> dict[str, Any]:
    """The Events API v2 body that acknowledges the page: someone is working the incident, so
    PagerDuty stops escalating it to the next on-call level."""
    return _follow_up(config, incident_id, "acknowledge")


def resolve_event(config: PagerDutyConfig, incident_id: int) -> dict[str, Any]:
    """The Events API v2 body that resolves the page opened for `incident_id`."""
    return _follow_up(config, incident_id, "resolve")


def _follow_up(config: PagerDutyConfig, incident_id: int, action: str) -> dict[str, Any]:
    # Acknowledge and resolve carry no payload: the dedup key names the alert they apply to.
    return {
        "routing_key": config.routing_key.get_secret_value(),
        "event_action": action,
        "dedup_key": dedup_key(config, incident_id),
    }


class PagerDutyNotifier:
    """Sends trigger, acknowledge and resolve events for war-room incidents."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        config: PagerDutyConfig,
        *,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._client = client
        self._config = config
        self._sleep = sleep

    async def trigger(
        self,
        incident: Incident,
        *,
        call_link: str | None = None,
        escalated_from: Severity | None = None,
        at: datetime | None = None,
    ) -> DeliveryOutcome:
        """Page the on-call rotation for `incident`, or re-trigger it after an escalation
        (see `trigger_event`)."""
        body = trigger_event(
            self._config, incident, call_link=call_link, escalated_from=escalated_from, at=at
        )
        return await self._send(f"pagerduty trigger #{incident.id}", body)

    async def acknowledge(self, incident_id: int) -> DeliveryOutcome:
        """Acknowledge the page for `incident_id`."""
        return await self._send(
            f"pagerduty acknowledge #{incident_id}", acknowledge_event(self._config, incident_id)
        )

    async def resolve(self, incident_id: int) -> DeliveryOutcome:
        """Resolve the page for `incident_id`."""
        return await self._send(
            f"pagerduty resolve #{incident_id}", resolve_event(self._config, incident_id)
        )

    async def _send(self, target: str, body: dict[str, Any]) -> DeliveryOutcome:
        url = str(self._config.events_url)
        body = clean_json(body)

        async def attempt() -> httpx.Response:
            return await self._client.post(url, json=body, timeout=self._config.timeout)

        return await send_with_retry(target, attempt, self._config.retry, sleep=self._sleep)
