"""The severity pane: the incident's summary, the level with what the plan says about it, and
the last change's reason."""

from __future__ import annotations

from datetime import tzinfo

from rich.text import Text
from textual.reactive import Reactive, reactive

from warroom.domain.incident import IncidentState
from warroom.domain.severity import NotificationRoute
from warroom.tui.safe_text import clean
from warroom.tui.severity_colors import show_severity_class
from warroom.tui.time_format import clock_time
from warroom.tui.widgets.quiet_static import QuietStatic

ROUTE_TEXT = {
    NotificationRoute.PAGE_ON_CALL: "PagerDuty alert to the on-call rotation",
    NotificationRoute.NOTIFY_OWNING_TEAM: "Slack notification to the owning team's channel",
}
"""How each escalation route reads in the pane (plan section 3, "Response")."""


class SeverityPane(QuietStatic):
    """What the current severity means for the people on the call."""

    state: Reactive[IncidentState | None] = reactive(None, always_update=True, repaint=False)
    """The incident shown; None while it loads. No repaint of its own: a far jump or a burst
    sets it at every step, and `show` redraws only when the text changes."""

    def __init__(self, zone: tzinfo | None) -> None:
        super().__init__(id="severity-pane", classes="pane")
        self.border_title = "Severity"
        self._zone = zone

    def watch_state(self, state: IncidentState | None) -> None:
        show_severity_class(self, state.incident.severity if state is not None else None)
        self.show(self._describe(state) if state is not None else Text("…"))

    def _describe(self, state: IncidentState) -> Text:
        severity = state.incident.severity
        policy = severity.policy
        text = Text()
        summary = clean(state.incident.summary, keep_newlines=True)
        if summary:
            # All of it: the header's line cuts it short on a narrow terminal.
            text.append("What is wrong: ", style="bold")
            text.append(f"{summary}\n\n", style="italic")
        text.append(f" {severity.label} ", style="bold reverse")
        text.append(f" {policy.title}\n", style="bold")
        text.append(f"{policy.definition}\n\n")
        text.append("Response: ", style="bold")
        text.append(f"{policy.response}\n")
        text.append("Escalation: ", style="bold")
        text.append(f"{ROUTE_TEXT[policy.route]}\n")
        text.append("Internal updates: ", style="bold")
        every = policy.internal_update_every
        text.append(f"every {int(every.total_seconds() // 60)} min" if every else "none owed")
        if len(state.severity_history) > 1:
            change = state.severity_history[-1]
            text.append("\n\nSet ", style="dim")
            text.append(f"{clock_time(change.at, self._zone, seconds=False)} by ", style="dim")
            text.append(clean(change.by), style="dim")
            if change.reason:
                text.append(": ", style="dim")
                text.append(clean(change.reason), style="dim italic")
        return text
