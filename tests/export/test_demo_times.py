"""The demo's text agrees with its own times, and its post-mortem tells the truth about them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

from warroom.config import ServerConfig
from warroom.demo import PlayedInClock, seed_demo
from warroom.demo_data import DEMO_LINKS
from warroom.domain.events import EntryAdded
from warroom.domain.timeline import EntryKind
from warroom.export.markdown import render_markdown
from warroom.node import start_node
from warroom.server.app import ServerSettings
from warroom.users import create_user

_CLOCK = re.compile(r"\b(\d{2}):(\d{2})\b")


async def test_every_time_the_demo_mentions_matches_its_events(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    config = ServerConfig(links=DEMO_LINKS)
    clock = PlayedInClock()
    settings = ServerSettings(port=0)
    async with await start_node(db, settings, clock=clock, timers=True, config=config) as server:
        token = await create_user(db, "you")
        incident_id = await seed_demo(server, db, "you", token, clock)
        state = server.hub.incident_state(incident_id)
        events = await server.store.load_events()
    assert state is not None
    inc = state.incident
    alerts = sorted(e.when for e in state.timeline if e.kind is EntryKind.ALERT)
    first_alert = alerts[0].astimezone(UTC)
    deploy = first_alert - timedelta(minutes=2)  # "errors began two minutes later"
    texts = [inc.summary, *(e.text for e in state.timeline if e.kind is not EntryKind.METRICS)]
    mentioned = [(text, m) for text in texts for m in _CLOCK.finditer(text)]
    assert len(mentioned) >= 3
    for text, match in mentioned:
        assert (int(match[1]), int(match[2])) == (deploy.hour, deploy.minute), text
        assert f"{match[0]} UTC" in text, "a wall time names its zone"
    assert first_alert < inc.declared_at.astimezone(UTC)

    log = [e for e in events if e.incident_id == incident_id]
    markdown = render_markdown(state, log, tz=UTC, generated_at=datetime.now(UTC))
    # The rollback is still running: nothing is mitigated yet, and no duration pretends so.
    assert "- **Time to mitigate:** _not yet_" in markdown
    assert "- **Time to resolve:** _not yet_" in markdown
    assert " 0 s" not in markdown
    took = inc.declared_at.astimezone(UTC) - first_alert
    assert f"- **Time to declare:** {int(took.total_seconds() // 60)} min" in markdown
    assert re.search(r"\*\*Duration:\*\* \d+ min from the first alert so far", markdown)


async def test_the_demo_is_played_in_over_minutes_so_a_replay_unfolds(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    clock = PlayedInClock()
    settings = ServerSettings(port=0)
    async with await start_node(db, settings, clock=clock, timers=True) as server:
        token = await create_user(db, "you")
        before = datetime.now(UTC)
        incident_id = await seed_demo(server, db, "you", token, clock)
        log = [e for e in await server.store.load_events() if e.incident_id == incident_id]
        after_seeding = clock()
    times = [e.at for e in log]
    assert all(a < b for a, b in pairwise(times)), "one event per moment"
    assert times[-1] - times[0] >= timedelta(minutes=10)
    assert times[-1] <= before + timedelta(seconds=60)
    # Each entry is filed when the story says it happened, or a moment after (alerts that fired
    # before the declaration are filed into it just after).
    for event in log:
        body = event.body
        if isinstance(body, EntryAdded) and body.occurred_at and body.kind is not EntryKind.ALERT:
            assert timedelta(0) <= event.at - body.occurred_at <= timedelta(seconds=30)
    # Once played in, the server keeps the wall clock.
    assert after_seeding >= before


async def test_the_demos_metrics_entry_was_read_when_it_was_pinned_not_later(
    tmp_path: Path,
) -> None:
    db = tmp_path / "demo.db"
    clock = PlayedInClock()
    async with await start_node(db, ServerSettings(port=0), clock=clock, timers=True) as server:
        token = await create_user(db, "you")
        incident_id = await seed_demo(server, db, "you", token, clock)
        state = server.hub.incident_state(incident_id)
    assert state is not None
    (pinned,) = [e for e in state.timeline if e.kind is EntryKind.METRICS]
    read = re.match(r"Metrics at (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) UTC", pinned.text)
    assert read is not None, pinned.text
    read_at = datetime.strptime(read[1], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    assert read_at == pinned.when.astimezone(UTC).replace(microsecond=0)
