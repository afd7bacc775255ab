"""The metrics pane: the server's snapshot with levels, trends and per-signal errors; pinning it;
adding and removing the incident's services."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.widgets import Input

from warroom.config import PrometheusSettings, ServerConfig
from warroom.domain.timeline import EntryKind
from warroom.monitoring.signals import Level, MetricsSnapshot, SignalReading, Unit
from warroom.protocol.frames import MetricsReport
from warroom.tui.app import WarroomApp
from warroom.tui.screens.service_dialog import AddServiceDialog, RemoveServiceDialog
from warroom.tui.widgets.metrics_pane import NO_SERVICES_HINT, NO_SNAPSHOT, MetricsPane

from .conftest import Notice
from .harness import T0, Warroom, settle, static_text, until, until_state


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def reading(signal: str, title: str, unit: Unit, level: Level, **fields: object) -> SignalReading:
    query = f'{signal}{{service="payments-api"}}'
    return SignalReading.model_validate(
        {"service": "payments-api", "signal": signal, "title": title, "unit": unit,
         "query": query, "level": level, **fields}
    )  # fmt: skip


def crafted_snapshot() -> MetricsSnapshot:
    """One service with a reading at every level, as the poller would push it."""
    trend: list[float | None] = [0.01 * n for n in range(31)]
    trend[3] = None
    readings = [
        reading("latency_p99", "Latency p99", Unit.SECONDS, Level.WARN, value=2.1, sparkline=trend),
        reading("error_rate", "Error rate", Unit.RATIO, Level.CRITICAL, value=0.41),
        reading("traffic", "Traffic", Unit.PER_SECOND, Level.OK, value=212.0),
        reading("latency_p50", "Latency p50", Unit.SECONDS, Level.NO_DATA),
        reading(
            "saturation",
            "CPU",
            Unit.CORES,
            Level.ERROR,
            error="bad_data: 1:5: parse error: unexpected <by>",
        ),
    ]
    return MetricsSnapshot(
        read_at=T0 + timedelta(minutes=19, seconds=30),
        window="5m",
        sparkline_start=T0 - timedelta(minutes=11),
        sparkline_step=timedelta(minutes=1),
        services=["payments-api"],
        readings=readings,
    )


def style_of(app: WarroomApp, needle: str) -> Style:
    """The style the metrics pane gives the first character of `needle`."""
    shown = app.screen.query_one("#metrics-text").content  # type: ignore[attr-defined]
    assert isinstance(shown, Text)
    at = shown.plain.index(needle)
    style = Style()
    for span in shown.spans:
        if span.start <= at < span.end and isinstance(span.style, Style):
            style += span.style
    return style


def theme_color(app: WarroomApp, variable: str) -> object:
    return Color.parse(app.theme_variables[variable]).rich_color


async def test_a_pushed_snapshot_shows_values_coloured_by_level_with_trends(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("carol", incident)
    async with app.run_test(size=(160, 44)) as pilot:
        await settle(pilot)
        assert static_text(app, "#metrics-text").startswith(NO_SNAPSHOT)
        snapshot = crafted_snapshot()
        warroom.server.integrations.metrics.latest[incident] = snapshot
        report = MetricsReport(incident_id=incident, snapshot=snapshot)
        warroom.server.hub.send_to_followers(incident, report.model_dump_json())
        await until(app.client, lambda: incident in app.client.metrics)
        await settle(pilot)

        lines = static_text(app, "#metrics-text").splitlines()
        assert lines[0] == "payments-api"
        assert lines[1].startswith(" Latency p99     2.1 s ▁")
        assert len(lines[1]) == len(" Latency p99     2.1 s ") + 15  # 31 points in 15 cells
        assert lines[2:] == [
            " Error rate       41 %",
            " Traffic         212/s",
            " Latency p50   no data",
            " CPU             error",
            # The error sits under its own signal, wrapped to the pane's width.
            "   ⚠ bad_data: 1:5: parse error:",
            "     unexpected <by>",
        ]
        pane = app.screen.query_one(MetricsPane)
        assert pane.border_subtitle == "read 14:19:30"
        assert style_of(app, "2.1 s").color == theme_color(app, "warning")
        assert style_of(app, "41 %").color == theme_color(app, "error")
        assert style_of(app, "212/s").color == theme_color(app, "success")
        assert style_of(app, "⚠ bad_data").color == theme_color(app, "error")


@pytest.mark.parametrize(
    "server_config",
    [ServerConfig(prometheus=PrometheusSettings(url=f"http://127.0.0.1:{unused_port()}"))],
)
async def test_an_unreachable_prometheus_shows_on_each_signal_and_pinning_still_works(
    warroom: Warroom, incident: int, notices: list[Notice]
) -> None:
    app = await warroom.app("dave", incident)
    async with app.run_test(size=(160, 44)) as pilot:
        # Opening the incident asks the server for a snapshot; every query fails to connect.
        await settle(pilot)
        notices.clear()  # only what follows counts
        lines = static_text(app, "#metrics-text").splitlines()
        assert lines[0] == "payments-api"
        assert " Latency p50     error" in lines
        errors = [line for line in lines if line.startswith("   ⚠ ")]
        assert len(errors) == 5
        assert all("connection" in line for line in errors)

        # The Scribe may write the timeline, so may pin the snapshot, errors and all.
        await pilot.press("m")
        await until_state(app.client, incident, lambda s: s.timeline[-1].kind is EntryKind.METRICS)
        await settle(pilot)
        pinned = app.client.states[incident].timeline[-1]
        assert pinned.author == "dave"
        assert "Errors:" in pinned.text
        assert notices == [
            Notice("Metrics pinned", "The current metrics are on the timeline.", "information")
        ]


async def test_pinning_is_not_offered_without_prometheus_nor_to_observers(
    warroom: Warroom, incident: int, notices: list[Notice]
) -> None:
    erin = await warroom.app("erin", incident)
    async with erin.run_test(size=(160, 44)) as pilot:
        await settle(pilot)
        assert erin.screen.check_action("pin_metrics", ()) is False
        assert erin.screen.check_action("add_service", ()) is False

    app = await warroom.app("alice", incident)
    async with app.run_test(size=(160, 44)) as pilot:
        await settle(pilot)
        notices.clear()  # only what follows counts
        # The server's welcome names no metrics feature: the IC is not offered pinning either,
        # and the key sends nothing (no refusal comes back to show).
        assert "metrics" not in app.client.features
        assert app.screen.check_action("pin_metrics", ()) is False
        seq = app.client.states[incident].seq
        await pilot.press("m")
        await settle(pilot)
        assert notices == []
        assert app.client.states[incident].seq == seq


async def test_a_tl_adds_and_removes_a_service(warroom: Warroom, incident: int) -> None:
    app = await warroom.app("carol", incident)
    async with app.run_test(size=(160, 44)) as pilot:
        await settle(pilot)
        assert not app.screen.check_action("remove_service", ())  # none listed yet
        await pilot.press("plus")
        dialog = app.screen
        assert isinstance(dialog, AddServiceDialog)
        dialog.query_one("#service", Input).value = "checkout"
        await pilot.press("enter")
        await until_state(app.client, incident, lambda s: s.incident.services == ["checkout"])
        await settle(pilot)
        shown = static_text(app, "#metrics-text")
        # No Prometheus on this server: the pane says so and lists what it would watch.
        assert shown.splitlines() == [
            NO_SNAPSHOT,
            "",
            "this server has no Prometheus configured",
            "",
            "checkout",
            "payments-api",
        ]
        assert app.screen.check_action("remove_service", ())

        await pilot.press("minus")
        assert isinstance(app.screen, RemoveServiceDialog)
        await pilot.click("#submit")
        await until_state(app.client, incident, lambda s: not s.incident.services)
        await settle(pilot)
        assert "Service checkout removed" in app.client.states[incident].timeline[-1].text


async def test_an_incident_without_services_hints_at_adding_one(
    warroom: Warroom, incident: int
) -> None:
    from warroom.client.session import new_id
    from warroom.domain.commands import DeclareIncident
    from warroom.domain.severity import Severity

    alice = await warroom.client("alice")
    ack = await alice.execute(
        DeclareIncident(id=new_id(), title="Search slow", severity=Severity.SEV3)
    )
    app = await warroom.app("alice", ack.incident_id)
    async with app.run_test(size=(160, 44)) as pilot:
        await settle(pilot)
        shown = static_text(app, "#metrics-text").splitlines()
        assert shown == [NO_SNAPSHOT, "", *NO_SERVICES_HINT.splitlines()]
        # The pane never wraps: every line of the hint fits it whole.
        pane = app.screen.query_one(MetricsPane)
        assert max(len(line) for line in shown) <= pane.scrollable_content_region.width
