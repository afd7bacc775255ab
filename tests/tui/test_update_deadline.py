"""The header's update clock counts down to the time the CL chose, as the timeline says."""

from __future__ import annotations

from datetime import timedelta

from warroom.client.session import new_id
from warroom.domain.commands import PostStatusUpdate
from warroom.domain.timeline import EntryKind

from .harness import APP_NOW, Warroom, settle, static_text, until_state


async def test_the_header_counts_down_to_the_next_update_the_cl_promised(
    warroom: Warroom, incident: int
) -> None:
    bob = await warroom.client("bob")  # the CL
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        warroom.clock.jump_to(APP_NOW - timedelta(seconds=1))  # the server posts it "now"
        # `warroom update --internal … --next 1`
        await bob.execute(
            PostStatusUpdate(
                id=new_id(), incident_id=incident, status="rolling back",
                next_update_at=APP_NOW + timedelta(minutes=1),
            )
        )  # fmt: skip
        await until_state(app.client, incident, lambda s: s.timeline[-1].kind is EntryKind.STATUS)
        await settle(pilot)
        assert app.client.states[incident].timeline[-1].text.endswith("Next update: 14:21 UTC")
        assert static_text(app, "#header-update") == "next update in 01:00"
