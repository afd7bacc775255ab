"""The triage view: alerts from the server's triage desk, declared or dismissed from the keyboard.

Alertmanager itself is exercised in tests/monitoring; here the desk is fed alert groups built by
hand, exactly as its poller would feed it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable, Input, Select

from warroom.client.session import WarroomClient
from warroom.config import AlertmanagerSettings, ServerConfig
from warroom.domain.severity import Severity
from warroom.domain.triage import TriageStatus
from warroom.monitoring.alertmanager import Alert, AlertGroup, AlertState, AlertStatus, Receiver
from warroom.tui.app import make_app
from warroom.tui.screens.main import MainScreen
from warroom.tui.screens.picker import PickerScreen
from warroom.tui.screens.prompt_dialog import PromptDialog
from warroom.tui.screens.triage import TriageScreen
from warroom.tui.screens.triage_declare_dialog import TriageDeclareDialog

from .conftest import Notice
from .harness import APP_NOW, T0, Warroom, settle, settle_refused, static_text, until

RUNBOOK = "https://runbooks.example.com/high-error-rate"


@pytest.fixture
def server_config() -> ServerConfig:
    """Alertmanager configured, so the server offers triage; the injected clock keeps it from
    being polled: the tests hand alerts to the triage desk themselves."""
    return ServerConfig(alertmanager=AlertmanagerSettings(url="http://127.0.0.1:9"))


def payments_group(
    fingerprint: str = "a1b2c3d4e5f60718",
    service: str = "payments",
    state: AlertState = AlertState.ACTIVE,
) -> AlertGroup:
    """A firing `HighErrorRate` group as Alertmanager lists it for the `warroom` receiver."""
    labels = {"alertname": "HighErrorRate", "service": service, "severity": "critical"}
    alert = Alert(
        fingerprint=fingerprint,
        labels=labels,
        annotations={
            "summary": f"High error rate on {service}",
            "description": "41% of requests fail. [b]not markup[/b]",
            "runbook_url": RUNBOOK,
        },
        startsAt=T0 - timedelta(minutes=3),
        endsAt=T0 + timedelta(hours=1),
        status=AlertStatus(state=state),
    )
    group_labels = {"alertname": "HighErrorRate", "service": service}
    return AlertGroup(labels=group_labels, receiver=Receiver(name="warroom"), alerts=[alert])


def statuses(client: WarroomClient) -> list[TriageStatus]:
    """The status of each item of the client's triage list (empty until it has one)."""
    return [item.status for item in client.triage.items] if client.triage else []


def rows(app: object, selector: str) -> list[list[str]]:
    table = app.screen.query_one(selector, DataTable)  # type: ignore[attr-defined]
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_an_alert_opens_a_triage_item_that_is_declared_as_an_incident(
    warroom: Warroom,
) -> None:
    alice = await warroom.client("alice")
    app = make_app(alice, clock=lambda: APP_NOW)
    async with app.run_test(size=(160, 44)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, PickerScreen)
        # The alert fires while the console is open: the picker says so at once.
        await warroom.server.integrations.triage.reconcile([payments_group()])
        await until(alice, lambda: statuses(alice) == [TriageStatus.OPEN])
        await settle(pilot)
        assert "⚑ 1 alert waits in triage (^l)" in static_text(app, "#picker-status")

        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, TriageScreen)
        assert static_text(app, "#triage-source").startswith("Alertmanager: OK as of 14:0")
        assert rows(app, "#triage-items") == [
            ["1", "SEV1", "HighErrorRate", "13:57", "23 min", "High error rate on payments"]
        ]
        detail = static_text(app, "#triage-detail")
        assert "HighErrorRate   proposed SEV1   1 of 1 alert firing" in detail
        assert "41% of requests fail. [b]not markup[/b]" in detail
        assert "labels   service=payments, severity=critical" in detail
        assert "started  2024-05-02 13:57 (23 min ago)" in detail
        assert f"runbook  {RUNBOOK}" in detail
        # The runbook is a terminal hyperlink (OSC 8).
        shown = app.screen.query_one("#triage-detail").content  # type: ignore[attr-defined]
        assert isinstance(shown, Text)
        links = [s.style.link for s in shown.spans if isinstance(s.style, Style) and s.style.link]
        assert links == [RUNBOOK]

        await pilot.press("d")
        dialog = app.screen
        assert isinstance(dialog, TriageDeclareDialog)
        assert dialog.query_one("#severity", Select).value is Severity.SEV1
        assert dialog.query_one("#title", Input).value == "High error rate on payments"
        dialog.query_one("#severity", Select).value = Severity.SEV2
        dialog.query_one("#title", Input).focus()
        await pilot.press("enter")
        await until(alice, lambda: any(alice.states))
        await settle(pilot)

        assert isinstance(app.screen, MainScreen)
        state = alice.states[app.screen.incident_id]
        assert state.incident.severity is Severity.SEV2
        assert state.roster.ic == "alice"
        assert state.incident.detection is not None
        assert state.incident.detection.triage_id == 1
        # The alert's summary follows the title, literally.
        assert static_text(app, "#header-title").endswith(
            "High error rate on payments  ·  41% of requests fail. [b]not markup[/b]"
        )
        await until(alice, lambda: statuses(alice) == [TriageStatus.DECLARED])

        # Back in the triage view the item is among the recent decisions.
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TriageScreen)
        assert rows(app, "#triage-items") == []
        assert rows(app, "#triage-recent-items")[0][2].startswith(
            f"declared as incident #{state.incident.id} by alice at"
        )
        assert not app.screen.check_action("declare_triage_item", ())
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_an_alert_alertmanager_has_not_processed_is_not_counted_as_firing(
    warroom: Warroom,
) -> None:
    alice = await warroom.client("alice")
    app = make_app(alice, clock=lambda: APP_NOW)
    received = payments_group(state=AlertState.UNPROCESSED)
    async with app.run_test(size=(160, 44)) as pilot:
        await settle(pilot)
        await warroom.server.integrations.triage.reconcile([received])
        await until(alice, lambda: statuses(alice) == [TriageStatus.OPEN])
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, TriageScreen)
        detail = static_text(app, "#triage-detail")
        assert "proposed SEV1   0 of 1 alert firing (1 unprocessed)" in detail

        # Once Alertmanager has processed it, it is firing.
        await warroom.server.integrations.triage.reconcile([payments_group()])

        def confirmed() -> bool:
            items = alice.triage.items if alice.triage else []
            return bool(items) and all(a.state == "firing" for a in items[0].alerts.values())

        await until(alice, confirmed)
        await settle(pilot)
        assert "proposed SEV1   1 of 1 alert firing\n" in static_text(app, "#triage-detail")


async def test_dismissing_asks_for_a_reason_and_the_list_follows_live(
    warroom: Warroom, incident: int
) -> None:
    desk = warroom.server.integrations.triage
    await desk.reconcile([payments_group()])
    app = await warroom.app("carol", incident)
    async with app.run_test(size=(160, 44)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert [r[2] for r in rows(app, "#triage-items")] == ["HighErrorRate"]

        # Another group fires while the view is open: it appears without any key.
        await desk.reconcile([payments_group(), payments_group("ffff000011112222", "ledger")])
        await until(app.client, lambda: len(statuses(app.client)) == 2)
        await settle(pilot)
        assert app.screen.query_one("#triage-open").border_title == "Open alerts · 2"

        await pilot.press("x")
        dialog = app.screen
        assert isinstance(dialog, PromptDialog)
        await pilot.press("enter")
        assert "Reason is needed" in str(dialog.error_line.content)
        dialog.query_one("#answer", Input).value = "flapping during the deploy"
        await pilot.press("enter")
        await until(app.client, lambda: TriageStatus.DISMISSED in statuses(app.client))
        await settle(pilot)
        assert len(rows(app, "#triage-items")) == 1
        decision = rows(app, "#triage-recent-items")[0][2]
        assert decision.startswith("dismissed by carol at")
        assert decision.endswith(": flapping during the deploy")


async def test_a_refused_dismissal_is_shown_and_changes_nothing(
    warroom: Warroom, incident: int, notices: list[Notice]
) -> None:
    desk = warroom.server.integrations.triage
    await desk.reconcile([payments_group()])
    app = await warroom.app("bob", incident)
    async with app.run_test(size=(160, 44)) as pilot:
        await settle(pilot)
        notices.clear()  # only what follows counts
        await pilot.press("t")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TriageScreen)
        # Dismissing an item that does not exist (or was decided meanwhile) is refused.
        screen.send_dismissal(99, "noise")
        await settle_refused(pilot)
        assert notices == [Notice("There is no such entry", "No triage item 99.", "error")]
        assert desk.items[1].status is TriageStatus.OPEN


@pytest.mark.parametrize("server_config", [ServerConfig()])
async def test_a_server_without_alertmanager_is_not_asked_for_triage(
    warroom: Warroom, incident: int
) -> None:
    """Its `welcome` names no triage feature: the keys are not offered, the view never opens."""
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(160, 44)) as pilot:
        await settle(pilot)
        assert "triage" not in app.client.features
        assert app.screen.check_action("show_triage", ()) is False
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        await pilot.press("ctrl+o")  # the incident list
        await settle(pilot)
        assert isinstance(app.screen, PickerScreen)
        assert app.screen.check_action("show_triage", ()) is False
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, PickerScreen)


async def test_a_failing_alertmanager_is_shown_and_never_blocks_the_view(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("erin", incident)
    async with app.run_test(size=(160, 44)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert static_text(app, "#triage-source") == "Alertmanager: waiting for the first poll"
        assert static_text(app, "#triage-detail") == "No alerts are waiting for triage."
        warroom.server.integrations.triage.source_failed("connect timeout")
        await until(app.client, lambda: app.client.triage is not None
                    and not app.client.triage.source.ok)  # fmt: skip
        await settle(pilot)
        source = static_text(app, "#triage-source")
        assert source.startswith("Alertmanager: UNAVAILABLE: connect timeout (as of 14:")
        assert app.screen.query_one("#triage-source").has_class("-down")
