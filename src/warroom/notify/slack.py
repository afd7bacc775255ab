"""Posts incident messages to a Slack incoming webhook, with user text escaped for mrkdwn."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from warroom.domain.incident import Incident
from warroom.notify.retry import DeliveryOutcome, RetryPolicy, Sleep, send_with_retry

MAX_SECTION_TEXT = 3000
"""Slack refuses a section block whose text is longer than this (`invalid_blocks`)."""


class SlackConfig(BaseModel):
    """Which incoming webhook to post to."""

    # Validation errors would otherwise quote the webhook URL back into logs.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    webhook_url: SecretStr
    """The incoming-webhook URL. Its path is the credential, so it stays out of reprs and logs."""
    timeout: float = Field(default=10.0, gt=0)
    """Seconds one attempt may take before it counts as failed and is retried."""
    retry: RetryPolicy = RetryPolicy()

    @field_validator("webhook_url")
    @classmethod
    def _is_http_url(cls, value: SecretStr) -> SecretStr:
        url = httpx.URL(value.get_secret_value())
        if url.scheme not in {"http", "https"} or not url.host:
            # Say what is wrong without echoing the secret back into an error message.
            raise ValueError("must be an http(s) URL")
        return value


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


def incident_declared_message(
    incident: Incident, *, call_link: str | None = None
) -> dict[str, Any]:
    """The message announcing a newly declared incident."""
    headline = (
        f"*{incident.severity.label} declared:* {escape_mrkdwn(incident.title)} (#{incident.id})"
    )
    lines = [headline]
    if incident.summary:
        lines.append(escape_mrkdwn(incident.summary))
    context = [
        f"Channel: {escape_mrkdwn(incident.channel)}",
        f"Declared by: {escape_mrkdwn(incident.declared_by)}",
    ]
    if call_link:
        context.append(_link(call_link, "Join the war-room call"))
    blocks = [
        _section("\n".join(lines)),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": " | ".join(context)}]},
    ]
    return slack_message(headline, blocks)


def incident_resolved_message(incident: Incident) -> dict[str, Any]:
    """The message announcing that an incident's user-facing impact is gone."""
    text = (
        f"*Resolved:* {escape_mrkdwn(incident.title)} (#{incident.id}, {incident.severity.label})"
    )
    return slack_message(text, [_section(text)])


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

    async def post(self, message: Mapping[str, Any], *, target: str = "slack") -> DeliveryOutcome:
        """Post one webhook body, as built by `slack_message` or the incident message helpers."""
        url = self._config.webhook_url.get_secret_value()
        body = dict(message)

        async def attempt() -> httpx.Response:
            return await self._client.post(url, json=body, timeout=self._config.timeout)

        return await send_with_retry(target, attempt, self._config.retry, sleep=self._sleep)
