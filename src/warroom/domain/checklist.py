"""The mitigation checklist: the plan's standard mitigations plus the team's own items."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel


class ItemState(StrEnum):
    """Progress of one mitigation."""

    TODO = "todo"
    IN_PROGRESS = "in-progress"
    DONE = "done"
    NOT_APPLICABLE = "n/a"


PLAN_MITIGATIONS: tuple[str, ...] = (
    "Roll back the last deployment for the failing service",
    "Manually scale up a service",
    "Enable a circuit breaker to isolate the failing service",
    "Fail over to a different AWS region/AZ",
)
"""Plan section 5, step 5: every incident's checklist starts with these."""


class ChecklistItem(BaseModel):
    """One mitigation with its state and who last changed it."""

    id: int
    title: str
    state: ItemState = ItemState.TODO
    owner: str | None = None
    custom: bool = False
    changed_by: str | None = None
    changed_at: datetime | None = None
