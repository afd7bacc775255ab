"""Pages the on-call rotation through the PagerDuty Events API v2: trigger and resolve."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr

from warroom.domain.incident import Incident
from warroom.domain.severity import Severity
from warroom.notify.retry import DeliveryOutcome, RetryPolicy, Sleep, send_with_retry

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


class PagerDutyConfig(BaseModel):
    """Where and how to send PagerDuty events."""

    # Validation errors would otherwise quote the routing key back into logs.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    routing_key: SecretStr = Field(min_length=1)
    """The Events API v2 integration key of the service to page; kept out of reprs and logs."""
    events_url: HttpUrl = HttpUrl(DEFAULT_EVENTS_URL)
    """The enqueue endpoint; a different one only for EU accounts, proxies or tests."""
    source: str = Field(default="warroom", min_length=1)
    """`payload.source`: which system raised the alert."""
    dedup_prefix: str = Field(default="warroom", min_length=1, max_length=64)
    """Starts every dedup key, so two war rooms sharing a routing key never merge incidents."""
    console_url: HttpUrl | None = None
    """Link back to this war room, sent as the event's `client_url` when set."""
    timeout: float = Field(default=10.0, gt=0)
    """Seconds one attempt may take before it counts as failed and is retried."""
    retry: RetryPolicy = RetryPolicy()


def dedup_key(config: PagerDutyConfig, incident_id: int) -> str:
    """The key that ties a trigger to its resolve: one PagerDuty alert per war-room incident."""
    return f"{config.dedup_prefix}/incident/{incident_id}"


def trigger_event(
    config: PagerDutyConfig, incident: Incident, *, call_link: str | None = None
) -> dict[str, Any]:
    """The Events API v2 body that opens (or, with the same dedup key, updates) the page."""
    summary = f"[{incident.severity.label}] #{incident.id} {incident.title}"
    details: dict[str, Any] = {
        "incident_id": incident.id,
        "severity": incident.severity.label,
        "phase": incident.phase.value,
        "channel": incident.channel,
        "declared_by": incident.declared_by,
    }
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
            "source": config.source,
            "severity": PAGERDUTY_SEVERITY[incident.severity],
            "timestamp": incident.declared_at.isoformat(),
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


def resolve_event(config: PagerDutyConfig, incident_id: int) -> dict[str, Any]:
    """The Events API v2 body that resolves the page opened for `incident_id`."""
    return {
        "routing_key": config.routing_key.get_secret_value(),
        "event_action": "resolve",
        "dedup_key": dedup_key(config, incident_id),
    }


class PagerDutyNotifier:
    """Sends trigger and resolve events for war-room incidents."""

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

    async def trigger(self, incident: Incident, *, call_link: str | None = None) -> DeliveryOutcome:
        """Page the on-call rotation for `incident`."""
        body = trigger_event(self._config, incident, call_link=call_link)
        return await self._send(f"pagerduty trigger #{incident.id}", body)

    async def resolve(self, incident_id: int) -> DeliveryOutcome:
        """Resolve the page for `incident_id`."""
        return await self._send(
            f"pagerduty resolve #{incident_id}", resolve_event(self._config, incident_id)
        )

    async def _send(self, target: str, body: dict[str, Any]) -> DeliveryOutcome:
        url = str(self._config.events_url)

        async def attempt() -> httpx.Response:
            return await self._client.post(url, json=body, timeout=self._config.timeout)

        return await send_with_retry(target, attempt, self._config.retry, sleep=self._sleep)
