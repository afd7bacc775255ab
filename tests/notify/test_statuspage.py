"""Tests for publishing approved updates to a Statuspage-compatible API on a recording server."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from pydantic import ValidationError

from tests.support.recording_server import RecordedSleep, RecordingServer, Reply
from warroom.domain.communications import DraftStatus, ExternalUpdate, PublicState
from warroom.domain.severity import Severity
from warroom.notify.retry import DeliveryOutcome, RetryPolicy
from warroom.notify.statuspage import (
    DEFAULT_API_URL,
    StatuspageConfig,
    StatuspageNotifier,
    component_status,
)

API_KEY = "sp-api-key-0000000000000001"
PAGE = "kctbh9vrtdwd"
REMOTE_ID = "p31zjtct2jer"
COMPONENTS = {"payments": "cmp-pay", "checkout": "cmp-chk", "api": "cmp-api"}
CREATED = Reply(status=201, body={"id": REMOTE_ID, "name": "Card payments failing"})
UPDATED = Reply(status=200, body={"id": REMOTE_ID, "status": "identified"})


def make_update(
    text: str = "We are investigating failed card payments.",
    *,
    state: PublicState = PublicState.INVESTIGATING,
    components: list[str] | None = None,
    status: DraftStatus = DraftStatus.APPROVED,
) -> ExternalUpdate:
    at = datetime(2024, 5, 1, 14, 5, tzinfo=UTC)
    return ExternalUpdate(
        id=5,
        title="Card payments failing",
        text=text,
        state=state,
        components=["payments", "checkout"] if components is None else components,
        drafted_by="carol",
        drafted_at=at,
        status=status,
        decided_by="alice" if status is not DraftStatus.PENDING else None,
        decided_at=at if status is not DraftStatus.PENDING else None,
    )


@pytest.fixture
def api(server: RecordingServer) -> RecordingServer:
    return server


def make_config(api: RecordingServer, **overrides: object) -> StatuspageConfig:
    settings: dict[str, object] = {
        "api_url": f"{api.url}/v1",
        "page_id": PAGE,
        "api_key": API_KEY,
        "component_ids": COMPONENTS,
        "retry": RetryPolicy(max_attempts=3),
    }
    return StatuspageConfig.model_validate(settings | overrides)


@pytest.fixture
def notifier(
    api: RecordingServer, client: httpx.AsyncClient, sleep: RecordedSleep
) -> StatuspageNotifier:
    return StatuspageNotifier(client, make_config(api), sleep=sleep)


async def test_first_publication_creates_the_incident(
    notifier: StatuspageNotifier, api: RecordingServer
) -> None:
    api.reply_with(CREATED)

    outcome, remote_id = await notifier.publish(make_update(), None, severity=Severity.SEV1)

    assert outcome == DeliveryOutcome(
        target="statuspage create (public update #5)", ok=True, attempts=1, status=201
    )
    assert remote_id == REMOTE_ID
    [request] = api.requests
    assert (request.method, request.path) == ("POST", f"/v1/pages/{PAGE}/incidents")
    assert request.headers["authorization"] == f"OAuth {API_KEY}"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "incident": {
            "name": "Card payments failing",
            "status": "investigating",
            "body": "We are investigating failed card payments.",
            "component_ids": ["cmp-pay", "cmp-chk"],
            "components": {"cmp-pay": "major_outage", "cmp-chk": "major_outage"},
        }
    }


async def test_create_then_update_the_same_remote_incident(
    notifier: StatuspageNotifier, api: RecordingServer
) -> None:
    api.reply_with(CREATED, UPDATED, UPDATED)

    _, remote_id = await notifier.publish(make_update(), None, severity=Severity.SEV2)
    identified = make_update("We found the cause.", state=PublicState.IDENTIFIED, components=[])
    outcome, again = await notifier.publish(identified, remote_id, severity=Severity.SEV2)
    resolved = make_update("All payments work again.", state=PublicState.RESOLVED)
    _, still = await notifier.publish(resolved, again, severity=Severity.SEV2)

    assert outcome.ok
    assert outcome.target == "statuspage update (public update #5)"
    assert remote_id == again == still == REMOTE_ID
    create, update, resolve = api.requests
    assert create.json()["incident"]["components"] == {
        "cmp-pay": "degraded_performance",
        "cmp-chk": "degraded_performance",
    }
    assert (update.method, update.path) == ("PATCH", f"/v1/pages/{PAGE}/incidents/{REMOTE_ID}")
    assert update.headers["authorization"] == f"OAuth {API_KEY}"
    # No mapped components named: the remote components are left as they are.
    assert update.json() == {
        "incident": {
            "name": "Card payments failing",
            "status": "identified",
            "body": "We found the cause.",
        }
    }
    assert (resolve.method, resolve.path) == ("PATCH", f"/v1/pages/{PAGE}/incidents/{REMOTE_ID}")
    assert resolve.json()["incident"] == {
        "name": "Card payments failing",
        "status": "resolved",
        "body": "All payments work again.",
        "component_ids": ["cmp-pay", "cmp-chk"],
        "components": {"cmp-pay": "operational", "cmp-chk": "operational"},
    }


@pytest.mark.parametrize("state", list(PublicState))
async def test_public_states_map_to_statuspage_statuses(
    notifier: StatuspageNotifier, api: RecordingServer, state: PublicState
) -> None:
    api.always(CREATED)

    await notifier.publish(make_update(state=state), None)

    assert api.requests[0].json()["incident"]["status"] == state.value


@pytest.mark.parametrize(
    ("state", "severity", "expected"),
    [
        (PublicState.INVESTIGATING, Severity.SEV1, "major_outage"),
        (PublicState.MONITORING, Severity.SEV1, "major_outage"),
        (PublicState.IDENTIFIED, Severity.SEV2, "degraded_performance"),
        (PublicState.IDENTIFIED, Severity.SEV3, "degraded_performance"),
        (PublicState.INVESTIGATING, None, "degraded_performance"),
        (PublicState.RESOLVED, Severity.SEV1, "operational"),
    ],
)
def test_component_status(state: PublicState, severity: Severity | None, expected: str) -> None:
    assert component_status(state, severity) == expected


async def test_unmapped_components_are_left_out(
    notifier: StatuspageNotifier, api: RecordingServer
) -> None:
    api.always(CREATED)

    await notifier.publish(make_update(components=["payments", "warehouse", "payments"]), None)

    incident = api.requests[0].json()["incident"]
    assert incident["component_ids"] == ["cmp-pay"]
    assert incident["components"] == {"cmp-pay": "degraded_performance"}


async def test_a_failing_endpoint_is_retried_until_it_answers(
    notifier: StatuspageNotifier, api: RecordingServer, sleep: RecordedSleep
) -> None:
    api.fail_first(2, status=503)
    api.reply_with(CREATED)

    outcome, remote_id = await notifier.publish(make_update(), None)

    assert (outcome.ok, outcome.attempts, outcome.status) == (True, 3, 201)
    assert remote_id == REMOTE_ID
    assert [r.method for r in api.requests] == ["POST"] * 3
    assert all(r.headers["authorization"] == f"OAuth {API_KEY}" for r in api.requests)
    assert sleep.delays == [1.0, 2.0]


async def test_a_create_that_keeps_failing_reports_the_failure(
    notifier: StatuspageNotifier, api: RecordingServer, sleep: RecordedSleep
) -> None:
    api.always(Reply(status=500, body="upstream trouble"))

    outcome, remote_id = await notifier.publish(make_update(), None)

    assert outcome == DeliveryOutcome(
        target="statuspage create (public update #5)",
        ok=False,
        attempts=3,
        status=500,
        error="Internal Server Error",
    )
    assert remote_id is None
    assert len(api.requests) == 3
    assert sleep.delays == [1.0, 2.0]


async def test_a_failed_update_keeps_the_known_remote_id(
    notifier: StatuspageNotifier, api: RecordingServer
) -> None:
    api.always(Reply(status=502, body="bad gateway"))

    outcome, remote_id = await notifier.publish(make_update(), REMOTE_ID)

    assert (outcome.ok, outcome.attempts, outcome.status) == (False, 3, 502)
    assert remote_id == REMOTE_ID
    assert [r.method for r in api.requests] == ["PATCH"] * 3


async def test_a_client_error_is_not_retried(
    notifier: StatuspageNotifier, api: RecordingServer, sleep: RecordedSleep
) -> None:
    api.always(Reply(status=401, body={"error": "Could not authenticate"}))

    outcome, remote_id = await notifier.publish(make_update(), None)

    assert (outcome.ok, outcome.attempts, outcome.status, outcome.error) == (
        False,
        1,
        401,
        "Unauthorized",
    )
    assert remote_id is None
    assert sleep.delays == []


async def test_a_dropped_connection_is_retried_and_never_raises(
    notifier: StatuspageNotifier, api: RecordingServer
) -> None:
    api.always(Reply(disconnect=True))

    outcome, remote_id = await notifier.publish(make_update(), None)

    assert (outcome.ok, outcome.attempts, outcome.status) == (False, 3, None)
    assert outcome.error
    assert remote_id is None


async def test_a_created_incident_without_an_id_is_a_failure(
    notifier: StatuspageNotifier, api: RecordingServer
) -> None:
    api.always(Reply(status=201, body={"name": "no id here"}))

    outcome, remote_id = await notifier.publish(make_update(), None)

    assert not outcome.ok
    assert outcome.status == 201
    assert outcome.error == "created, but the response carried no incident id"
    assert remote_id is None


async def test_control_characters_never_reach_statuspage(
    notifier: StatuspageNotifier, api: RecordingServer
) -> None:
    update = make_update("Fixed\x1b[2K\r\n \u202eyllaer\u202c \x9b31m done").model_copy(
        update={"title": "Card\x00 payments\u2067 failing"}
    )

    await notifier.publish(update, None)

    incident = api.requests[0].json()["incident"]
    assert incident["name"] == "Card payments failing"
    assert incident["body"] == "Fixed[2K\n yllaer 31m done"


@pytest.mark.parametrize("status", [DraftStatus.PENDING, DraftStatus.REJECTED])
async def test_an_unapproved_update_is_never_sent(
    notifier: StatuspageNotifier, api: RecordingServer, status: DraftStatus
) -> None:
    outcome, remote_id = await notifier.publish(make_update(status=status), REMOTE_ID)

    assert (outcome.ok, outcome.attempts) == (False, 0)
    assert outcome.error == f"update is {status.value}"
    assert remote_id == REMOTE_ID
    assert api.requests == []


async def test_the_remote_id_stays_one_path_segment(
    notifier: StatuspageNotifier, api: RecordingServer
) -> None:
    api.always(UPDATED)

    await notifier.publish(make_update(), "../../admin?x=1")

    assert api.requests[0].path == f"/v1/pages/{PAGE}/incidents/..%2F..%2Fadmin%3Fx%3D1"


def test_config_defaults_and_secret_handling() -> None:
    config = StatuspageConfig(page_id=PAGE, api_key=API_KEY)

    assert str(config.api_url) == DEFAULT_API_URL
    assert config.component_ids == {}
    assert API_KEY not in repr(config)
    assert API_KEY not in str(config.model_dump())


@pytest.mark.parametrize("page_id", ["", "../other", "page/incidents", "a b"])
def test_page_ids_that_would_change_the_path_are_refused(page_id: str) -> None:
    with pytest.raises(ValidationError) as raised:
        StatuspageConfig(page_id=page_id, api_key=API_KEY)

    assert API_KEY not in str(raised.value)
