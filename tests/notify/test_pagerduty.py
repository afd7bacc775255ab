"""Tests for PagerDuty Events API v2 delivery against a recording server."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from pydantic import ValidationError

from tests.notify.api_shapes import assert_events_v2
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


def make_incident(
    severity: Severity = Severity.SEV1,
    title: str = "Payments down",
    services: list[str] | None = None,
) -> Incident:
    return Incident(
        id=42,
        title=title,
        summary="Card payments fail with 502 at the gateway",
        services=services or [],
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
    assert_events_v2(request.json())
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
    assert_events_v2(resolve)
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

    assert outcome == DeliveryOutcome(
        target="pagerduty resolve #42", ok=False, attempts=1, status=400, error="Bad Request"
    )
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


@pytest.mark.parametrize(
    "bad",
    [
        ROUTING_KEY[:-1],  # truncated when pasted
        ROUTING_KEY + "2",
        " " + ROUTING_KEY[1:],  # a pasted space, still 32 characters
        "R0UT1NGKEYFROMPAGERDUTY",  # the old example's placeholder
        "https://events.pagerduty.com/x",
    ],
)
def test_config_refuses_a_routing_key_that_is_not_32_letters_and_digits(bad: str) -> None:
    with pytest.raises(ValidationError, match="32-character integration key") as caught:
        PagerDutyConfig(routing_key=bad)

    assert f"has {len(bad)} characters" in str(caught.value)
    assert bad.strip() not in str(caught.value)  # the key never lands in an error or a log


async def test_source_is_the_first_affected_service(
    notifier: PagerDutyNotifier, server: RecordingServer
) -> None:
    await notifier.trigger(make_incident(services=["payments-api", "checkout"]))

    body = server.requests[0].json()
    assert_events_v2(body)
    assert body["payload"]["source"] == "payments-api"
    assert body["payload"]["custom_details"]["services"] == ["payments-api", "checkout"]


def test_source_falls_back_to_the_configured_one_without_services() -> None:
    config = PagerDutyConfig(routing_key=ROUTING_KEY, source="warroom-prod")

    event = trigger_event(config, make_incident(services=[]))

    assert event["payload"]["source"] == "warroom-prod"


async def test_acknowledge_names_the_alert_by_its_dedup_key(
    notifier: PagerDutyNotifier, server: RecordingServer
) -> None:
    await notifier.trigger(make_incident())
    outcome = await notifier.acknowledge(42)

    trigger, ack = (r.json() for r in await server.wait_for_requests(2))
    assert outcome == DeliveryOutcome(
        target="pagerduty acknowledge #42", ok=True, attempts=1, status=202
    )
    assert_events_v2(ack)
    assert ack == {
        "routing_key": ROUTING_KEY,
        "event_action": "acknowledge",
        "dedup_key": trigger["dedup_key"],
    }


async def test_escalation_retriggers_the_same_alert_as_critical_and_says_so(
    notifier: PagerDutyNotifier, server: RecordingServer
) -> None:
    await notifier.trigger(make_incident(Severity.SEV2))
    escalated_at = datetime(2024, 5, 1, 14, 20, tzinfo=UTC)
    await notifier.trigger(
        make_incident(Severity.SEV1), escalated_from=Severity.SEV2, at=escalated_at
    )

    first, second = (r.json() for r in await server.wait_for_requests(2))
    assert_events_v2(second)
    assert second["event_action"] == "trigger"
    # Same dedup key: PagerDuty adds it to the open alert rather than opening a second one...
    assert second["dedup_key"] == first["dedup_key"]
    # ...so what changed is in the fields a responder sees: severity and summary.
    assert (first["payload"]["severity"], second["payload"]["severity"]) == ("error", "critical")
    assert second["payload"]["summary"] == "[SEV1] #42 escalated to SEV1 from SEV2: Payments down"
    assert second["payload"]["custom_details"]["escalated_from"] == "SEV2"
    assert second["payload"]["timestamp"] == "2024-05-01T14:20:00+00:00"


async def test_control_characters_never_reach_pagerduty(
    notifier: PagerDutyNotifier, server: RecordingServer
) -> None:
    title = "Pay\x1b[8mments\x1b[0m down \u202egpj.exe\u202c\x9b"

    await notifier.trigger(make_incident(title=title))

    body = server.requests[0].json()
    assert_events_v2(body)
    assert body["payload"]["summary"] == "[SEV1] #42 Pay[8mments[0m down gpj.exe"
