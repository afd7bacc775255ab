"""Publishes IC-approved public updates to an Atlassian Statuspage-compatible API."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr

from warroom.domain.communications import DraftStatus, ExternalUpdate, PublicState
from warroom.domain.severity import Severity
from warroom.notify.retry import DeliveryOutcome, RetryPolicy, Sleep, send_with_retry
from warroom.notify.sanitize import clean_json

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.statuspage.io/v1"

STATUSPAGE_STATUS: dict[PublicState, str] = {
    PublicState.INVESTIGATING: "investigating",
    PublicState.IDENTIFIED: "identified",
    PublicState.MONITORING: "monitoring",
    PublicState.RESOLVED: "resolved",
}
"""Statuspage incident `status` for each public state; the vocabularies match one to one."""


class StatuspageConfig(BaseModel):
    """Which Statuspage page to publish to, and how warroom's components map onto it."""

    # Validation errors would otherwise quote the API key back into logs.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    api_url: HttpUrl = HttpUrl(DEFAULT_API_URL)
    """The API root; a different one only for a compatible self-hosted service, proxies or tests."""
    page_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    """The page's id. Restricted to id characters because it becomes part of the URL path."""
    api_key: SecretStr = Field(min_length=1)
    """The Statuspage API key, sent as `Authorization: OAuth <key>`; kept out of reprs and logs."""
    component_ids: dict[str, str] = {}
    """warroom component name -> Statuspage component id. Components not listed here are left
    out of what is sent, as the remote page has nothing to show them on."""
    timeout: float = Field(default=10.0, gt=0)
    """Seconds one attempt may take before it counts as failed and is retried."""
    retry: RetryPolicy = RetryPolicy()


def component_status(state: PublicState, severity: Severity | None) -> str:
    """The Statuspage component status for components an update names as affected.

    A resolved update gives them back as `operational`; otherwise SEV1 is a `major_outage` and
    anything else (or an unknown severity) `degraded_performance`, the rule warroom's own page uses.
    """
    if state is PublicState.RESOLVED:
        return "operational"
    if severity is Severity.SEV1:
        return "major_outage"
    return "degraded_performance"


def incident_body(
    config: StatuspageConfig,
    update: ExternalUpdate,
    *,
    severity: Severity | None = None,
    creating: bool,
) -> dict[str, Any]:
    """The JSON body that creates (`creating`) or updates a Statuspage incident from `update`."""
    incident: dict[str, Any] = {
        "name": update.title,
        "status": STATUSPAGE_STATUS[update.state],
        "body": update.text,
    }
    ids = [config.component_ids[c] for c in update.components if c in config.component_ids]
    ids = list(dict.fromkeys(ids))  # two warroom names may share one remote component
    # An update that names no mapped component leaves the remote components as they are; a new
    # incident states its (possibly empty) list explicitly.
    if ids or creating:
        status = component_status(update.state, severity)
        incident["component_ids"] = ids
        incident["components"] = dict.fromkeys(ids, status)
    return {"incident": incident}


class StatuspageNotifier:
    """Creates and updates incidents on one Statuspage page."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        config: StatuspageConfig,
        *,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._client = client
        self._config = config
        self._sleep = sleep

    async def publish(
        self,
        update: ExternalUpdate,
        known_remote_id: str | None,
        *,
        severity: Severity | None = None,
    ) -> tuple[DeliveryOutcome, str | None]:
        """Publish one approved update: create the remote incident, or update the one given.

        HTTP failures never raise; they come back in the outcome after the retries.

        Args:
            update: The update to publish. Anything not approved is refused without a request.
            known_remote_id: The Statuspage incident id returned by an earlier publication of
                the same war-room incident, or None for its first publication.
            severity: The incident's severity, which decides how badly affected components are
                shown (SEV1 `major_outage`, others `degraded_performance`).

        Returns:
            The delivery outcome and the remote incident id to pass next time (None when the
            incident could not be created).
        """
        # An empty id is as good as none: there is nothing to update, so create.
        remote = known_remote_id or None
        action = "create" if remote is None else "update"
        target = f"statuspage {action} (public update #{update.id})"
        if update.status is not DraftStatus.APPROVED:
            # The last line of the rule that nothing leaves without the IC's approval.
            outcome = DeliveryOutcome(
                target=target, ok=False, attempts=0, error=f"update is {update.status.value}"
            )
            return outcome, remote
        base = f"{str(self._config.api_url).rstrip('/')}/pages/{self._config.page_id}/incidents"
        # Cleaned at the edge: the page shows what the IC approved, not hidden control codes.
        body = clean_json(
            incident_body(self._config, update, severity=severity, creating=remote is None)
        )
        if remote is None:
            method, url = "POST", base
        else:
            # The id came from a response; quoting keeps it to one path segment whatever it holds.
            method, url = "PATCH", f"{base}/{quote(remote, safe='')}"
        headers = {"Authorization": f"OAuth {self._config.api_key.get_secret_value()}"}
        responses: list[httpx.Response] = []

        async def attempt() -> httpx.Response:
            response = await self._client.request(
                method, url, json=body, headers=headers, timeout=self._config.timeout
            )
            responses.append(response)
            return response

        # A POST retried after a timeout may create a second incident if the first one did land;
        # the API has no idempotency key, and a duplicate is better than an unpublished update.
        outcome = await send_with_retry(target, attempt, self._config.retry, sleep=self._sleep)
        if not outcome.ok:
            return outcome, remote
        if remote is not None:
            return outcome, _incident_id(responses[-1]) or remote
        created = _incident_id(responses[-1])
        if created is None:
            # Without the id the next update would open a second incident, so this is a failure
            # the timeline must show even though the incident was probably created.
            log.warning("%s: response carried no incident id", target)
            failed = outcome.model_copy(
                update={"ok": False, "error": "created, but the response carried no incident id"}
            )
            return failed, None
        return outcome, created


def _incident_id(response: httpx.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    remote_id = data.get("id") if isinstance(data, dict) else None
    return remote_id if isinstance(remote_id, str) and remote_id else None
