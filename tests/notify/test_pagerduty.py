"""Tests for PagerDuty Events API v2 delivery against a recording server."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from pydantic import ValidationError

from tests.support.recording_server import RecordedSleep, RecordingServer, Reply
from warroom.domain.incident import Incident
from warroom.domain.severity import Severity
from warroom.notify.pagerduty import (
    DEFAULT_EVENTS_URL,
    PagerDutyConfig,
    PagerDutyNotifier,
    trigger_event,
)
from warroom.notify.retry import DeliveryOutcome, RetryPolicy

ROUTING_KEY = "R0UT1NGKEY0000000000000000000001"
ACCEPTED = Reply(
    status=202,
    body={"status": "success", "message": "Event processed", "dedup_key": "warroom/incident/42"},
)
CALL = "https://meet.example.com/war-room-42"


def make_incident(severity: Severity = Severity.SEV1, title: str = "Payments down") -> Incident:
    return Incident(
        id=42,
        title=title,
        summary="Card payments fail with 502 at the gateway",
        severity=severity,
        channel="#incident-2024-05-01-payments-down",
        declared_by="alice",
        declared_at=datetime(2024, 5, 1, 14, 0, tzinfo=UTC),
    )


@pytest.fixture
def notifier(
    server: RecordingServer, client: httpx.AsyncClient, sleep: RecordedSleep
) -> PagerDutyNotifier:
    server.always(ACCEPTED)
    config = PagerDutyConfig(
        routing_key=ROUTING_KEY,
        events_url=f"{server.url}/v2/enqueue",
        console_url="https://warroom.example.com/",
        retry=RetryPolicy(max_attempts=4),
    )
    return PagerDutyNotifier(client, config, sleep=sleep)


async def test_trigger_sends_an_events_v2_trigger(
    notifier: PagerDutyNotifier, server: RecordingServer
) -> None:
    outcome = await notifier.trigger(make_incident(), call_link=CALL)

    assert outcome == DeliveryOutcome(
        target="pagerduty trigger #42", ok=True, attempts=1, status=202
    )
    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/v2/enqueue")
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": "warroom/incident/42",
        "payload": {
            "summary": "[SEV1] #42 Payments down",
            "source": "warroom",
            "severity": "critical",
            "timestamp": "2024-05-01T14:00:00+00:00",
            "custom_details": {
                "incident_id": 42,
                "severity": "SEV1",
                "phase": "declared",
                "channel": "#incident-2024-05-01-payments-down",
                "declared_by": "alice",
                "summary": "Card payments fail with 502 at the gateway",
                "call_link": CALL,
            },
        },
        "client": "warroom",
        "client_url": "https://warroom.example.com/",
        "links": [{"href": CALL, "text": "Join the war-room call"}],
    }


@pytest.mark.parametrize(
    ("severity", "expected"),
    [(Severity.SEV1, "critical"), (Severity.SEV2, "error"), (Severity.SEV3, "warning")],
)
async def test_severity_is_mapped_to_pagerduty_levels(
    notifier: PagerDutyNotifier, server: RecordingServer, severity: Severity, expected: str
) -> None:
    await notifier.trigger(make_incident(severity))

    payload = server.requests[0].json()["payload"]
    assert payload["severity"] == expected
    assert payload["summary"].startswith(f"[{severity.label}]")


async def test_trigger_without_call_link_sends_no_links(
    notifier: PagerDutyNotifier, server: RecordingServer
) -> None:
    await notifier.trigger(make_incident())

    body = server.requests[0].json()
    assert "links" not in body
    assert "call_link" not in body["payload"]["custom_details"]


async def test_resolve_uses_the_same_dedup_key(
    notifier: PagerDutyNotifier, server: RecordingServer
) -> None:
    await notifier.trigger(make_incident())
    outcome = await notifier.resolve(42)

    trigger, resolve = (r.json() for r in await server.wait_for_requests(2))
    assert outcome.ok
    assert resolve == {
        "routing_key": ROUTING_KEY,
        "event_action": "resolve",
        "dedup_key": trigger["dedup_key"],
    }


async def test_trigger_succeeds_on_attempt_3_after_two_500s(
    notifier: PagerDutyNotifier, server: RecordingServer, sleep: RecordedSleep
) -> None:
    server.fail_first(2, status=500)

    outcome = await notifier.trigger(make_incident())

    assert (outcome.ok, outcome.attempts, outcome.status) == (True, 3, 202)
    assert sleep.delays == [1.0, 2.0]
    bodies = [r.json() for r in server.requests]
    assert bodies[0] == bodies[1] == bodies[2]


async def test_trigger_that_never_gets_through_reports_the_failure(
    notifier: PagerDutyNotifier, server: RecordingServer, sleep: RecordedSleep
) -> None:
    server.always(Reply(status=503, body="Service Unavailable"))

    outcome = await notifier.trigger(make_incident())

    assert outcome == DeliveryOutcome(
        target="pagerduty trigger #42",
        ok=False,
        attempts=4,
        status=503,
        error="Service Unavailable",
    )
    assert sleep.delays == [1.0, 2.0, 4.0]
    assert len(server.requests) == 4


async def test_invalid_event_is_not_retried(
    notifier: PagerDutyNotifier, server: RecordingServer, sleep: RecordedSleep
) -> None:
    server.always(
        Reply(status=400, body={"status": "invalid event", "errors": ["'routing_key' invalid"]})
    )

    outcome = await notifier.resolve(42)

    assert (outcome.ok, outcome.attempts, outcome.status) == (False, 1, 400)
    assert outcome.error is not None
    assert "routing_key" in outcome.error
    assert sleep.delays == []


def test_summary_is_cut_to_the_events_api_limit() -> None:
    config = PagerDutyConfig(routing_key=ROUTING_KEY)

    event = trigger_event(config, make_incident(title="x" * 2000))

    assert len(event["payload"]["summary"]) == 1024


def test_config_defaults_and_secrecy() -> None:
    config = PagerDutyConfig(routing_key=ROUTING_KEY)

    assert str(config.events_url) == DEFAULT_EVENTS_URL
    assert ROUTING_KEY not in repr(config)


def test_config_refuses_an_empty_routing_key_and_a_bad_url() -> None:
    with pytest.raises(ValidationError, match="routing_key"):
        PagerDutyConfig(routing_key="")
    with pytest.raises(ValidationError, match="events_url"):
        PagerDutyConfig(routing_key=ROUTING_KEY, events_url="not a url")
