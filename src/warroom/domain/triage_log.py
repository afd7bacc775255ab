"""The triage log: the triage desk's own sequenced, durable record of decisions people made on
triage items (today: dismissals), with who, when, why and the command that did it.

Declaring an item is recorded in the incident it becomes (`IncidentDeclared.detection`); what
happens to an item without becoming an incident is recorded here, so it has an audit trail too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from warroom.domain.triage import TriageItem, TriageStatus

TRIAGE_LOG = 0
"""The stream id acknowledgements of triage commands carry where incident writes carry theirs."""


class TriageDismissed(BaseModel):
    """A person dismissed a triage item as noise."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["triage_dismissed"] = "triage_dismissed"
    triage_id: int
    reason: str


class TriageRecord(BaseModel):
    """One committed entry of the triage log."""

    model_config = ConfigDict(frozen=True)

    seq: int
    """Gap-free, starting at 1."""
    at: datetime
    actor: str
    command_id: str
    body: TriageDismissed


def apply_triage_record(item: TriageItem, record: TriageRecord) -> TriageItem:
    """The item after `record`; the item is not changed in place."""
    return item.model_copy(
        update={
            "status": TriageStatus.DISMISSED,
            "decided_by": record.actor,
            "decided_at": record.at,
            "dismiss_reason": record.body.reason,
            "dismiss_request": record.command_id,
        }
    )
