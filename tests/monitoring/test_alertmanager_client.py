"""AlertmanagerClient against a real Alertmanager fed by a real Prometheus, plus severity."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from warroom.domain.severity import Severity
from warroom.monitoring.alertmanager import (
    Alert,
    AlertGroup,
    AlertmanagerClient,
    AlertmanagerError,
    AlertState,
    FetchErrorKind,
    propose_severity,
    propose_severity_for_alerts,
)

from .synthetic_traffic import SyntheticTraffic
from .waiting import eventually

PAYMENTS_ERRORS = ['alertname="HighErrorRate"', 'service="payments"']


@pytest.fixture
def failing_payments(traffic: SyntheticTraffic) -> Iterator[None]:
    """Payments answers 90% of requests with a 500 until the test clears it."""
    traffic.set_load("payments", error_ratio=0.9)
    yield
    traffic.set_load("payments", error_ratio=0.0)


async def test_a_firing_rule_is_listed_under_the_warroom_receiver_then_resolves(
    alertmanager: AlertmanagerClient,
    prometheus_server: object,
    traffic: SyntheticTraffic,
    failing_payments: None,
) -> None:
    async def payments_alert() -> tuple[AlertGroup, Alert] | None:
        groups = await alertmanager.alert_groups(matchers=PAYMENTS_ERRORS)
        found = [(group, alert) for group in groups for alert in group.alerts]
        return found[0] if found else None

    group, alert = await eventually(payments_alert, what="HighErrorRate for payments")

    assert group.receiver.name == "warroom"
    assert group.labels == {"alertname": "HighErrorRate", "service": "payments"}
    assert alert.name == "HighErrorRate"
    assert alert.labels["severity"] == "critical"
    assert alert.labels["service"] == "payments"
    assert alert.summary == "High error rate on payments"
    assert alert.description is not None
    assert alert.description.endswith("% of requests fail.")
    assert alert.runbook_url == "https://runbooks.example.com/high-error-rate"
    assert alert.status.state is AlertState.ACTIVE
    assert alert.receiver_names == ["warroom"]
    assert len(alert.fingerprint) == 16
    assert alert.starts_at <= datetime.now(UTC) < alert.ends_at
    assert alert.generator_url is not None
    assert "graph" in alert.generator_url
    assert propose_severity(alert.labels) is Severity.SEV1

    traffic.set_load("payments", error_ratio=0.0)

    # Prometheus sends the alert once more with endsAt set to when it stopped firing, and
    # Alertmanager 0.25 immediately leaves resolved alerts out of the groups it lists.
    async def resolved() -> bool:
        return not await payments_alert()

    await eventually(resolved, what="HighErrorRate for payments to resolve")


async def test_the_receiver_filter_keeps_other_teams_alerts_out(
    alertmanager: AlertmanagerClient, prometheus_server: object
) -> None:
    async def storage_groups() -> list[AlertGroup]:
        return await alertmanager.alert_groups("storage")

    [storage] = await eventually(storage_groups, what="the storage team's alert")
    assert storage.receiver.name == "storage"
    assert [alert.name for alert in storage.alerts] == ["StorageAlwaysFiring"]
    assert propose_severity_for_alerts(storage.alerts) is Severity.SEV3

    ours = await alertmanager.alert_groups()
    everyone = await alertmanager.alert_groups(None)

    assert all(group.receiver.name == "warroom" for group in ours)
    assert "StorageAlwaysFiring" not in {a.name for g in ours for a in g.alerts}
    assert "StorageAlwaysFiring" in {a.name for g in everyone for a in g.alerts}
    # An anchored, escaped filter: a prefix of a receiver's name matches nothing.
    assert await alertmanager.alert_groups("stor") == []
    assert await alertmanager.alert_groups("stora.e") == []


async def test_a_malformed_matcher_is_a_query_error(alertmanager: AlertmanagerClient) -> None:
    with pytest.raises(AlertmanagerError) as caught:
        await alertmanager.alert_groups(matchers=["service=~("])

    assert caught.value.kind is FetchErrorKind.QUERY
    assert caught.value.status_code == 400


async def test_nothing_listening_is_a_connection_error(unused_url: str) -> None:
    async with AlertmanagerClient(unused_url, timeout=2) as client:
        with pytest.raises(AlertmanagerError) as caught:
            await client.alert_groups()

    assert caught.value.kind is FetchErrorKind.CONNECTION


SAMPLE_ALERT: dict[str, Any] = {
    "annotations": {"summary": "p99 above 2s"},
    "endsAt": "2024-05-01T12:10:00.000Z",
    "fingerprint": "0123456789abcdef",
    "receivers": [{"name": "warroom"}],
    "startsAt": "2024-05-01T12:00:00.000Z",
    "status": {"inhibitedBy": [], "silencedBy": ["s-1"], "state": "suppressed"},
    "updatedAt": "2024-05-01T12:01:00.000Z",
    "labels": {"alertname": "HighLatency", "severity": "Major"},
}
"""One alert exactly as Alertmanager 0.25 encodes it."""

SAMPLE_GROUPS = [
    {
        "labels": {"alertname": "HighLatency"},
        "receiver": {"name": "warroom"},
        "alerts": [SAMPLE_ALERT],
    }
]


async def test_groups_are_parsed_and_the_request_carries_the_filters() -> None:
    seen: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=SAMPLE_GROUPS)

    transport = httpx.MockTransport(respond)
    async with httpx.AsyncClient(transport=transport, base_url="http://am.test/prefix") as http:
        groups = await AlertmanagerClient(http=http).alert_groups(
            "team.a", silenced=True, matchers=['a="1"', 'b=~"2|3"']
        )

    [request] = seen
    assert request.url.path == "/prefix/api/v2/alerts/groups"
    assert request.url.params["receiver"] == r"team\.a"
    assert request.url.params.get_list("filter") == ['a="1"', 'b=~"2|3"']
    assert request.url.params["silenced"] == "true"
    assert request.url.params["inhibited"] == "false"
    [alert] = groups[0].alerts
    assert alert.status.state is AlertState.SUPPRESSED
    assert alert.status.silenced_by == ["s-1"]
    assert alert.starts_at == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert alert.description is None
    assert alert.runbook_url is None
    assert propose_severity(alert.labels) is Severity.SEV2
    # The models travel to consoles as JSON and come back intact.
    assert AlertGroup.model_validate_json(groups[0].model_dump_json()) == groups[0]


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (500, json.dumps("internal error"), FetchErrorKind.HTTP),
        (502, "<html>bad gateway</html>", FetchErrorKind.HTTP),
        (200, json.dumps({"not": "a list"}), FetchErrorKind.RESPONSE),
        (200, "not json", FetchErrorKind.RESPONSE),
    ],
)
async def test_failures_are_typed(status: int, body: str, kind: FetchErrorKind) -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body)

    async with httpx.AsyncClient(transport=httpx.MockTransport(respond)) as http:
        with pytest.raises(AlertmanagerError) as caught:
            await AlertmanagerClient("http://am.test", http=http).alert_groups()

    assert caught.value.kind is kind


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("critical", Severity.SEV1),
        ("major", Severity.SEV2),
        ("error", Severity.SEV2),
        ("warning", Severity.SEV3),
        ("minor", Severity.SEV3),
        ("info", Severity.SEV3),
        (" CRITICAL ", Severity.SEV1),
        ("Error", Severity.SEV2),
    ],
)
def test_default_severity_mapping(value: str, expected: Severity) -> None:
    assert propose_severity({"alertname": "X", "severity": value}) is expected


def test_no_severity_label_proposes_sev3() -> None:
    assert propose_severity({"alertname": "X"}) is Severity.SEV3


def test_the_mapping_label_and_default_are_configurable() -> None:
    mapping = {"p1": Severity.SEV1, "p2": Severity.SEV2}

    assert propose_severity({"priority": "P1"}, mapping, label="priority") is Severity.SEV1
    assert propose_severity({"severity": "critical"}, mapping) is Severity.SEV3
    assert propose_severity({}, mapping, default=Severity.SEV2) is Severity.SEV2


def test_a_group_proposes_its_worst_alert() -> None:
    alerts = [
        Alert.model_validate({**SAMPLE_ALERT, "labels": {"severity": level}})
        for level in ("warning", "critical", "major")
    ]

    assert propose_severity_for_alerts(alerts) is Severity.SEV1
    assert propose_severity_for_alerts([]) is Severity.SEV3
