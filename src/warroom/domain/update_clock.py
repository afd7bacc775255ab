"""The internal-update clock: when the CL's next status update is owed and when it is overdue.

Plan section 6 asks for an internal update every 15 minutes for a SEV1 and every 30-60 minutes
for a SEV2; a SEV3 owes none. The cadence per level comes from the severity table
(`SeverityPolicy.internal_update_every`), with the length configurable through `UpdateCadence`.

The clock rule:

    due = (the latest of: the declaration, the last internal status update,
           the last severity change, the last reopening) + cadence(current severity)

  except when the clock last restarted at a status update that named the next update's time
  ("Next update: 14:45"): the CL's chosen time is then the deadline, within the plan's bounds for
  the severity (never later than 15 minutes after a SEV1 update, 60 after a SEV2 one; a time at
  or before the update itself names no deadline, and the cadence applies).

* An internal status update is a timeline entry of kind `status` that has not been struck. Its
  recorded `at` counts, not a back-dated `occurred_at`: the clock is about when people were told,
  and a struck entry told them something wrong, so it restarts nothing.
* A severity change restarts the clock at the new level's cadence. After SEV2 -> SEV1 the next
  update is owed 15 minutes after the escalation (or after a later update), never "already
  overdue" the moment the level changes: the change itself lands on the timeline as news, and a
  reminder fired in the same second as the escalation would only be noise. After SEV1 -> SEV2 the
  longer cadence runs from the change, so a de-escalation cannot make an update due sooner.
* Resolved incidents (and those past their post-mortem) owe nothing. Reopening a resolved
  incident restarts the clock at the reopening, for the same reason as a severity change.
* The deadline is reached at `due` itself: at `now >= due` the update is overdue.

Everything here is pure: the caller passes the state and `now`; nothing reads a clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

from pydantic import BaseModel, ConfigDict, Field

from warroom.domain.incident import IncidentState
from warroom.domain.instants import in_range
from warroom.domain.phase import Phase
from warroom.domain.severity import Severity

OVERDUE_REMINDER_TEXT = "Internal update overdue"
"""Opening words of the system entry the server writes when a deadline passes unmet."""


class UpdateCadence(BaseModel):
    """How often internal updates are owed per severity; the deployment may tune it within the plan.

    The plan says "every 15 minutes for a SEV-1, and every 30-60 minutes for a SEV-2"; values
    outside those bounds are refused when the configuration loads rather than silently clamped.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    sev1_minutes: int = Field(default=15, ge=1, le=15)
    """SEV1 cadence. 15 is the plan's upper bound; a shorter one is stricter and still allowed."""
    sev2_minutes: int = Field(default=30, ge=30, le=60)
    """SEV2 cadence, which the plan lets a team choose between 30 and 60 minutes."""

    def every(self, severity: Severity) -> timedelta | None:
        """The cadence for `severity`, or None where the severity table asks for no updates."""
        # The table decides whether a level owes updates at all; this model only sets how often.
        if severity.policy.internal_update_every is None:
            return None
        if severity is Severity.SEV1:
            return timedelta(minutes=self.sev1_minutes)
        if severity is Severity.SEV2:
            return timedelta(minutes=self.sev2_minutes)
        return severity.policy.internal_update_every


PLAN_LONGEST: dict[Severity, timedelta] = {
    Severity.SEV1: timedelta(minutes=15),
    Severity.SEV2: timedelta(minutes=60),
}
"""The longest wait the plan allows between internal updates per severity (section 6)."""


def longest_next_update(severity: Severity) -> timedelta | None:
    """How far ahead a status update may name the next one for `severity`: a later time is held
    to this bound (`next_update_due`). None where the plan sets no bound (a SEV3 owes none)."""
    return PLAN_LONGEST.get(severity)


DEFAULT_CADENCE = UpdateCadence()
"""The severity table's own cadence: SEV1 15 minutes, SEV2 30 minutes, SEV3 none."""


class UpdateClockStatus(BaseModel):
    """Where the internal-update clock stands at one moment."""

    model_config = ConfigDict(frozen=True)

    since: datetime
    """When the clock last restarted (declaration, status update, severity change or reopening)."""
    every: timedelta | None
    """The cadence in force; None when no update is owed."""
    due_at: datetime | None
    """When the next internal update is owed; None when no update is owed."""
    remaining: timedelta | None
    """`due_at - now`; negative once overdue, so it also says how late the update is."""
    overdue: bool
    """True from `due_at` on until an update, severity change or resolution restarts the clock."""


def clock_started_at(state: IncidentState) -> datetime:
    """When the clock last restarted: the latest declaration, status update, severity change or
    reopening."""
    starts = [state.incident.declared_at]
    if state.last_status_at is not None:
        starts.append(state.last_status_at)
    starts.extend(change.at for change in state.severity_history)
    starts.extend(
        later.at
        for earlier, later in pairwise(state.phase_history)
        if earlier.phase is Phase.RESOLVED and later.phase is Phase.INVESTIGATING
    )
    return max(starts)


def next_update_due(
    state: IncidentState, cadence: UpdateCadence = DEFAULT_CADENCE
) -> datetime | None:
    """When the next internal update is owed, or None for a SEV3 or a resolved incident."""
    if not state.incident.phase.is_open:
        return None
    severity = state.incident.severity
    every = cadence.every(severity)
    if every is None:
        return None
    started = clock_started_at(state)
    chosen = promised_update_at(state)
    if chosen is not None:
        return min(chosen, started + (longest_next_update(severity) or every))
    return started + every


def promised_update_at(state: IncidentState) -> datetime | None:
    """The next update's time the CL chose in the update that last restarted the clock, if any."""
    promised, posted = state.next_update_promised, state.last_status_at
    if promised is None or posted is None or posted != clock_started_at(state):
        return None
    return promised if in_range(promised) and promised > posted else None


def update_status(
    state: IncidentState, now: datetime, cadence: UpdateCadence = DEFAULT_CADENCE
) -> UpdateClockStatus:
    """The clock as the CL's pane shows it at `now`."""
    due_at = next_update_due(state, cadence)
    if due_at is None:
        return UpdateClockStatus(
            since=clock_started_at(state), every=None, due_at=None, remaining=None, overdue=False
        )
    return UpdateClockStatus(
        since=clock_started_at(state),
        every=cadence.every(state.incident.severity),
        due_at=due_at,
        remaining=due_at - now,
        overdue=now >= due_at,
    )


def missed_deadline_to_remind(
    state: IncidentState,
    now: datetime,
    already_reminded_for: datetime | None,
    cadence: UpdateCadence = DEFAULT_CADENCE,
) -> datetime | None:
    """The missed deadline the server should write an "internal update overdue" entry for, if any.

    The server keeps the returned deadline and passes it back as `already_reminded_for`; that is
    what makes the reminder fire exactly once per missed deadline. A deadline at or before the one
    already reminded about is never reminded again, so striking the latest status update (which
    moves the deadline back) cannot repeat an old reminder.

    Args:
        state: The incident as projected now.
        now: The server's current time.
        already_reminded_for: The deadline of the last reminder written for this incident.
        cadence: The deployment's cadence configuration.

    Returns:
        The deadline to remind about and remember, or None when nothing should be written.
    """
    due_at = next_update_due(state, cadence)
    if due_at is None or now < due_at:
        return None
    if already_reminded_for is not None and due_at <= already_reminded_for:
        return None
    return due_at


def overdue_reminder_text(
    state: IncidentState, due_at: datetime, cadence: UpdateCadence = DEFAULT_CADENCE
) -> str:
    """The text of the reminder entry: "Internal update overdue: SEV1 update was due at 14:15 UTC
    (every 15 min)"."""
    severity = state.incident.severity
    every = cadence.every(severity)
    minutes = f" (every {int(every.total_seconds() // 60)} min)" if every is not None else ""
    if promised_update_at(state) == due_at:
        minutes = " (the time the last update promised)"
    elif promised_update_at(state) is not None:
        longest = PLAN_LONGEST.get(severity)
        if longest is not None:
            minutes = f" (the plan's longest wait, {int(longest.total_seconds() // 60)} min)"
    when = f"{due_at:%H:%M %Z}".rstrip()
    return f"{OVERDUE_REMINDER_TEXT}: {severity.label} update was due at {when}{minutes}"
