"""Tests for the retry loop: backoff, final outcomes and which failures are retried."""

from __future__ import annotations

import logging
import socket

import httpx
import pytest

from tests.support.recording_server import RecordedSleep, RecordingServer, Reply
from warroom.notify.retry import DeliveryOutcome, RetryPolicy, send_with_retry


async def deliver(
    client: httpx.AsyncClient, url: str, sleep: RecordedSleep, policy: RetryPolicy | None = None
) -> DeliveryOutcome:
    async def attempt() -> httpx.Response:
        return await client.post(url, json={"hello": "world"})

    return await send_with_retry("test hook", attempt, policy or RetryPolicy(), sleep=sleep)


async def test_success_after_two_500s_on_attempt_3(
    server: RecordingServer, client: httpx.AsyncClient, sleep: RecordedSleep
) -> None:
    server.fail_first(2, status=500)

    outcome = await deliver(client, f"{server.url}/hook", sleep)

    assert outcome == DeliveryOutcome(target="test hook", ok=True, attempts=3, status=200)
    assert sleep.delays == [1.0, 2.0]
    assert [r.json() for r in server.requests] == [{"hello": "world"}] * 3


async def test_endpoint_that_keeps_failing_is_reported_not_raised(
    server: RecordingServer,
    client: httpx.AsyncClient,
    sleep: RecordedSleep,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.always(Reply(status=503, body="maintenance"))

    with caplog.at_level(logging.WARNING, logger="warroom.notify.retry"):
        outcome = await deliver(client, server.url, sleep, RetryPolicy(max_attempts=4))

    assert outcome == DeliveryOutcome(
        target="test hook", ok=False, attempts=4, status=503, error="Service Unavailable"
    )
    assert sleep.delays == [1.0, 2.0, 4.0]
    assert len(server.requests) == 4
    assert "test hook failed after 4 attempt(s): status=503" in caplog.text


async def test_backoff_is_capped_at_max_delay(
    server: RecordingServer, client: httpx.AsyncClient, sleep: RecordedSleep
) -> None:
    server.always(Reply(status=500))
    policy = RetryPolicy(max_attempts=5, initial_delay=10, multiplier=3, max_delay=40)

    await deliver(client, server.url, sleep, policy)

    assert sleep.delays == [10.0, 30.0, 40.0, 40.0]


async def test_client_error_is_final_at_once(
    server: RecordingServer, client: httpx.AsyncClient, sleep: RecordedSleep
) -> None:
    server.always(Reply(status=400, body={"status": "invalid event"}))

    outcome = await deliver(client, server.url, sleep)

    assert (outcome.ok, outcome.attempts, outcome.status) == (False, 1, 400)
    assert outcome.error == "Bad Request"
    assert sleep.delays == []


async def test_a_reply_that_echoes_the_url_never_reaches_the_log(
    server: RecordingServer,
    client: httpx.AsyncClient,
    sleep: RecordedSleep,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret_path = "/services/T000/B000/S3CR3TS3CR3TS3CR3T"
    routing_key = "R0UT1NGKEY0000000000000000000001"
    echo = f"no such hook: {server.url}{secret_path} (routing_key={routing_key})" + "x" * 600
    server.always(Reply(status=404, body=echo))

    with caplog.at_level(logging.WARNING, logger="warroom.notify.retry"):
        outcome = await deliver(client, f"{server.url}{secret_path}", sleep)

    assert outcome.error == "Not Found"
    assert "test hook failed after 1 attempt(s): status=404 error=Not Found" in caplog.text
    assert "S3CR3T" not in caplog.text
    assert routing_key not in caplog.text
    assert len(caplog.records[-1].getMessage()) < 120


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("channel_not_found", "Not Found: channel_not_found"),  # Slack's own error codes stay
        ("no_such_hook_R0UT1NGKEY", "Not Found"),  # digits: could be a key, dropped
        ("https://hooks.slack.com/services/x", "Not Found"),
        ('{"error": "invalid_token"}', "Not Found"),
        ("a_" * 40, "Not Found"),  # too long to be a code
    ],
)
async def test_only_a_short_error_code_from_the_body_is_kept(
    server: RecordingServer, client: httpx.AsyncClient, sleep: RecordedSleep, body: str, reason: str
) -> None:
    server.always(Reply(status=404, body=body))

    outcome = await deliver(client, server.url, sleep)

    assert outcome.error == reason


async def test_rate_limit_waits_as_long_as_retry_after_asks(
    server: RecordingServer, client: httpx.AsyncClient, sleep: RecordedSleep
) -> None:
    server.reply_with(Reply(status=429, body="rate_limited", headers={"Retry-After": "7"}))

    outcome = await deliver(client, server.url, sleep)

    assert (outcome.ok, outcome.attempts) == (True, 2)
    assert sleep.delays == [7.0]


async def test_retry_after_is_bounded_by_max_delay(
    server: RecordingServer, client: httpx.AsyncClient, sleep: RecordedSleep
) -> None:
    server.reply_with(Reply(status=429, headers={"Retry-After": "3600"}))

    await deliver(client, server.url, sleep, RetryPolicy(max_delay=30))

    assert sleep.delays == [30.0]


async def test_dropped_connection_is_retried(
    server: RecordingServer, client: httpx.AsyncClient, sleep: RecordedSleep
) -> None:
    server.reply_with(Reply(disconnect=True))

    outcome = await deliver(client, server.url, sleep)

    assert (outcome.ok, outcome.attempts, outcome.status) == (True, 2, 200)
    assert len(await server.wait_for_requests(2)) == 2


async def test_unreachable_endpoint_reports_the_transport_error(
    client: httpx.AsyncClient, sleep: RecordedSleep
) -> None:
    # A port that was just free and is now closed: connections are refused at once.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    outcome = await deliver(client, f"http://127.0.0.1:{port}/", sleep, RetryPolicy(max_attempts=3))

    assert (outcome.ok, outcome.attempts, outcome.status) == (False, 3, None)
    assert outcome.error is not None
    assert outcome.error.startswith("ConnectError")
    assert sleep.delays == [1.0, 2.0]


async def test_unsupported_scheme_is_not_retried(
    client: httpx.AsyncClient, sleep: RecordedSleep
) -> None:
    outcome = await deliver(client, "ftp://127.0.0.1/hook", sleep)

    assert (outcome.ok, outcome.attempts) == (False, 1)
    assert sleep.delays == []


def test_jitter_is_off_by_default() -> None:
    policy = RetryPolicy()

    assert policy.jitter == 0
    assert [policy.delay_before(n, rng=lambda: 0.99) for n in (2, 3, 4)] == [1.0, 2.0, 4.0]


def test_jitter_cuts_up_to_its_fraction_of_the_delay() -> None:
    policy = RetryPolicy(initial_delay=4, jitter=0.5)

    assert policy.delay_before(2, rng=lambda: 0.0) == 4.0
    assert policy.delay_before(2, rng=lambda: 0.5) == 3.0
    assert policy.delay_before(3, rng=lambda: 1.0) == 4.0


@pytest.mark.parametrize(
    "bad", [{"max_attempts": 0}, {"jitter": 1.5}, {"multiplier": 0.5}, {"initial_delay": -1}]
)
def test_policy_refuses_nonsense(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        RetryPolicy.model_validate(bad)
