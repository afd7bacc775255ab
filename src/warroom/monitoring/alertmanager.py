"""Alertmanager for the war room: an async client for its v2 API (alert groups, its start time),
the webhook notification it pushes (version 4, parsed and bounded), and a proposed severity."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

import httpx
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)

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
    "WebhookAlert",
    "WebhookError",
    "WebhookMessage",
    "parse_webhook",
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
    starts_at: AwareDatetime = Field(alias="startsAt")
    ends_at: AwareDatetime = Field(alias="endsAt")
    """For a firing alert, when Alertmanager will resolve it unless the source re-sends it."""
    updated_at: AwareDatetime | None = Field(default=None, alias="updatedAt")
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


class _Status(BaseModel):
    """The part of `GET /api/v2/status` the war room reads."""

    uptime: AwareDatetime
    """When this Alertmanager process started (the API names the start time `uptime`)."""


# --- the webhook Alertmanager pushes ------------------------------------------------------------

MAX_WEBHOOK_ALERTS = 1_000
"""Alerts in one notification; Alertmanager's own `max_alerts` truncates long before this."""
MAX_LABELS = 64
MAX_LABEL_NAME = 256
MAX_LABEL_VALUE = 4_096
MAX_ANNOTATION = 16_384

_LabelName = Annotated[str, Field(min_length=1, max_length=MAX_LABEL_NAME)]
_Labels = Annotated[
    dict[_LabelName, Annotated[str, Field(max_length=MAX_LABEL_VALUE)]],
    Field(max_length=MAX_LABELS),
]
_Annotations = Annotated[
    dict[_LabelName, Annotated[str, Field(max_length=MAX_ANNOTATION)]],
    Field(max_length=MAX_LABELS),
]
_Short = Annotated[str, Field(max_length=MAX_LABEL_VALUE)]


class WebhookError(ValueError):
    """A webhook body that is not Alertmanager's notification (version 4); nothing was read."""


class WebhookAlert(BaseModel):
    """One alert of a webhook notification, firing or resolved."""

    model_config = ConfigDict(frozen=True, validate_by_name=True, validate_by_alias=True)

    status: Literal["firing", "resolved"]
    labels: _Labels
    annotations: _Annotations = {}
    # Strict: Alertmanager sends RFC 3339 text; a number would otherwise be read as seconds
    # since 1970 and a wrongly typed body taken as an alert that started then.
    starts_at: AwareDatetime = Field(alias="startsAt", strict=True)
    ends_at: AwareDatetime = Field(alias="endsAt", strict=True)
    """When it resolved; Alertmanager sends the zero time (year 1) for a firing alert."""
    generator_url: _Short = Field(default="", alias="generatorURL")
    fingerprint: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")]

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")


class WebhookMessage(BaseModel):
    """Alertmanager's webhook notification, version 4: one group's alerts at one moment.

    See https://prometheus.io/docs/alerting/latest/configuration/#webhook_config. Fields the
    war room does not read are ignored, so newer Alertmanagers with more fields still deliver.
    """

    model_config = ConfigDict(frozen=True, validate_by_name=True, validate_by_alias=True)

    version: Literal["4"]
    group_key: _Short = Field(alias="groupKey")
    truncated_alerts: int = Field(default=0, ge=0, alias="truncatedAlerts")
    status: Literal["firing", "resolved"]
    receiver: _Short
    group_labels: _Labels = Field(default={}, alias="groupLabels")
    external_url: _Short = Field(default="", alias="externalURL")
    alerts: Annotated[list[WebhookAlert], Field(max_length=MAX_WEBHOOK_ALERTS)]


def parse_webhook(body: bytes) -> WebhookMessage:
    """The notification in `body` (JSON).

    Raises:
        WebhookError: not JSON, not version 4, or outside the bounds above; the message names
            the first problems and never echoes the body back.
    """
    try:
        return WebhookMessage.model_validate_json(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'body'}: {error['msg']}"
            for error in exc.errors(include_input=False)[:3]
        )
        # Label names in the locations are the sender's text: escaped, so they stay one line.
        shown = problems.encode("unicode_escape").decode("ascii")[:500]
        raise WebhookError(
            f"not an Alertmanager webhook notification (version 4): {shown}"
        ) from None


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

    async def started_at(self) -> datetime:
        """When the Alertmanager process started: a later time than before means it restarted
        (and lost the alerts it held in memory until their sources send them again).

        Raises:
            AlertmanagerError: on any failure.
        """
        response = await fetch(
            self._http,
            self._base_url + "/api/v2/status",
            params={},
            timeout_seconds=self.timeout,
            error=AlertmanagerError,
        )
        if not response.is_success:
            raise _rejection(response)
        body = decode_json(response, AlertmanagerError)
        try:
            return _Status.model_validate(body).uptime
        except ValidationError as exc:
            raise AlertmanagerError(
                FetchErrorKind.RESPONSE, f"unexpected status shape: {exc}"
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
