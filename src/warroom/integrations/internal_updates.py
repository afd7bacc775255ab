"""Internal status updates go to the `#incidents` Slack channel, the plan's source of truth."""

from __future__ import annotations

from warroom.domain.events import EntryAdded, Event, StatusUpdatePosted
from warroom.domain.incident import IncidentState
from warroom.domain.timeline import EntryKind
from warroom.integrations.mobilization import outcome_text
from warroom.integrations.tasks import TaskSet
from warroom.notify.slack import SlackNotifier, escape_mrkdwn, slack_message
from warroom.server.sequencer import Sequencer


def status_message(state: IncidentState, text: str, author: str) -> dict[str, object]:
    inc = state.incident
    headline = (
        f"*{inc.severity.label} update:* {escape_mrkdwn(inc.title)} (#{inc.id}, "
        f"{escape_mrkdwn(inc.channel)}) from {escape_mrkdwn(author)}"
    )
    return slack_message(f"{headline}\n{escape_mrkdwn(text)}")


class InternalUpdates:
    """Sends every internal status update to Slack and notes the outcome on the timeline."""

    def __init__(self, hub: Sequencer, tasks: TaskSet, slack: SlackNotifier) -> None:
        self._hub = hub
        self._tasks = tasks
        self._slack = slack
        hub.add_observer(self.on_events_committed)

    def on_events_committed(self, events: list[Event]) -> None:
        for event in events:
            body = event.body
            is_status = isinstance(body, StatusUpdatePosted) or (
                isinstance(body, EntryAdded) and body.kind is EntryKind.STATUS
            )
            if is_status:
                self._tasks.spawn(self._send(event), f"slack update #{event.incident_id}")

    async def _send(self, event: Event) -> None:
        state = self._hub.incident_state(event.incident_id)
        entry = state.entry(event.seq) if state is not None else None
        if state is None or entry is None:
            return
        outcome = await self._slack.post(
            status_message(state, entry.text, event.actor), target="slack #incidents"
        )
        text = outcome_text(f"Internal update {event.seq} sent to #incidents", outcome)
        await self._hub.record(event.incident_id, EntryAdded(kind=EntryKind.SYSTEM, text=text))
