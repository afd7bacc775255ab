"""The role roster: who holds IC, CL, TL and Scribe, who is online, observers, IC handoffs."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import Reactive, reactive

from warroom.domain.incident import IncidentState
from warroom.domain.roles import Role, Roster
from warroom.tui.safe_text import clean
from warroom.tui.widgets.quiet_static import QuietStatic

ONLINE = "●"
OFFLINE = "○"
_LABEL_WIDTH = 10


class RosterPane(QuietStatic):
    """The people on the call and the roles they hold."""

    state: Reactive[IncidentState | None] = reactive(None, always_update=True, repaint=False)
    """The incident shown; None while it loads. These three repaint nothing themselves: every
    step sets the state, and `show` redraws only when the text changes."""
    online: Reactive[frozenset[str]] = reactive(frozenset(), repaint=False)
    """Users connected to this incident right now (from the server's presence frames)."""
    me: Reactive[str | None] = reactive(None, repaint=False)
    """The user this console is signed in as."""

    def __init__(self) -> None:
        super().__init__(id="roster-pane", classes="pane")
        self.border_title = "Roles"

    def watch_state(self) -> None:
        self._show_roster()

    def watch_online(self) -> None:
        self._show_roster()

    def watch_me(self) -> None:
        self._show_roster()

    def _show_roster(self) -> None:
        state = self.state
        if state is None:
            self.show(Text("…"))
            return
        roster = state.roster
        text = Text()
        self._role_line(text, "IC", [roster.ic])
        self._role_line(text, "CL", roster.holders(Role.CL))
        for user, service in roster.tls.items():
            self._role_line(text, "TL", [user], service)
        if not roster.tls:
            self._role_line(text, "TL", [])
        self._role_line(text, "Scribe", roster.holders(Role.SCRIBE))
        observers = sorted(u for u in self.online if roster.roles_of(u) == {Role.OBSERVER})
        text.append("Observers".ljust(_LABEL_WIDTH), style="bold")
        if observers:
            for index, user in enumerate(observers):
                text.append(", " if index else "")
                self._append_name(text, user)
        else:
            text.append("none online", style="dim")
        self._offer_line(text, roster)
        self.show(text)

    def _role_line(
        self, text: Text, label: str, users: list[str], service: str | None = None
    ) -> None:
        text.append(label.ljust(_LABEL_WIDTH), style="bold")
        if not users:
            text.append("unassigned", style="dim italic")
        for index, user in enumerate(users):
            text.append(", " if index else "")
            self._append_name(text, user)
        if service:
            text.append(" (")
            text.append(clean(service), style="italic")
            text.append(")")
        text.append("\n")

    def _append_name(self, text: Text, user: str) -> None:
        online = user in self.online
        text.append(f"{ONLINE if online else OFFLINE} ", style="bold" if online else "dim")
        text.append(clean(user), style="bold" if user == self.me else "")
        if user == self.me:
            # Bold alone did not tell a Scribe joining at 3 a.m. which line was theirs.
            text.append(" (you)", style="dim")

    def _offer_line(self, text: Text, roster: Roster) -> None:
        offer = roster.ic_offer
        if offer is None:
            return
        text.append("\n\nIC handoff: ", style="bold reverse")
        text.append(" ")
        text.append(clean(offer.by))
        text.append(" → ")
        text.append(clean(offer.to_user), style="bold")
        if offer.to_user == self.me:
            text.append("\nOffered to you: Accept IC or Decline IC (footer).", style="bold")
        elif roster.ic == self.me:
            text.append("\nWaiting for them to accept; you may withdraw it.", style="italic")
        else:
            text.append("\nWaiting for them to accept.", style="italic")
