"""Investigation links: trace and log links for an entry's Correlation-ID, dashboard links for
the services, as terminal hyperlinks that can be copied; unsafe URLs are never offered."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rich.style import Style
from rich.text import Text

from tests.domain.factories import Log
from warroom.config import ServerConfig
from warroom.domain.events import EntryAdded
from warroom.domain.links import ServiceLinks
from warroom.domain.timeline import EntryKind
from warroom.tui.links import dashboard_links, entry_links, safe_url
from warroom.tui.screens.entry_detail import EntryDetailScreen
from warroom.tui.screens.links_dialog import LinksDialog
from warroom.tui.widgets.link_list import LinkList
from warroom.tui.widgets.timeline_view import TimelineView

from .harness import Warroom, settle

LINKS = {
    "payments-api": ServiceLinks(
        dashboard="https://grafana.example.com/d/pay?var-service={service}&from={from}&to={to}",
        traces="https://traces.example.com/search?cid={correlation_id}",
        logs="https://logs.example.com/q?cid={correlation_id}&service={service}",
    ),
    "default": ServiceLinks(dashboard="https://grafana.example.com/d/all"),
}
CONFIG = ServerConfig(links=LINKS)


def link_urls(text: Text) -> list[str]:
    return [s.style.link for s in text.spans if isinstance(s.style, Style) and s.style.link]


@pytest.mark.parametrize("server_config", [CONFIG])
async def test_an_entry_with_a_correlation_id_offers_trace_and_log_links_to_copy(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("erin", incident)
    async with app.run_test(size=(160, 44)) as pilot:
        await settle(pilot)
        view = app.screen.query_one(TimelineView)
        entries = app.client.states[incident].timeline
        view.cursor = next(n for n, e in enumerate(entries) if e.correlation_id == "req-8f3a")
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, EntryDetailScreen)
        links = detail.query_one(LinkList)
        assert links.has_focus
        traces = "https://traces.example.com/search?cid=req-8f3a"
        logs = "https://logs.example.com/q?cid=req-8f3a&service=payments-api"
        assert [(item.label, item.url) for item in links.items] == [
            ("traces · payments-api", traces),
            ("logs · payments-api", logs),
        ]
        prompt = links.get_option_at_index(0).prompt
        assert isinstance(prompt, Text)
        assert link_urls(prompt) == [traces]  # an OSC 8 hyperlink

        await pilot.press("down", "c")
        assert app.clipboard == logs

        await pilot.press("escape")
        assert not isinstance(app.screen, EntryDetailScreen)
        # An entry without a Correlation-ID has no such links.
        view.cursor = 0
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, EntryDetailScreen)
        assert not app.screen.query(LinkList)


@pytest.mark.parametrize("server_config", [CONFIG])
async def test_services_offer_their_dashboards(warroom: Warroom, incident: int) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(160, 44)) as pilot:
        await settle(pilot)
        shown = app.screen.query_one("#metrics-text").content  # type: ignore[attr-defined]
        assert isinstance(shown, Text)
        assert "payments-api  ↗ dashboard" in shown.plain
        declared = app.client.states[incident].incident.declared_at
        assert declared == datetime(2024, 5, 2, 14, 0, 2, tzinfo=UTC)
        # From half an hour before the declaration to the app clock's next minute.
        dashboard = (
            "https://grafana.example.com/d/pay?var-service=payments-api"
            "&from=2024-05-02T13%3A30%3A02%2B00%3A00&to=2024-05-02T14%3A21%3A00%2B00%3A00"
        )
        assert link_urls(shown) == [dashboard]

        await pilot.press("l")
        dialog = app.screen
        assert isinstance(dialog, LinksDialog)
        assert [item.url for item in dialog.query_one(LinkList).items] == [dashboard]
        await pilot.press("c")
        assert app.clipboard == dashboard


async def test_without_templates_there_are_no_links(warroom: Warroom, incident: int) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(160, 44)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        assert isinstance(app.screen, LinksDialog)
        assert not app.screen.query(LinkList)


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://grafana.example.com/d/x?from=1", True),
        ("http://logs.internal:8080/q", True),
        ("javascript:alert(1)", False),
        ("file:///etc/passwd", False),
        ("https://evil.example.com/\x1b]8;;\x07", False),
        ("https://a.example.com/ b", False),
        ("https:///no-host", False),
        ("", False),
    ],
)
def test_only_plain_web_links_become_hyperlinks(url: str, safe: bool) -> None:
    assert (safe_url(url) == url) is safe


def test_times_out_of_range_give_links_without_a_time_window_instead_of_crashing() -> None:
    """A damaged store or a hostile server can hold a declaration or an entry in year 1: the
    metrics pane and the links dialog subtracted the lead from it and raised OverflowError."""
    log = Log()
    log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text="trace", correlation_id="req-1"))
    state = log.state
    year_one = datetime(1, 1, 1, tzinfo=UTC)
    state.incident.declared_at = year_one
    entry = state.timeline[-1]
    entry.occurred_at = year_one
    templates = {
        "default": ServiceLinks(
            dashboard="https://grafana.example.com/d/all?from={from_ms}&to={to_ms}",
            traces="https://traces.example.com/search?cid={correlation_id}&from={from}",
        )
    }
    now = datetime(2026, 11, 30, tzinfo=UTC)
    assert dashboard_links(state, templates, now) == {
        "payments-api": "https://grafana.example.com/d/all?from=&to=1795996860000"
    }
    assert [item.url for item in entry_links(entry, state, templates)] == [
        "https://traces.example.com/search?cid=req-1&from="
    ]
