"""Async client for Alertmanager's v2 API: typed alert groups and a proposed severity."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from warroom.domain.severity import Severity
from warroom.monitoring._http import (
    FetchErrorKind,
    MonitoringClient,
    MonitoringError,
    decode_json,
    fetch,
    http_error,
)

__all__ = [
    "DEFAULT_RECEIVER",
    "DEFAULT_SEVERITY_MAP",
    "Alert",
    "AlertGroup",
    "AlertState",
    "AlertStatus",
    "AlertmanagerClient",
    "AlertmanagerError",
    "FetchErrorKind",
    "Receiver",
    "propose_severity",
    "propose_severity_for_alerts",
]

DEFAULT_RECEIVER = "warroom"
"""The Alertmanager receiver whose alerts the war room shows unless configured otherwise."""

DEFAULT_SEVERITY_MAP: Mapping[str, Severity] = {
    "critical": Severity.SEV1,
    "major": Severity.SEV2,
    "error": Severity.SEV2,
    "warning": Severity.SEV3,
    "minor": Severity.SEV3,
}
"""Common `severity` label values to the plan's levels; keys are lower case."""


class AlertmanagerError(MonitoringError):
    """Alertmanager could not be reached, refused the request, or answered nonsense."""


class AlertState(StrEnum):
    """Alertmanager's view of one alert."""

    UNPROCESSED = "unprocessed"
    """Received but not yet routed."""
    ACTIVE = "active"
    SUPPRESSED = "suppressed"
    """Silenced or inhibited; see `AlertStatus.silenced_by` / `inhibited_by`."""


_WIRE = ConfigDict(frozen=True, validate_by_name=True, validate_by_alias=True)


class AlertStatus(BaseModel):
    """Whether an alert is active or suppressed, and by what."""

    model_config = _WIRE

    state: AlertState
    silenced_by: list[str] = Field(default=[], alias="silencedBy")
    inhibited_by: list[str] = Field(default=[], alias="inhibitedBy")


class Receiver(BaseModel):
    """A named Alertmanager receiver."""

    model_config = _WIRE

    name: str


class Alert(BaseModel):
    """One alert as Alertmanager holds it (a `gettableAlert`)."""

    model_config = _WIRE

    fingerprint: str
    """Stable identity of the label set; use it to de-duplicate across polls."""
    labels: dict[str, str]
    annotations: dict[str, str] = {}
    starts_at: datetime = Field(alias="startsAt")
    ends_at: datetime = Field(alias="endsAt")
    """For a firing alert, when Alertmanager will resolve it unless the source re-sends it."""
    updated_at: datetime | None = Field(default=None, alias="updatedAt")
    status: AlertStatus
    receivers: list[Receiver] = []
    generator_url: str | None = Field(default=None, alias="generatorURL")
    """Link back to the rule's expression in Prometheus."""

    @property
    def name(self) -> str:
        """The `alertname` label, the rule's name."""
        return self.labels.get("alertname", "")

    @property
    def summary(self) -> str | None:
        """The `summary` annotation, by convention a one-line headline."""
        return self.annotations.get("summary")

    @property
    def description(self) -> str | None:
        """The `description` annotation, by convention the longer explanation."""
        return self.annotations.get("description")

    @property
    def runbook_url(self) -> str | None:
        """The `runbook_url` annotation, the first thing a responder opens."""
        return self.annotations.get("runbook_url")

    @property
    def receiver_names(self) -> list[str]:
        """Names of the receivers this alert routes to."""
        return [receiver.name for receiver in self.receivers]


class AlertGroup(BaseModel):
    """Alerts that one route groups together for one receiver."""

    model_config = _WIRE

    labels: dict[str, str]
    """The values of the route's `group_by` labels shared by every alert in the group."""
    receiver: Receiver
    alerts: list[Alert]


_GROUPS = TypeAdapter(list[AlertGroup])


class AlertmanagerClient(MonitoringClient):
    """Reads alerts from one Alertmanager, e.g. `AlertmanagerClient("http://alertmanager:9093")`."""

    async def alert_groups(
        self,
        receiver: str | None = DEFAULT_RECEIVER,
        *,
        active: bool = True,
        silenced: bool = False,
        inhibited: bool = False,
        matchers: Sequence[str] = (),
    ) -> list[AlertGroup]:
        """The current alert groups for `receiver` (all receivers when None).

        Resolved alerts are never listed: Alertmanager drops an alert from this view as soon as
        its `endsAt` has passed. Silenced and inhibited alerts are left out by default because
        someone has already decided they need no response.

        Args:
            receiver: exact receiver name to filter on.
            active: include alerts in the active state.
            silenced: include silenced alerts.
            inhibited: include inhibited alerts.
            matchers: label matchers such as `service="checkout"` or `severity=~"crit.*"`.

        Raises:
            AlertmanagerError: on any failure, including a malformed matcher.
        """
        params: dict[str, str | list[str]] = {
            "active": _flag(active),
            "silenced": _flag(silenced),
            "inhibited": _flag(inhibited),
        }
        if receiver is not None:
            # Alertmanager reads this parameter as an anchored regular expression; escaping
            # keeps a name like "team.a" from also matching "teamXa". Go's RE2 accepts Python's
            # escapes because both treat an escaped punctuation character as itself.
            params["receiver"] = re.escape(receiver)
        if matchers:
            params["filter"] = list(matchers)
        response = await fetch(
            self._http,
            self._base_url + "/api/v2/alerts/groups",
            params=params,
            timeout_seconds=self.timeout,
            error=AlertmanagerError,
        )
        if not response.is_success:
            raise _rejection(response)
        body = decode_json(response, AlertmanagerError)
        try:
            return _GROUPS.validate_python(body)
        except ValidationError as exc:
            raise AlertmanagerError(
                FetchErrorKind.RESPONSE, f"unexpected alert group shape: {exc}"
            ) from exc


def propose_severity(
    labels: Mapping[str, str],
    mapping: Mapping[str, Severity] = DEFAULT_SEVERITY_MAP,
    *,
    label: str = "severity",
    default: Severity = Severity.SEV3,
) -> Severity:
    """The severity an alert suggests, for the on-call engineer to confirm during triage.

    Args:
        labels: the alert's labels.
        mapping: lower-case label values to severities.
        label: which label carries the alert's own severity.
        default: for a missing or unknown value; SEV3 because an unknown alert still deserves a
            look during business hours but should not page anyone by itself.
    """
    value = labels.get(label)
    if value is None:
        return default
    return mapping.get(value.strip().lower(), default)


def propose_severity_for_alerts(
    alerts: Iterable[Alert],
    mapping: Mapping[str, Severity] = DEFAULT_SEVERITY_MAP,
    *,
    label: str = "severity",
    default: Severity = Severity.SEV3,
) -> Severity:
    """The worst severity any of `alerts` suggests (`default` for none), e.g. for a group."""
    proposals = [propose_severity(a.labels, mapping, label=label, default=default) for a in alerts]
    # A lower number is worse, so the worst proposal is the minimum.
    return min(proposals, default=default)


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _rejection(response: httpx.Response) -> AlertmanagerError:
    # The v2 API explains a rejected request (e.g. a bad matcher) as a bare JSON string.
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, str) and body:
        kind = FetchErrorKind.QUERY if response.status_code == 400 else FetchErrorKind.HTTP
        return AlertmanagerError(kind, body, status_code=response.status_code)
    return http_error(response, AlertmanagerError)
