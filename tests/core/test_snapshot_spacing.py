"""How often an incident is snapshotted: every `snapshot_every` events while it is young, then
once half of its events came after the last snapshot, so a snapshot's cost per event stays
the same however long the incident runs, and loading replays at most half of it."""

from __future__ import annotations

from typing import cast

from tests.domain.factories import Log
from warroom.domain.projection import replay
from warroom.server.incidents import IncidentCache, LoadedIncident, snapshot_gap
from warroom.store.base import EventStore


def test_the_gap_is_fixed_while_young_and_half_the_incident_after() -> None:
    assert snapshot_gap(10, 256) == 256
    assert snapshot_gap(512, 256) == 256
    assert snapshot_gap(1_024, 256) == 512
    assert snapshot_gap(4_000, 256) == 2_000
    assert snapshot_gap(100_000, 256) == 50_000


def test_a_long_incident_is_snapshotted_a_logarithmic_number_of_times() -> None:
    events = Log().events
    state = replay(events)
    # Staging and keeping what was committed never reach the store.
    cache = IncidentCache(cast(EventStore, object()), snapshot_every=16)
    record = LoadedIncident(state=state)
    cache.loaded[state.incident.id] = record
    snapshots: list[int] = []
    for seq in range(state.seq, 4_000):
        # Only the seq matters to the spacing: the same state stands in for a growing one.
        state.seq = seq
        staged = cache.stage([events[-1]])
        cache.committed(staged)
        snapshots.extend(s.seq for s in staged.snapshots)
        assert seq - record.stored_seq < snapshot_gap(seq, 16)
    assert 5 < len(snapshots) < 40  # a fixed gap of 16 would have written about 250
