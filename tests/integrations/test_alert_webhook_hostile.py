"""Alertmanager webhook bodies a careless or hostile sender might post: wrong types, times at the
calendar's ends, a resolve before its start, markup and escape codes; each is refused or taken
without crashing, and `warroom triage` shows the stored text inert."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integrations.test_alert_webhook import AUTH, alert, notification
from tests.support.cli import warroom
from warroom.node import WarroomNode
from warroom.server.http_endpoints import WEBHOOK_PATH
from warroom.users import create_user


@pytest.mark.parametrize(
    "change",
    [
        {"startsAt": "0001-01-01T00:00:00+14:00"},
        {"startsAt": "9999-12-31T23:59:59-12:00"},
        {"startsAt": "0001-01-01T00:00:00Z", "endsAt": "9999-12-31T23:59:59Z"},
    ],
)
async def test_alert_times_at_the_calendars_ends_crash_nothing(
    node: WarroomNode, http: httpx.AsyncClient, db_path: Path, change: dict[str, Any]
) -> None:
    response = await http.post(
        WEBHOOK_PATH, json=notification({**alert("dd01"), **change}), headers=AUTH
    )
    assert response.status_code in (200, 400, 422)
    healthy = await http.get("/healthz")
    assert healthy.status_code == 200
    token = await create_user(db_path, "oncall")
    for args in (["triage"], ["triage", "--all"]):
        listed = await warroom(*args, server=node, token=token)
        assert "Traceback" not in listed.err, listed.err


@pytest.mark.parametrize(
    "change",
    [
        {"labels": {"alertname": 5}},
        {"labels": ["alertname"]},
        {"startsAt": 17},
        {"status": None},
    ],
)
async def test_wrong_json_types_in_an_alert_are_refused_and_change_nothing(
    node: WarroomNode, http: httpx.AsyncClient, change: dict[str, Any]
) -> None:
    response = await http.post(
        WEBHOOK_PATH, json=notification({**alert("ee01"), **change}), headers=AUTH
    )
    assert response.status_code == 400
    assert node.integrations.triage.items == {}


async def test_alerts_that_are_not_a_list_are_refused(
    node: WarroomNode, http: httpx.AsyncClient
) -> None:
    body = {**notification(), "alerts": {"0": alert("ff01")}}
    response = await http.post(WEBHOOK_PATH, json=body, headers=AUTH)
    assert response.status_code == 400
    assert node.integrations.triage.items == {}


async def test_markup_and_escape_codes_in_labels_stay_inert_in_triage_output(
    node: WarroomNode, http: httpx.AsyncClient, db_path: Path
) -> None:
    hostile = "\x1b]0;pwned\x07[bold red]X[/bold red]\x1b[2J"
    body = notification(alert("ab01", alertname=hostile, service=hostile))
    response = await http.post(WEBHOOK_PATH, json=body, headers=AUTH)
    assert response.status_code == 200
    token = await create_user(db_path, "oncall")
    listed = await warroom("triage", "--all", server=node, token=token)
    assert listed.code == 0, listed.err
    assert "\x1b" not in listed.out
    assert "\x07" not in listed.out
    assert "[bold red]X[/bold red]" in listed.out
