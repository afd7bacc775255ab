"""Tests for the JSON and HTML status page: only approved updates, and nothing runnable."""

from __future__ import annotations

import json
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from tests.status_page.incidents import CL, IC, T0, IncidentLog
from warroom.domain.communications import PublicState
from warroom.domain.events import EntryAdded, StatusUpdatePosted
from warroom.domain.severity import Severity
from warroom.domain.timeline import EntryKind
from warroom.status_page import PublicStatus, build_public_status, render_html, render_json

NOW = T0 + timedelta(hours=2)

ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "header", "section", "article",
    "h1", "h2", "h3", "p", "span", "time", "ol", "li",
}  # fmt: skip
"""Every element the page may contain; anything else means user text became markup."""


class _Elements(HTMLParser):
    """Collects every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def elements(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(page)
    parser.close()
    return parser.tags


def outputs(*logs: IncidentLog) -> tuple[str, str]:
    status = build_public_status([log.state() for log in logs], generated_at=NOW)
    return render_json(status), render_html(status)


def test_an_approved_update_appears_in_json_and_html() -> None:
    log = IncidentLog(42, "internal")
    approved = log.publish(
        "Card payments are failing for some customers.",
        title="Card payments failing",
        state=PublicState.IDENTIFIED,
        components=["payments"],
    )

    as_json, as_html = outputs(log)

    document = json.loads(as_json)
    assert document["status"] == "major_outage"
    [incident] = document["incidents"]
    assert incident["id"] == 42
    assert incident["title"] == "Card payments failing"
    assert incident["state"] == "identified"
    assert incident["components"] == ["payments"]
    assert incident["updates"] == [
        {
            "text": "Card payments are failing for some customers.",
            "state": "identified",
            "components": ["payments"],
            "published_at": "2024-05-01T14:02:00Z",
        }
    ]
    assert PublicStatus.model_validate_json(as_json).incidents[0].updates[0].published_at == (
        log.at(approved)
    )
    assert "Card payments are failing for some customers." in as_html
    assert "<h3>Card payments failing</h3>" in as_html
    assert "Identified" in as_html
    assert "Affected: payments" in as_html
    assert '<time datetime="2024-05-01T14:02:00+00:00">2024-05-01 14:02 UTC</time>' in as_html
    assert "Major outage" in as_html


def test_nothing_but_approved_updates_reaches_either_output() -> None:
    log = IncidentLog(1, "INTERNAL-TITLE db-3 OOM", summary="INTERNAL-SUMMARY")
    log.add(EntryAdded(kind=EntryKind.NOTE, text="INTERNAL-NOTE suspect deploy 1234"))
    log.add(StatusUpdatePosted(status="INTERNAL-STATUS", impact="INTERNAL-IMPACT"), actor=CL)
    log.draft("PENDING-TEXT", title="PENDING-TITLE", components=["PENDING-COMPONENT"])
    rejected = log.draft("REJECTED-TEXT", title="REJECTED-TITLE", components=["REJECTED-COMP"])
    log.reject(rejected, comment="REJECT-COMMENT")
    log.publish("APPROVED-TEXT", title="APPROVED-TITLE", components=["api"])

    for output in outputs(log):
        assert "APPROVED-TEXT" in output
        assert "APPROVED-TITLE" in output
        for secret in (
            "INTERNAL-TITLE",
            "INTERNAL-SUMMARY",
            "INTERNAL-NOTE",
            "INTERNAL-STATUS",
            "INTERNAL-IMPACT",
            "PENDING-",
            "REJECTED-",
            "REJECT-COMMENT",
            "#incident-",  # the channel name
            IC,
            CL,  # who drafted and who approved
        ):
            assert secret not in output


def test_an_incident_with_nothing_approved_leaves_no_trace() -> None:
    secret = IncidentLog(9, "SECRET-TITLE credential leak", summary="SECRET-SUMMARY")
    secret.draft("SECRET-PENDING", title="SECRET-DRAFT-TITLE", components=["vault"])
    secret.reject(secret.draft("SECRET-REJECTED", title="SECRET-REJECTED-TITLE"))
    other = IncidentLog(2, "internal", Severity.SEV3)
    other.publish("visible")

    as_json, as_html = outputs(secret, other)

    assert [i["id"] for i in json.loads(as_json)["incidents"]] == [2]
    for output in (as_json, as_html):
        assert "SECRET" not in output
        assert "vault" not in output
    # Its SEV1 severity does not leak through the overall status either.
    assert json.loads(as_json)["status"] == "degraded"


def test_no_incidents_render_an_operational_page() -> None:
    as_json, as_html = outputs()

    assert json.loads(as_json) == {
        "generated_at": "2024-05-01T16:00:00Z",
        "status": "operational",
        "incidents": [],
    }
    assert "All systems operational" in as_html
    assert "No active incidents." in as_html
    assert "Past incidents" not in as_html


def test_resolved_incidents_are_listed_as_past() -> None:
    log = IncidentLog(1, "internal", Severity.SEV2)
    log.publish("Looking into it.")
    log.publish("All fixed.", state=PublicState.RESOLVED)

    _, as_html = outputs(log)

    active, past = as_html.split("<h2>Past incidents</h2>")
    assert "No active incidents." in active
    assert "All fixed." in past
    assert "Looking into it." in past
    assert past.index("All fixed.") < past.index("Looking into it.")


HOSTILE_TITLE = '<script>alert("title")</script>'
HOSTILE_TEXT = (
    '"><img src=x onerror=alert(1)> </p></li><script>alert(2)</script>'
    "\x1b[31mred\x1b[0m \x1b]8;;http://evil.example\x07link \u202eevil & done"
)
HOSTILE_COMPONENT = "<style>body{display:none}</style>"


@pytest.fixture
def hostile_page() -> str:
    log = IncidentLog(1, "internal")
    log.publish(HOSTILE_TEXT, title=HOSTILE_TITLE, components=[HOSTILE_COMPONENT])
    return outputs(log)[1]


def test_hostile_text_is_escaped(hostile_page: str) -> None:
    assert "<script" not in hostile_page.lower()
    assert "<img" not in hostile_page
    assert "\x1b" not in hostile_page
    assert "\x07" not in hostile_page
    assert "\u202e" not in hostile_page
    assert "&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt;" in hostile_page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in hostile_page
    # Terminal escapes are shown as visible stand-ins rather than removed.
    assert "\u241b[31mred" in hostile_page
    assert "&amp; done" in hostile_page
    assert "&lt;style&gt;body{display:none}&lt;/style&gt;" in hostile_page


def test_hostile_text_adds_no_elements_or_attributes(hostile_page: str) -> None:
    found = elements(hostile_page)

    assert {tag for tag, _ in found} <= ALLOWED_TAGS
    assert [tag for tag, _ in found].count("style") == 1
    for _, attrs in found:
        assert not {"src", "href"} & attrs.keys()
        assert not [name for name in attrs if name.startswith("on")]


def test_the_page_is_self_contained_and_forbids_scripts(hostile_page: str) -> None:
    [policy] = [
        attrs["content"]
        for tag, attrs in elements(hostile_page)
        if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy"
    ]
    assert policy is not None
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert "script-src" not in directives  # so scripts fall back to default-src 'none'
    assert "<link" not in hostile_page
    assert "@import" not in hostile_page
    assert "url(" not in hostile_page


def test_hostile_text_stays_data_in_json() -> None:
    log = IncidentLog(1, "internal")
    log.publish(HOSTILE_TEXT, title=HOSTILE_TITLE, components=[HOSTILE_COMPONENT])

    as_json, _ = outputs(log)

    [incident] = json.loads(as_json)["incidents"]
    assert incident["title"] == HOSTILE_TITLE
    assert incident["updates"][0]["text"] == HOSTILE_TEXT
    assert incident["components"] == [HOSTILE_COMPONENT]


def test_the_page_title_is_escaped_too() -> None:
    status = build_public_status([], generated_at=NOW)

    page = render_html(status, title="Acme <b>status</b>")

    assert "<title>Acme &lt;b&gt;status&lt;/b&gt;</title>" in page
    assert "<h1>Acme &lt;b&gt;status&lt;/b&gt;</h1>" in page
