"""Checks a recorded body against the documented fields of PagerDuty Events v2 and Slack webhooks.

From PagerDuty's Events API v2 reference ("Send an Alert Event") and Slack's incoming-webhook and
Block Kit references. A field the API does not know, a wrong type, or a value out of its range
fails the test that recorded it, so payloads cannot drift from the APIs they are sent to.
"""

from __future__ import annotations

import re
from typing import Any

EVENTS_V2_TOP = {
    "routing_key",
    "event_action",
    "dedup_key",
    "payload",
    "client",
    "client_url",
    "links",
    "images",
}
EVENTS_V2_PAYLOAD = {
    "summary",
    "source",
    "severity",
    "timestamp",
    "component",
    "group",
    "class",
    "custom_details",
}
EVENTS_V2_SEVERITIES = {"critical", "error", "warning", "info"}

SLACK_TOP = {"text", "blocks"}
"""What warroom sends; incoming webhooks also take `attachments`, `thread_ts` and a few more."""
SLACK_TEXT_LIMIT = 3000
"""Section and context text objects are refused above this length."""

# Slack's control sequences start with `<`; the only ones warroom may send are its own links.
_OWN_LINK = re.compile(r"<https?://[^<>|\s]+\|[^<>]+>")
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def assert_events_v2(body: dict[str, Any]) -> None:
    """`body` is a valid Events API v2 alert event."""
    assert set(body) <= EVENTS_V2_TOP, set(body) - EVENTS_V2_TOP
    assert isinstance(body["routing_key"], str)
    assert len(body["routing_key"]) == 32
    assert body["event_action"] in {"trigger", "acknowledge", "resolve"}
    assert isinstance(body["dedup_key"], str)
    assert 0 < len(body["dedup_key"]) <= 255
    if body["event_action"] == "trigger":
        payload = body["payload"]
        assert set(payload) <= EVENTS_V2_PAYLOAD, set(payload) - EVENTS_V2_PAYLOAD
        assert isinstance(payload["summary"], str)
        assert 0 < len(payload["summary"]) <= 1024
        assert isinstance(payload["source"], str)
        assert payload["source"]
        assert payload["severity"] in EVENTS_V2_SEVERITIES
        assert isinstance(payload.get("custom_details", {}), dict)
    else:
        # Acknowledge and resolve name the alert by dedup_key; a payload is only for triggers.
        assert "payload" not in body
    for link in body.get("links", []):
        assert set(link) <= {"href", "text"}
        assert link["href"].startswith(("http://", "https://"))
    assert not _CONTROL_CHARS.search(repr_strings(body))


def assert_slack_webhook(body: dict[str, Any]) -> None:
    """`body` is a valid incoming-webhook message whose user text cannot ping or link."""
    assert set(body) <= SLACK_TOP, set(body) - SLACK_TOP
    assert isinstance(body["text"], str)
    assert body["text"]
    texts = [body["text"]]
    for block in body.get("blocks", []):
        assert block["type"] in {"section", "context"}
        if block["type"] == "section":
            assert block["text"]["type"] == "mrkdwn"
            texts.append(block["text"]["text"])
        else:
            assert 0 < len(block["elements"]) <= 10
            for element in block["elements"]:
                assert element["type"] == "mrkdwn"
                texts.append(element["text"])
    for text in texts:
        assert len(text) <= SLACK_TEXT_LIMIT
        assert "<" not in _OWN_LINK.sub("", text), text
        assert ">" not in _OWN_LINK.sub("", text), text
        assert not _CONTROL_CHARS.search(text)


def repr_strings(value: Any) -> str:
    """Every string in a JSON value, joined, for searching."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(repr_strings(k) + "\n" + repr_strings(v) for k, v in value.items())
    if isinstance(value, list):
        return "\n".join(repr_strings(v) for v in value)
    return ""
