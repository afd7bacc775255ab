"""An event that does not fit the state is refused by the projection before it changes anything."""

from __future__ import annotations

import pytest

from tests.domain.factories import Log
from warroom.domain.events import (
    ChecklistItemChanged,
    EntryAmended,
    EntryStruck,
    EventBody,
    ExternalApproved,
    ExternalRejected,
    IncidentDeclared,
    RoleAssigned,
    RoleUnassigned,
    ServiceRemoved,
)
from warroom.domain.projection import ProjectionError
from warroom.domain.roles import Role
from warroom.domain.severity import Severity

MISFITS: list[EventBody] = [
    RoleUnassigned(role=Role.IC, user="ic"),
    RoleAssigned(role=Role.IC, user="cl"),
    EntryAmended(entry_id=999, text="x"),
    EntryStruck(entry_id=999),
    ServiceRemoved(service="nowhere"),
    ChecklistItemChanged(item_id=999, state="done", previous="todo"),
    ExternalApproved(draft_id=999),
    ExternalRejected(draft_id=999, comment="no"),
    IncidentDeclared(title="again", severity=Severity.SEV1, channel="#x", checklist=[]),
]


@pytest.mark.parametrize("body", MISFITS, ids=lambda b: b.type)
def test_an_event_that_does_not_fit_leaves_the_state_exactly_as_it_was(body: EventBody) -> None:
    log = Log()
    before = log.state.model_dump_json()
    with pytest.raises(ProjectionError):
        log.add("ic", body)
    assert log.state.model_dump_json() == before
