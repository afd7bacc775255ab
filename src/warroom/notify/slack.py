"""Posts incident messages to Slack incoming webhooks, with user text escaped for mrkdwn.

The lifecycle messages (declared, severity changed, IC handed over, resolved) are built here;
which of them goes where is the integrations' decision.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from warroom.domain.incident import Incident
from warroom.domain.severity import Severity
from warroom.notify.retry import DeliveryOutcome, RetryPolicy, Sleep, send_with_retry
from warroom.notify.sanitize import clean_json

MAX_SECTION_TEXT = 3000
"""Slack refuses a section block whose text is longer than this (`invalid_blocks`)."""


class SlackConfig(BaseModel):
    """Which incoming webhook to post to, by default and for messages about a given service."""

    # Validation errors would otherwise quote the webhook URL back into logs.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    webhook_url: SecretStr
    """The incoming-webhook URL. Its path is the credential, so it stays out of reprs and logs."""
    service_webhooks: dict[str, SecretStr] = Field(default_factory=dict)
    """Service name -> the incoming webhook of the team that owns it. A message about an incident
    goes to the webhook of its first service listed here, and to `webhook_url` otherwise; this is
    how `[slack_team]` reaches the owning team rather than one channel for every team."""
    timeout: float = Field(default=10.0, gt=0)
    """Seconds one attempt may take before it counts as failed and is retried."""
    retry: RetryPolicy = RetryPolicy()

    @field_validator("webhook_url")
    @classmethod
    def _is_http_url(cls, value: SecretStr) -> SecretStr:
        _check_webhook(value)
        return value

    @field_validator("service_webhooks")
    @classmethod
    def _are_http_urls(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for service, url in value.items():
            try:
                _check_webhook(url)
            except ValueError as exc:
                raise ValueError(f"{service!r}: {exc}") from None
        return value

    def webhook_for(self, services: Sequence[str] = ()) -> SecretStr:
        """The webhook for a message about an incident touching `services` (in their order)."""
        for service in services:
            if service in self.service_webhooks:
                return self.service_webhooks[service]
        return self.webhook_url


def _check_webhook(value: SecretStr) -> None:
    try:
        url = httpx.URL(value.get_secret_value())
    except httpx.InvalidURL:
        url = httpx.URL()
    if url.scheme not in {"http", "https"} or not url.host:
        # Say what is wrong without echoing the secret back into an error message.
        raise ValueError("must be an http(s) URL")


def escape_mrkdwn(text: str) -> str:
    """Escape Slack's control characters so user text shows as typed.

    Slack parses `&`, `<` and `>` itself: unescaped, a title like `<!channel>` would notify the
    whole channel and `<https://evil|docs>` would become a disguised link.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(text: str, blocks: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """A webhook body. `text` is mrkdwn the caller has already escaped; with blocks it is the
    fallback shown in notifications."""
    message: dict[str, Any] = {"text": text}
    if blocks is not None:
        message["blocks"] = [dict(block) for block in blocks]
    return message


def _section(mrkdwn: str) -> dict[str, Any]:
    if len(mrkdwn) > MAX_SECTION_TEXT:
        mrkdwn = mrkdwn[: MAX_SECTION_TEXT - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def _link(url: str, label: str) -> str:
    # `|` would end the URL part of `<url|label>` early; percent-encoding keeps the link intact.
    return f"<{escape_mrkdwn(url).replace('|', '%7C')}|{label}>"


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _context(parts: Sequence[str]) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": " | ".join(parts)}]}


def incident_declared_message(
    incident: Incident, *, ic: str | None = None, call_link: str | None = None
) -> dict[str, Any]:
    """The message announcing a newly declared incident: SEV, title, IC and channel.

    Args:
        incident: The incident as declared.
        ic: Its Incident Commander; the declarer, who holds the role until a handoff, when None.
        call_link: The war-room call, offered as a link.
    """
    headline = (
        f"*{incident.severity.label} declared:* {escape_mrkdwn(incident.title)} (#{incident.id})"
    )
    lines = [headline]
    if incident.summary:
        lines.append(escape_mrkdwn(incident.summary))
    context = [
        f"Channel: {escape_mrkdwn(incident.channel)}",
        f"IC: {escape_mrkdwn(ic or incident.declared_by)}",
        f"Declared by: {escape_mrkdwn(incident.declared_by)}",
    ]
    if incident.services:
        context.append(f"Services: {escape_mrkdwn(', '.join(incident.services))}")
    if call_link:
        context.append(_link(call_link, "Join the war-room call"))
    return slack_message(headline, [_section("\n".join(lines)), _context(context)])


def severity_changed_message(
    incident: Incident, previous: Severity, *, by: str, reason: str = ""
) -> dict[str, Any]:
    """The message saying an incident was escalated or downgraded, by whom and why."""
    verb = "escalated" if incident.severity < previous else "downgraded"
    headline = (
        f"*#{incident.id} {verb} to {incident.severity.label}* (from {previous.label}): "
        f"{escape_mrkdwn(incident.title)}"
    )
    lines = [headline]
    if reason:
        lines.append(f"Reason: {escape_mrkdwn(reason)}")
    context = [f"Channel: {escape_mrkdwn(incident.channel)}", f"By: {escape_mrkdwn(by)}"]
    return slack_message(headline, [_section("\n".join(lines)), _context(context)])


def ic_handoff_message(incident: Incident, *, new_ic: str, previous_ic: str) -> dict[str, Any]:
    """The message saying who commands the incident now."""
    headline = (
        f"*#{incident.id} new Incident Commander:* {escape_mrkdwn(new_ic)} took over from "
        f"{escape_mrkdwn(previous_ic)} ({incident.severity.label}, "
        f"{escape_mrkdwn(incident.title)})"
    )
    return slack_message(
        headline,
        [_section(headline), _context([f"Channel: {escape_mrkdwn(incident.channel)}"])],
    )


def incident_resolved_message(incident: Incident) -> dict[str, Any]:
    """The message announcing that an incident's user-facing impact is gone, with the time the
    post-mortem is due by when the incident carries one."""
    text = (
        f"*Resolved:* {escape_mrkdwn(incident.title)} (#{incident.id}, {incident.severity.label})"
    )
    blocks = [_section(text)]
    if incident.postmortem_due is not None:
        blocks.append(
            _context(
                [
                    f"Channel: {escape_mrkdwn(incident.channel)}",
                    f"Post-mortem due by {_when(incident.postmortem_due)}",
                ]
            )
        )
    return slack_message(text, blocks)


class SlackNotifier:
    """Posts messages to one incoming webhook."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        config: SlackConfig,
        *,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._client = client
        self._config = config
        self._sleep = sleep

    def has_own_webhook(self, service: str) -> bool:
        """Whether messages about `service` go to a webhook of their own (its owning team's)."""
        return service in self._config.service_webhooks

    async def post(
        self,
        message: Mapping[str, Any],
        *,
        target: str = "slack",
        services: Sequence[str] = (),
    ) -> DeliveryOutcome:
        """Post one webhook body, as built by `slack_message` or the incident message helpers.

        Args:
            message: The body; its text must already be escaped for mrkdwn. Control characters
                are removed here, at the edge, whoever built it.
            target: Names the delivery in the outcome and the log.
            services: The incident's services, which choose the webhook (see `SlackConfig`).
        """
        url = self._config.webhook_for(services).get_secret_value()
        body = clean_json(dict(message))

        async def attempt() -> httpx.Response:
            return await self._client.post(url, json=body, timeout=self._config.timeout)

        return await send_with_retry(target, attempt, self._config.retry, sleep=self._sleep)
