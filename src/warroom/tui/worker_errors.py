"""What a failed worker shows: the one place that decides, whichever screen ran the worker.

`Worker.StateChanged` does not bubble, so the app and each screen that runs workers hand the
message to `report_failed_worker`.
"""

from __future__ import annotations

from textual.app import App
from textual.worker import Worker, WorkerState

from warroom.client.session import ClientError, CommandRefused
from warroom.tui.refusals import describe_refusal
from warroom.tui.safe_text import clean


def report_failed_worker(app: App[None], event: Worker.StateChanged) -> None:
    """Notify the user of a worker that ended in error; other state changes are ignored."""
    if event.state is not WorkerState.ERROR or event.worker.error is None:
        return
    error = event.worker.error
    if isinstance(error, CommandRefused):
        # The server said no and changed nothing (a request such as a pin or a dismissal).
        notice = describe_refusal(error.code, error.message)
        app.notify(notice.message, title=notice.title, severity="error", markup=False)
        return
    words = str(error) if isinstance(error, ClientError) else repr(error)
    app.notify(clean(words), title="Error", severity="error", markup=False)
