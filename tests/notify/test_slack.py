"""Tests for Slack incoming-webhook delivery against a recording server."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from pydantic import ValidationError

from tests.notify.api_shapes import assert_slack_webhook
from tests.support.recording_server import RecordedSleep, RecordingServer, Reply
from warroom.domain.incident import Incident
from warroom.domain.severity import Severity
from warroom.notify.retry import RetryPolicy
from warroom.notify.slack import (
    MAX_SECTION_TEXT,
    SlackConfig,
    SlackNotifier,
    escape_mrkdwn,
    ic_handoff_message,
    incident_declared_message,
    incident_resolved_message,
    severity_changed_message,
    slack_message,
)

HOOK_PATH = "/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX"
HOSTILE_TITLE = "<!channel> DB & cache <https://evil.example|docs> down"


def make_incident(
    title: str = HOSTILE_TITLE, summary: str = "", services: list[str] | None = None
) -> Incident:
    return Incident(
        id=9,
        title=title,
        summary=summary,
        services=services or [],
        severity=Severity.SEV2,
        channel="#incident-2024-05-01-db-down",
        declared_by="bob",
        declared_at=datetime(2024, 5, 1, 9, 30, tzinfo=UTC),
    )


@pytest.fixture
def notifier(
    server: RecordingServer, client: httpx.AsyncClient, sleep: RecordedSleep
) -> SlackNotifier:
    config = SlackConfig(webhook_url=f"{server.url}{HOOK_PATH}", retry=RetryPolicy(max_attempts=3))
    return SlackNotifier(client, config, sleep=sleep)


def test_escape_replaces_only_slack_control_characters() -> None:
    assert escape_mrkdwn("a & b < c > d *bold* 'q'") == "a &amp; b &lt; c &gt; d *bold* 'q'"
    # `&` goes first, so an entity the user typed stays visible as typed.
    assert escape_mrkdwn("&lt;") == "&amp;lt;"


async def test_plain_message_posts_text_only(
    notifier: SlackNotifier, server: RecordingServer
) -> None:
    outcome = await notifier.post(slack_message("hello"))

    [request] = server.requests
    assert outcome.ok
    assert (request.method, request.path) == ("POST", HOOK_PATH)
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {"text": "hello"}


async def test_declared_message_escapes_user_text(
    notifier: SlackNotifier, server: RecordingServer
) -> None:
    incident = make_incident(summary="p99 > 5s for <all> users & rising")

    outcome = await notifier.post(
        incident_declared_message(incident, call_link="https://meet.example.com/x?a=1&b=2"),
        target="slack declared #9",
    )

    assert (outcome.ok, outcome.target) == (True, "slack declared #9")
    title = "&lt;!channel&gt; DB &amp; cache &lt;https://evil.example|docs&gt; down"
    headline = f"*SEV2 declared:* {title} (#9)"
    assert_slack_webhook(server.requests[0].json())
    assert server.requests[0].json() == {
        "text": headline,
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"{headline}\np99 &gt; 5s for &lt;all&gt; users &amp; rising",
                },
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "Channel: #incident-2024-05-01-db-down | IC: bob | Declared by: bob"
                        " | <https://meet.example.com/x?a=1&amp;b=2|Join the war-room call>",
                    }
                ],
            },
        ],
    }


async def test_resolved_message(notifier: SlackNotifier, server: RecordingServer) -> None:
    await notifier.post(incident_resolved_message(make_incident(title="Login <fails>")))

    body = server.requests[0].json()
    assert_slack_webhook(body)
    assert body["text"] == "*Resolved:* Login &lt;fails&gt; (#9, SEV2)"
    assert body["blocks"][0]["text"]["text"] == body["text"]


async def test_resolved_message_gives_the_postmortem_due_time(
    notifier: SlackNotifier, server: RecordingServer
) -> None:
    incident = make_incident(title="Login <fails>").model_copy(
        update={"postmortem_due": datetime(2024, 5, 3, 11, 5, tzinfo=UTC)}
    )

    await notifier.post(incident_resolved_message(incident))

    body = server.requests[0].json()
    assert_slack_webhook(body)
    assert body["blocks"][1]["elements"][0]["text"] == (
        "Channel: #incident-2024-05-01-db-down | Post-mortem due by 2024-05-03 11:05 UTC"
    )


async def test_declared_message_names_the_ic_and_services(
    notifier: SlackNotifier, server: RecordingServer
) -> None:
    incident = make_incident(title="DB down", services=["payments-api", "<!here>"])

    await notifier.post(incident_declared_message(incident, ic="carol"))

    body = server.requests[0].json()
    assert_slack_webhook(body)
    assert body["text"] == "*SEV2 declared:* DB down (#9)"
    assert body["blocks"][1]["elements"][0]["text"] == (
        "Channel: #incident-2024-05-01-db-down | IC: carol | Declared by: bob"
        " | Services: payments-api, &lt;!here&gt;"
    )


@pytest.mark.parametrize(
    ("severity", "previous", "verb"),
    [(Severity.SEV1, Severity.SEV2, "escalated"), (Severity.SEV3, Severity.SEV2, "downgraded")],
)
async def test_severity_change_message(
    notifier: SlackNotifier,
    server: RecordingServer,
    severity: Severity,
    previous: Severity,
    verb: str,
) -> None:
    incident = make_incident(title="DB <down>").model_copy(update={"severity": severity})

    await notifier.post(
        severity_changed_message(incident, previous, by="dana", reason="<!channel> spreading")
    )

    body = server.requests[0].json()
    assert_slack_webhook(body)
    headline = f"*#9 {verb} to {severity.label}* (from SEV2): DB &lt;down&gt;"
    assert body["text"] == headline
    assert body["blocks"][0]["text"]["text"] == (f"{headline}\nReason: &lt;!channel&gt; spreading")
    assert body["blocks"][1]["elements"][0]["text"] == (
        "Channel: #incident-2024-05-01-db-down | By: dana"
    )


async def test_ic_handoff_message(notifier: SlackNotifier, server: RecordingServer) -> None:
    await notifier.post(ic_handoff_message(make_incident(), new_ic="erin", previous_ic="bob"))

    body = server.requests[0].json()
    assert_slack_webhook(body)
    assert body["text"].startswith("*#9 new Incident Commander:* erin took over from bob (SEV2, ")
    assert "&lt;!channel&gt;" in body["text"]


async def test_message_goes_to_the_webhook_of_the_incidents_service(
    server: RecordingServer, client: httpx.AsyncClient, sleep: RecordedSleep
) -> None:
    config = SlackConfig(
        webhook_url=f"{server.url}/default",
        service_webhooks={"payments-api": f"{server.url}/payments", "search": f"{server.url}/s"},
    )
    notifier = SlackNotifier(client, config, sleep=sleep)

    await notifier.post(slack_message("a"), services=["checkout", "payments-api", "search"])
    await notifier.post(slack_message("b"), services=["checkout"])
    await notifier.post(slack_message("c"))

    paths = [(r.path, r.json()["text"]) for r in await server.wait_for_requests(3)]
    assert paths == [("/payments", "a"), ("/default", "b"), ("/default", "c")]


def test_config_refuses_a_bad_service_webhook_without_echoing_it() -> None:
    with pytest.raises(ValidationError, match="'search': must be an http") as caught:
        SlackConfig(
            webhook_url=f"https://hooks.slack.com{HOOK_PATH}",
            service_webhooks={"search": "hooks.slack.com/services/SECRET"},
        )

    assert "SECRET" not in str(caught.value)


async def test_control_characters_never_reach_slack(
    notifier: SlackNotifier, server: RecordingServer
) -> None:
    incident = make_incident(
        title="DB\x1b]8;;https://evil\x07 down \u2066x\u2069", summary="a\r\nb\x85"
    )

    await notifier.post(incident_declared_message(incident))

    body = server.requests[0].json()
    assert_slack_webhook(body)
    assert body["text"] == "*SEV2 declared:* DB]8;;https://evil down x (#9)"
    assert body["blocks"][0]["text"]["text"].endswith("\na\nb")


def test_long_summary_is_cut_to_the_section_limit() -> None:
    message = incident_declared_message(make_incident(summary="y" * 5000))

    assert len(message["blocks"][0]["text"]["text"]) == MAX_SECTION_TEXT


async def test_rate_limited_webhook_is_retried_after_retry_after(
    notifier: SlackNotifier, server: RecordingServer, sleep: RecordedSleep
) -> None:
    server.reply_with(Reply(status=429, body="rate_limited", headers={"Retry-After": "3"}))

    outcome = await notifier.post(slack_message("hello"))

    assert (outcome.ok, outcome.attempts, outcome.status) == (True, 2, 200)
    assert sleep.delays == [3.0]


async def test_success_on_attempt_3_after_two_500s(
    notifier: SlackNotifier, server: RecordingServer, sleep: RecordedSleep
) -> None:
    server.fail_first(2, status=500)

    outcome = await notifier.post(slack_message("hello"))

    assert (outcome.ok, outcome.attempts) == (True, 3)
    assert sleep.delays == [1.0, 2.0]


async def test_failing_webhook_reports_the_final_failure(
    notifier: SlackNotifier, server: RecordingServer, sleep: RecordedSleep
) -> None:
    server.always(Reply(status=500, body="rollup_error"))

    outcome = await notifier.post(slack_message("hello"))

    assert (outcome.ok, outcome.attempts, outcome.status, outcome.error) == (
        False,
        3,
        500,
        "Internal Server Error: rollup_error",
    )
    assert sleep.delays == [1.0, 2.0]


async def test_archived_channel_is_not_retried(
    notifier: SlackNotifier, server: RecordingServer, sleep: RecordedSleep
) -> None:
    server.always(Reply(status=410, body="channel_is_archived"))

    outcome = await notifier.post(slack_message("hello"))

    assert (outcome.ok, outcome.attempts, outcome.error) == (False, 1, "Gone: channel_is_archived")
    assert sleep.delays == []


def test_config_keeps_the_webhook_secret() -> None:
    url = f"https://hooks.slack.com{HOOK_PATH}"

    config = SlackConfig(webhook_url=url)

    assert url not in repr(config)
    assert config.webhook_url.get_secret_value() == url


@pytest.mark.parametrize("bad", ["ftp://hooks.slack.com/x", "hooks.slack.com/services/x", ""])
def test_config_refuses_a_non_http_webhook_without_echoing_it(bad: str) -> None:
    with pytest.raises(ValidationError, match="must be an http") as caught:
        SlackConfig(webhook_url=bad)

    if bad:
        assert bad not in str(caught.value)


def test_call_link_cannot_break_out_of_its_link() -> None:
    message = incident_declared_message(
        make_incident(title="t"), call_link="https://meet.example.com/a|<!here>"
    )

    context = message["blocks"][1]["elements"][0]["text"]
    assert context.endswith("<https://meet.example.com/a%7C&lt;!here&gt;|Join the war-room call>")
