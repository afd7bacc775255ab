"""The server's configuration file (TOML): integrations, cadences and link templates.

Every section is optional; a server with no config file runs the war room alone. See
`server/warroom.example.toml` for a complete example.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from warroom.domain.links import ServiceLinks
from warroom.domain.severity import Severity
from warroom.domain.update_clock import UpdateCadence
from warroom.monitoring.alertmanager import DEFAULT_SEVERITY_MAP
from warroom.monitoring.signals import MetricsConfig
from warroom.notify.pagerduty import PagerDutyConfig
from warroom.notify.slack import SlackConfig
from warroom.notify.statuspage import StatuspageConfig


class ConfigError(Exception):
    """The configuration file cannot be used; the message says where and why."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AlertmanagerSettings(_Section):
    """Where alerts come from: Alertmanager's API v2, alerts routed to one receiver."""

    url: str
    receiver: str = "warroom"
    poll_seconds: float = Field(default=10.0, gt=0)
    severity_map: dict[str, Severity] = Field(default_factory=lambda: dict(DEFAULT_SEVERITY_MAP))
    """Alert `severity` label value -> proposed SEV, e.g. `critical = 1`."""


class PrometheusSettings(_Section):
    url: str
    poll_seconds: float = Field(default=15.0, gt=0)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    """PromQL templates per signal (`{service}`, `{window}`) and their thresholds."""


class StatusPageSettings(_Section):
    folder: Path | None = None
    """Also write the public page (index.html, status.json) here after every publication."""


class ServerConfig(_Section):
    """Everything `warroom serve --config FILE` reads."""

    call_link: str | None = None
    """War-room call URL template, sent with pages; placeholders {incident_id}, {channel}."""
    updates: UpdateCadence = UpdateCadence()
    pagerduty: PagerDutyConfig | None = None
    """SEV1 and SEV2 page the on-call rotation through the Events API v2."""
    slack_incidents: SlackConfig | None = None
    """The `#incidents` channel's incoming webhook: internal status updates go here."""
    slack_team: SlackConfig | None = None
    """The owning team's channel: SEV3 incidents are announced here instead of paging."""
    status_page: StatusPageSettings = StatusPageSettings()
    statuspage: StatuspageConfig | None = None
    """An Atlassian Statuspage-compatible API that approved public updates are also sent to."""
    alertmanager: AlertmanagerSettings | None = None
    prometheus: PrometheusSettings | None = None
    links: dict[str, ServiceLinks] = Field(default_factory=dict)
    """Per service; the key `default` applies to services without their own entry."""

    def call_link_for(self, incident_id: int, channel: str) -> str | None:
        if self.call_link is None:
            return None
        return self.call_link.format(incident_id=incident_id, channel=channel.lstrip("#"))


def load_config(path: Path | None) -> ServerConfig:
    """Read and validate a config file; no path means defaults.

    Raises:
        ConfigError: unreadable, not TOML, or not valid; the message names the field.
    """
    if path is None:
        return ServerConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    try:
        return ServerConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False)
        )
        raise ConfigError(f"{path}: {problems}") from None
