"""The workflow phase of an incident and which moves between phases the plan allows."""

from enum import StrEnum


class Phase(StrEnum):
    """Where the incident stands in the plan's workflow (section 5)."""

    DECLARED = "declared"
    INVESTIGATING = "investigating"
    MITIGATING = "mitigating"
    RESOLVED = "resolved"
    """User-facing impact is gone; the post-mortem is pending until it is marked done."""
    POSTMORTEM_DONE = "postmortem_done"

    @property
    def is_open(self) -> bool:
        """True while the war room is still working the incident."""
        return self in {Phase.DECLARED, Phase.INVESTIGATING, Phase.MITIGATING}


PHASE_TRANSITIONS: dict[Phase, frozenset[Phase]] = {
    Phase.DECLARED: frozenset({Phase.INVESTIGATING, Phase.MITIGATING, Phase.RESOLVED}),
    Phase.INVESTIGATING: frozenset({Phase.MITIGATING, Phase.RESOLVED}),
    # A mitigation that does not hold sends the team back to investigating.
    Phase.MITIGATING: frozenset({Phase.INVESTIGATING, Phase.RESOLVED}),
    # Reopening happens: the fix was not stable after all.
    Phase.RESOLVED: frozenset({Phase.INVESTIGATING, Phase.POSTMORTEM_DONE}),
    Phase.POSTMORTEM_DONE: frozenset(),
}
