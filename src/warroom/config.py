"""The server's configuration file (TOML): integrations, cadences and link templates.

Every section is optional; a server with no config file runs the war room alone. See
`server/warroom.example.toml` for a complete example. Any key can also be set (or overridden)
by a `WARROOM_*` environment variable, e.g. `WARROOM_PAGERDUTY__ROUTING_KEY` for a secret kept
out of the file; see `warroom.settings`. Mistakes, including malformed URLs, stop the server at
start with one line per problem.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    SecretStr,
    field_validator,
    model_validator,
)

from warroom.domain.links import ServiceLinks
from warroom.domain.severity import Severity
from warroom.domain.update_clock import UpdateCadence
from warroom.monitoring.alertmanager import DEFAULT_SEVERITY_MAP
from warroom.monitoring.signals import MetricsConfig
from warroom.notify.pagerduty import PagerDutyConfig
from warroom.notify.slack import SlackConfig
from warroom.notify.statuspage import StatuspageConfig
from warroom.server.limits import ServerLimits
from warroom.settings import ConfigError, HttpUrlStr, WarroomSettings, check_http_url, load_settings

__all__ = ["ConfigError", "ServerConfig", "load_config"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AlertmanagerSettings(_Section):
    """Where alerts come from: alerts routed to one receiver, pushed by Alertmanager's webhook
    and/or polled from its API v2 (the poll also reconciles what a delivery missed)."""

    url: HttpUrlStr | None = None
    """API v2 base URL to poll; optional when only the webhook is used."""
    webhook_token: SecretStr | None = Field(default=None, min_length=16)
    """Bearer secret Alertmanager sends to `POST /alertmanager/webhook` (its webhook receiver's
    `http_config.authorization.credentials`); without it the webhook is off."""
    receiver: str = "warroom"
    poll_seconds: float = Field(default=10.0, gt=0)
    severity_map: dict[str, Severity] = Field(default_factory=lambda: dict(DEFAULT_SEVERITY_MAP))
    """Alert `severity` label value -> proposed SEV, e.g. `critical = 1`."""
    group_by: list[str] | None = None
    """Label names whose values put alerts on one triage item; unset: one item per alert."""
    keep_resolved_minutes: float = Field(default=60.0, ge=0)
    """How long an undeclared item whose alerts all resolved stays on the triage list."""
    max_open_items: int = Field(default=500, ge=1)
    """Open items (neither declared nor dismissed) with an alert still firing, at most: a flood of
    distinct alerts beyond it makes no new items (one log line per report) until some are
    declared, dismissed or resolved; the next poll then brings the rest."""

    @model_validator(mode="after")
    def _polls_or_listens(self) -> AlertmanagerSettings:
        if self.url is None and self.webhook_token is None:
            raise ValueError("set url (to poll), webhook_token (to receive the webhook), or both")
        return self


class PrometheusSettings(_Section):
    url: HttpUrlStr
    poll_seconds: float = Field(default=15.0, gt=0)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    """PromQL templates per signal (`{service}`, `{window}`) and their thresholds."""


class HistorySettings(_Section):
    """How much of the war room's history a node holds, and when closed incidents are archived."""

    snapshot_every: int = Field(default=256, ge=16, le=100_000)
    """Events between two stored snapshots of a young incident; a long one is snapshotted once a
    quarter of its events came after the last snapshot, so loading it replays at most that."""
    idle_minutes: float = Field(default=5.0, gt=0, le=10_080)
    """A closed incident nobody follows is dropped from memory this long after its last use."""
    archive_after_days: int | None = Field(default=None, ge=1, le=36_500)
    """When set, incidents resolved more than this many days ago whose post-mortem is done are
    moved to the archive at start-up and daily (`warroom archive` does it by hand). Archived
    incidents stay readable and exportable; nothing is deleted."""


class StatusPageSettings(_Section):
    folder: Path | None = None
    """Also write the public page (index.html, status.json) here after every publication."""


class ServerConfig(WarroomSettings):
    """Everything `warroom serve --config FILE` reads (and `WARROOM_*` variables override)."""

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
    history: HistorySettings = HistorySettings()
    limits: ServerLimits = ServerLimits()
    """What one connection, one user and the whole server may take (see server/README.md)."""
    trusted_proxies: list[IPvAnyNetwork] = Field(default_factory=list)
    """Reverse proxies (addresses or networks) whose `X-Forwarded-For` header names the client,
    for the handshake throttle; from anyone else the header is ignored."""
    db: str | None = None
    """The database when `--db` is not given: a SQLite path, or `postgresql://USER@HOST:PORT/DB`
    (never with a password in it); default: the SQLite file in the user data dir."""
    db_password_file: Path | None = None
    """A file (mode 0600) holding the PostgreSQL password; else PGPASSWORD or PGPASSFILE."""

    @field_validator("call_link")
    @classmethod
    def _call_link_is_a_url_template(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                filled = value.format(incident_id=1, channel="incident")
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(
                    f"{value!r} is not a template with {{incident_id}} and {{channel}}: {exc!r}"
                ) from None
            check_http_url(filled)
        return value

    @field_validator("links")
    @classmethod
    def _links_are_urls(cls, value: dict[str, ServiceLinks]) -> dict[str, ServiceLinks]:
        # Placeholders ({service}, {from}, ...) sit in the path or query; the scheme and the
        # host are plain text and can be checked as they are.
        for service, links in value.items():
            for kind in ("dashboard", "traces", "logs"):
                template = getattr(links, kind)
                if template is not None:
                    try:
                        check_http_url(template)
                    except ValueError as exc:
                        raise ValueError(f"{service}.{kind}: {exc}") from None
        return value

    def call_link_for(self, incident_id: int, channel: str) -> str | None:
        if self.call_link is None:
            return None
        return self.call_link.format(incident_id=incident_id, channel=channel.lstrip("#"))


def load_config(path: Path | None) -> ServerConfig:
    """Read and validate a config file with `WARROOM_*` overrides; no path: environment only.

    Raises:
        ConfigError: unreadable, not TOML, or not valid; one line per problem, naming the file
            or variable and the key.
    """
    return load_settings(ServerConfig, path)
