"""The Scribe line: one input that turns `/kind 14:02 text cid:ID` into a timeline entry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from textual import on
from textual.message import Message
from textual.reactive import Reactive, reactive
from textual.widgets import Input

from warroom.domain.errors import DomainError
from warroom.domain.incident import IncidentState
from warroom.domain.limits import MAX_ENTRY_TEXT
from warroom.domain.permissions import Permission, allows
from warroom.domain.time_window import before_declaration, check_occurred_at
from warroom.domain.timeline import EntryKind
from warroom.tui.commands_table import Scope, bindings_for
from warroom.tui.entry_syntax import EntrySyntaxError, ParsedEntry, parse_entry
from warroom.tui.screens.backdate_dialog import BackdateDialog, placed_words

PLACEHOLDER = (
    "Write to the timeline: /decision /action /todo /status · 14:02 back-dates · "
    "cid:ID · @name · Enter posts"
)
READ_ONLY_PLACEHOLDER = "Observers read the timeline; the IC can give you a role."
UNFOCUSED_PLACEHOLDER = "Write to the timeline (press {key}): /decision /action /todo /status"
"""While the line does not have focus, typed letters are the incident screen's keys (`c`, `e`,
`s`, `p`...): the line says which key to press first, so a sentence typed at it does not open
dialog after dialog."""


class ScribeInput(Input):
    """Typing here is never blocked by the network: Enter hands the entry to the client's outbox
    and clears the line at once."""

    BINDINGS = bindings_for(Scope.SCRIBE)

    @dataclass
    class EntryRequested(Message):
        """A line parsed into an entry the user's role may post."""

        entry: ParsedEntry

    state: Reactive[IncidentState | None] = reactive(None, always_update=True)
    """The incident written to; its roster decides whether this user may write."""
    me: Reactive[str | None] = reactive(None)
    """The user this console is signed in as."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        # The domain's limit plus room for the prefix, time and cid: the parser checks the text.
        super().__init__(placeholder=PLACEHOLDER, id="scribe", max_length=MAX_ENTRY_TEXT + 200)
        self._clock = clock
        self._unfocused: str | None = None

    def _roles_allow(self, permission: Permission) -> bool:
        state, me = self.state, self.me
        return (
            state is not None and me is not None and allows(state.roster.roles_of(me), permission)
        )

    def watch_state(self) -> None:
        self._offer_writing()

    def watch_me(self) -> None:
        self._offer_writing()

    def on_mount(self) -> None:
        self._offer_writing()

    def on_focus(self) -> None:
        # Handlers run before Textual's own sets `has_focus`: say which way focus went.
        self._offer_writing(focused=True)

    def on_blur(self) -> None:
        self._offer_writing(focused=False)

    def _offer_writing(self, focused: bool | None = None) -> None:
        may_write = self._roles_allow(Permission.WRITE_TIMELINE)
        self.disabled = not may_write
        if not may_write:
            self.placeholder = READ_ONLY_PLACEHOLDER
        elif self.has_focus if focused is None else focused:
            self.placeholder = PLACEHOLDER
        else:
            self.placeholder = self._unfocused_placeholder()

    def _unfocused_placeholder(self) -> str:
        """The placeholder naming the key that focuses this line, as the footer shows it (after
        the user's keymap); looked up once, not on every incident update."""
        if self._unfocused is None and self.is_attached:
            for active in self.screen.active_bindings.values():
                if active.binding.action == "focus_scribe_input":
                    key = self.app.get_key_display(active.binding)
                    self._unfocused = UNFOCUSED_PLACEHOLDER.format(key=key)
                    break
        return self._unfocused or PLACEHOLDER

    @on(Input.Submitted)
    def post_line(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            return
        now = self._clock()
        try:
            entry = parse_entry(event.value, now)
        except EntrySyntaxError as exc:
            self.notify(str(exc), title="Not posted", severity="warning", markup=False)
            return  # the line stays as typed, to fix and resend
        if entry.kind is EntryKind.STATUS and not self._roles_allow(Permission.POST_STATUS):
            self.notify(
                "Only the IC and the CL post status updates; post it as a note or ask them.",
                title="Not posted",
                severity="warning",
                markup=False,
            )
            return
        if entry.occurred_at is not None and self.state is not None:
            self._post_backdated(entry, self.state.incident.declared_at, now)
            return
        self._post(entry)

    def _post_backdated(self, entry: ParsedEntry, declared_at: datetime, now: datetime) -> None:
        """The server's window refuses what it would refuse, at once; a time before the
        declaration, which it takes, is asked about first (both rules: `time_window`)."""
        assert entry.occurred_at is not None
        try:
            check_occurred_at(entry.occurred_at, declared_at, now)
        except DomainError as exc:
            self.notify(exc.message, title="Not posted", severity="warning", markup=False)
            return
        before = before_declaration(entry.occurred_at, declared_at)
        if before is None:
            self._post(entry)
            return

        def post_if_confirmed(confirmed: bool | None) -> None:
            if confirmed:
                assert entry.occurred_at is not None
                self._post(entry)
                words = placed_words(entry.occurred_at, declared_at, before, now.tzinfo)
                self.notify(words, title="Back-dated entry", markup=False)

        dialog = BackdateDialog(entry.occurred_at, declared_at, before, now.tzinfo)
        self.app.push_screen(dialog, post_if_confirmed)

    def _post(self, entry: ParsedEntry) -> None:
        self.post_message(self.EntryRequested(entry))
        self.value = ""

    def action_leave_scribe_input(self) -> None:
        self.screen.query_one("#timeline-view").focus()
