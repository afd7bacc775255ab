"""The one table of user actions: key bindings, footer, command palette and role gating.

Every binding in the TUI is built from a row here, so the footer, the palette and the keymap
(`App.set_keymap({binding_id: key})`) cannot drift apart. Whether a row is offered to the user
is decided by `is_offered`, which asks the domain's permission matrix, never a copy of it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from textual.binding import Binding, BindingType
from textual.dom import DOMNode

from warroom.domain.incident import IncidentState
from warroom.domain.permissions import Permission, allows
from warroom.domain.rules import may_change_entry
from warroom.domain.timeline import TimelineEntry
from warroom.protocol.frames import Feature


class Scope(StrEnum):
    """Which part of the screen handles a command; its bindings live on that widget."""

    APP = "app"
    """Anywhere in the console, on every screen (except while typing in a text field)."""
    MAIN = "main"
    """The incident screen as a whole: active wherever focus is, except in text inputs."""
    TIMELINE = "timeline"
    CHECKLIST = "checklist"
    SCRIBE = "scribe"
    SEARCH = "search"
    """The timeline's search box."""
    PICKER = "picker"
    TRIAGE = "triage"
    """The triage view: open alerts to declare or dismiss."""
    COMMS = "comms"
    """The communications view: public drafts and the IC's decisions."""
    LINKS = "links"
    """A list of investigation links (entry details, dashboards)."""
    ENTRY = "entry"
    """The detail view of one timeline entry: amending and striking it."""
    DIALOG = "dialog"
    PROJECTOR = "projector"
    """The big-room view (severity, clock, roles, latest entries, checklist, large)."""
    REPLAY = "replay"
    """The replay of an incident, read-only, as it stood after any event."""


class Gate(StrEnum):
    """Conditions beyond the permission matrix, read from the incident state."""

    NONE = "none"
    IC_OFFER_TO_ME = "ic_offer_to_me"
    """Someone offered me the IC role (anyone may accept or decline an offer made to them)."""
    IC_OFFER_PENDING = "ic_offer_pending"
    INCIDENT_OPEN = "incident_open"
    """The incident is still being worked (declared, investigating or mitigating)."""
    INCIDENT_CLOSED = "incident_closed"
    """The incident is resolved (or past its post-mortem): ready for the review."""
    HAS_SERVICES = "has_services"
    """The incident lists at least one service."""
    ENTRY_EDITABLE = "entry_editable"
    """The entry shown may still be changed, and by me: I wrote it or may edit any entry."""


@dataclass(frozen=True)
class CommandSpec:
    """One user action."""

    binding_id: str
    """Stable id users remap in their keymap, e.g. `{"severity.change": "ctrl+s"}`."""
    key: str
    action: str
    """Action name on the scope's widget (`change_severity` runs `action_change_severity`)."""
    title: str
    """Short text for the footer and the palette."""
    help: str
    """One sentence for the tooltip and the palette's help line."""
    scope: Scope
    permission: Permission | None = None
    gate: Gate = Gate.NONE
    show: bool = True
    """Shown in the footer."""
    in_palette: bool = True
    key_display: str | None = None
    feature: Feature | None = None
    """What the server must offer (its `welcome.features`) for this command to be offered."""
    priority: bool = False
    """Checked before the focused widget and through open dialogs (Textual's modal screens
    otherwise hide the app's keys)."""


COMMANDS: tuple[CommandSpec, ...] = (
    # --- anywhere -----------------------------------------------------------------------------
    CommandSpec("app.help", "question_mark,f1", "show_help", "Help",
                "List every key of the console and what it does", Scope.APP,
                key_display="?"),
    CommandSpec("app.quit", "q", "quit", "Quit",
                "Quit the console (unsent entries are kept and sent next time)", Scope.APP,
                key_display="q", in_palette=False),  # Textual's "Quit" is in the palette
    CommandSpec("app.quit-anywhere", "ctrl+q", "quit", "Quit",
                "Quit the console, even while typing or with a dialog open", Scope.APP,
                show=False, in_palette=False, priority=True),
    # --- the incident screen ------------------------------------------------------------------
    CommandSpec("scribe.focus", "i", "focus_scribe_input", "Write",
                "Jump to the Scribe line to post a timeline entry", Scope.MAIN,
                Permission.WRITE_TIMELINE),
    CommandSpec("timeline.search", "slash", "focus_timeline_search", "Search",
                "Search the timeline by text, author or Correlation-ID", Scope.MAIN,
                show=False, key_display="/"),
    CommandSpec("timeline.filter", "f", "focus_timeline_filter", "Filter",
                "Show only one kind of timeline entry", Scope.MAIN, show=False),
    CommandSpec("panes.side", "b", "toggle_side_panes", "Side panes",
                "Show or hide the side column (severity, roles, metrics)", Scope.MAIN,
                show=False),
    CommandSpec("severity.change", "s", "change_severity", "Severity",
                "Change the incident's severity, with a reason for the timeline", Scope.MAIN,
                Permission.CHANGE_SEVERITY),
    CommandSpec("phase.change", "p", "change_phase", "Phase",
                "Move the incident to its next phase (investigating, mitigating, resolved...)",
                Scope.MAIN, Permission.CHANGE_PHASE),
    CommandSpec("roster.assign", "a", "assign_role", "Assign",
                "Name the Communications Lead, a Technical Lead or the Scribe", Scope.MAIN,
                Permission.ASSIGN_ROLES),
    CommandSpec("ic.offer", "h", "offer_ic_handoff", "Hand off IC",
                "Offer the Incident Commander role to someone; it moves when they accept",
                Scope.MAIN, Permission.ASSIGN_ROLES, show=False),
    CommandSpec("ic.withdraw", "w", "withdraw_ic_offer", "Withdraw offer",
                "Withdraw the pending IC handoff offer", Scope.MAIN,
                Permission.ASSIGN_ROLES, Gate.IC_OFFER_PENDING),
    CommandSpec("ic.accept", "y", "accept_ic_role", "Accept IC",
                "Accept the Incident Commander role offered to you", Scope.MAIN,
                gate=Gate.IC_OFFER_TO_ME),
    CommandSpec("ic.decline", "n", "decline_ic_role", "Decline IC",
                "Decline the Incident Commander role offered to you", Scope.MAIN,
                gate=Gate.IC_OFFER_TO_ME),
    CommandSpec("incident.switch", "ctrl+o", "switch_incident", "Incidents",
                "Open another incident from the list", Scope.MAIN, show=False),
    CommandSpec("incident.declare", "ctrl+n", "declare_incident", "Declare",
                "Declare a new incident", Scope.MAIN, show=False),
    CommandSpec("theme.change", "ctrl+t", "app.change_theme", "Theme",
                "Pick a colour theme (dark, light, high contrast...)", Scope.MAIN, show=False,
                # Textual's own "Theme" command is in the palette already.
                in_palette=False),
    CommandSpec("view.projector", "v", "show_projector", "Big room",
                "Show severity, update clock, roles, latest entries and checklist large, for a "
                "projector or a shared screen", Scope.MAIN, show=False),
    CommandSpec("triage.show", "t", "show_triage", "Triage",
                "Open the triage view: alerts waiting to be declared or dismissed", Scope.MAIN,
                show=False, feature=Feature.TRIAGE),
    # --- investigation ------------------------------------------------------------------------
    CommandSpec("metrics.pin", "m", "pin_metrics", "Pin metrics",
                "Write the current metrics snapshot (values and queries) into the timeline",
                Scope.MAIN, Permission.WRITE_TIMELINE, feature=Feature.METRICS),
    CommandSpec("service.add", "plus", "add_service", "Add service",
                "Add a service the incident touches; its metrics are watched", Scope.MAIN,
                Permission.EDIT_SERVICES, show=False, key_display="+"),
    CommandSpec("service.remove", "minus", "remove_service", "Remove service",
                "Remove a service from the incident", Scope.MAIN, Permission.EDIT_SERVICES,
                Gate.HAS_SERVICES, show=False, key_display="-"),
    CommandSpec("links.show", "l", "show_links", "Links",
                "List the services' dashboard links to open or copy", Scope.MAIN, show=False),
    # --- communications and resolution --------------------------------------------------------
    CommandSpec("comms.internal", "u", "post_internal_update", "Update",
                "Post the internal status update (status, impact, actions, next update)",
                Scope.MAIN, Permission.POST_STATUS),
    CommandSpec("comms.public", "e", "draft_public_update", "Public",
                "Draft a public status-page update for the IC to approve", Scope.MAIN,
                Permission.DRAFT_EXTERNAL),
    CommandSpec("comms.show", "c", "show_comms", "Comms",
                "Open the communications view: public drafts, approvals, update clock",
                Scope.MAIN),
    CommandSpec("incident.resolve", "ctrl+r", "resolve_incident", "Resolve",
                "Resolve the incident once user-facing impact is gone (post-mortem due in 48 h)",
                Scope.MAIN, Permission.CHANGE_PHASE, Gate.INCIDENT_OPEN),
    CommandSpec("incident.export", "ctrl+e", "export_postmortem", "Export",
                "Write the post-mortem draft (Markdown and HTML) to a file", Scope.MAIN,
                show=False),
    CommandSpec("incident.replay", "R", "replay_incident", "Replay",
                "Replay the resolved incident read-only, event by event, for the review",
                Scope.MAIN, gate=Gate.INCIDENT_CLOSED),
    # --- timeline -----------------------------------------------------------------------------
    CommandSpec("timeline.follow", "end", "follow_timeline", "Follow",
                "Jump to the newest entry and keep following new ones", Scope.TIMELINE),
    CommandSpec("timeline.show", "enter", "show_timeline_entry", "Details",
                "Show the whole entry under the cursor with its history", Scope.TIMELINE,
                show=False),
    CommandSpec("timeline.up", "up,k", "cursor_up", "Up", "Previous entry", Scope.TIMELINE,
                show=False, in_palette=False, key_display="↑/k"),
    CommandSpec("timeline.down", "down,j", "cursor_down", "Down", "Next entry",
                Scope.TIMELINE, show=False, in_palette=False, key_display="↓/j"),
    CommandSpec("timeline.page-up", "pageup", "page_up", "Page up", "Scroll up a page",
                Scope.TIMELINE, show=False, in_palette=False),
    CommandSpec("timeline.page-down", "pagedown", "page_down", "Page down",
                "Scroll down a page", Scope.TIMELINE, show=False, in_palette=False),
    CommandSpec("timeline.first", "home", "first_entry", "First", "Jump to the first entry",
                Scope.TIMELINE, show=False, in_palette=False),
    # --- checklist ----------------------------------------------------------------------------
    CommandSpec("checklist.up", "k", "cursor_up", "Up", "Previous mitigation",
                Scope.CHECKLIST, show=False, in_palette=False, key_display="↑/k"),
    CommandSpec("checklist.down", "j", "cursor_down", "Down", "Next mitigation",
                Scope.CHECKLIST, show=False, in_palette=False, key_display="↓/j"),
    CommandSpec("checklist.advance", "space", "advance_checklist_item", "Advance",
                "Move the selected mitigation on: to do -> in progress -> done",
                Scope.CHECKLIST, Permission.CHANGE_CHECKLIST),
    CommandSpec("checklist.done", "d", "tick_checklist_item", "Done",
                "Mark the selected mitigation done", Scope.CHECKLIST,
                Permission.CHANGE_CHECKLIST),
    CommandSpec("checklist.reopen", "r", "reopen_checklist_item", "To do",
                "Put the selected mitigation back to do", Scope.CHECKLIST,
                Permission.CHANGE_CHECKLIST),
    CommandSpec("checklist.skip", "x", "skip_checklist_item", "N/A",
                "Mark the selected mitigation not applicable", Scope.CHECKLIST,
                Permission.CHANGE_CHECKLIST),
    CommandSpec("checklist.add", "plus", "add_checklist_item", "Add item",
                "Add a mitigation of your own to the checklist", Scope.CHECKLIST,
                Permission.CHANGE_CHECKLIST, key_display="+"),
    CommandSpec("checklist.owner", "o", "set_checklist_item_owner", "Owner",
                "Name who owns the selected mitigation, or clear its owner", Scope.CHECKLIST,
                Permission.CHANGE_CHECKLIST),
    # --- Scribe line --------------------------------------------------------------------------
    CommandSpec("scribe.leave", "escape", "leave_scribe_input", "Leave",
                "Leave the Scribe line (what you typed stays)", Scope.SCRIBE,
                in_palette=False),
    # --- timeline search box ------------------------------------------------------------------
    CommandSpec("search.leave", "escape", "leave_timeline_search", "Leave",
                "Back to the timeline (the search stays applied)", Scope.SEARCH,
                in_palette=False),
    # --- incident picker ----------------------------------------------------------------------
    CommandSpec("picker.declare", "ctrl+n", "focus_declare_form", "Declare",
                "Fill in the form to declare a new incident", Scope.PICKER),
    CommandSpec("picker.refresh", "ctrl+r", "refresh_incidents", "Refresh",
                "Reload the list of incidents", Scope.PICKER),
    CommandSpec("picker.close", "escape", "close_picker", "Back",
                "Go back to the open incident", Scope.PICKER),
    CommandSpec("picker.triage", "ctrl+l", "show_triage", "Triage",
                "Open the triage view: alerts waiting to be declared or dismissed",
                Scope.PICKER, feature=Feature.TRIAGE),
    # --- triage view --------------------------------------------------------------------------
    CommandSpec("triage.declare", "d", "declare_triage_item", "Declare",
                "Declare the selected alert as an incident; you become its IC", Scope.TRIAGE),
    CommandSpec("triage.dismiss", "x", "dismiss_triage_item", "Dismiss",
                "Dismiss the selected alert as noise, with a reason", Scope.TRIAGE),
    CommandSpec("triage.close", "escape", "close_triage", "Back",
                "Leave the triage view", Scope.TRIAGE),
    # --- communications view ------------------------------------------------------------------
    CommandSpec("comms-view.approve", "a", "approve_public_update", "Approve",
                "Approve the selected public update: once you confirm, it is published",
                Scope.COMMS, Permission.APPROVE_EXTERNAL),
    CommandSpec("comms-view.reject", "r", "reject_public_update", "Send back",
                "Send the selected public update back to its author with a comment",
                Scope.COMMS, Permission.APPROVE_EXTERNAL),
    CommandSpec("comms-view.public", "e", "draft_public_update", "Public",
                "Draft a public status-page update for the IC to approve", Scope.COMMS,
                Permission.DRAFT_EXTERNAL),
    CommandSpec("comms-view.internal", "u", "post_internal_update", "Update",
                "Post the internal status update (status, impact, actions, next update)",
                Scope.COMMS, Permission.POST_STATUS),
    CommandSpec("comms-view.close", "escape", "close_comms", "Back",
                "Go back to the incident screen", Scope.COMMS),
    # --- link lists ---------------------------------------------------------------------------
    CommandSpec("links.copy", "c", "copy_link", "Copy link",
                "Copy the highlighted link to the clipboard", Scope.LINKS),
    # --- entry detail -------------------------------------------------------------------------
    CommandSpec("entry.amend", "e", "amend_entry", "Amend",
                "Rewrite this entry; the earlier wording stays in its history", Scope.ENTRY,
                gate=Gate.ENTRY_EDITABLE),
    CommandSpec("entry.strike", "x", "strike_entry", "Strike",
                "Strike this entry through with a reason; it is never deleted", Scope.ENTRY,
                gate=Gate.ENTRY_EDITABLE),
    # --- big-room view ------------------------------------------------------------------------
    CommandSpec("projector.close", "escape", "close_projector", "Back",
                "Leave the big-room view", Scope.PROJECTOR),
    # --- replay -------------------------------------------------------------------------------
    CommandSpec("replay.forward", "right,l", "step_forward", "Step",
                "One event forward", Scope.REPLAY, key_display="→"),
    CommandSpec("replay.back", "left,h", "step_back", "Back",
                "One event back", Scope.REPLAY, key_display="←"),
    CommandSpec("replay.minute-forward", "right_square_bracket", "minute_forward", "+1 min",
                "Jump a minute of incident time forward", Scope.REPLAY, key_display="]"),
    CommandSpec("replay.minute-back", "left_square_bracket", "minute_back", "-1 min",
                "Jump a minute of incident time back", Scope.REPLAY, key_display="["),
    CommandSpec("replay.next-severity", "s", "next_severity_change", "Next SEV",
                "Jump to the next severity change", Scope.REPLAY),
    CommandSpec("replay.previous-severity", "S", "previous_severity_change", "Prev SEV",
                "Jump to the previous severity change", Scope.REPLAY, show=False),
    CommandSpec("replay.next-phase", "p", "next_phase_change", "Next phase",
                "Jump to the next phase change", Scope.REPLAY, show=False),
    CommandSpec("replay.previous-phase", "P", "previous_phase_change", "Prev phase",
                "Jump to the previous phase change", Scope.REPLAY, show=False),
    CommandSpec("replay.next-role", "r", "next_role_change", "Next role",
                "Jump to the next role change (assigned, taken away, IC handed over)",
                Scope.REPLAY, show=False),
    CommandSpec("replay.previous-role", "R", "previous_role_change", "Prev role",
                "Jump to the previous role change", Scope.REPLAY, show=False),
    CommandSpec("replay.play", "space", "toggle_play", "Play/pause",
                "Play the incident at its own pace, sped up, or pause it", Scope.REPLAY),
    CommandSpec("replay.speed", "x", "toggle_speed", "10x/60x",
                "Play at 10x or 60x real time", Scope.REPLAY),
    CommandSpec("replay.first", "home", "first_event", "Start",
                "Jump to the declaration", Scope.REPLAY, show=False),
    CommandSpec("replay.last", "end", "last_event", "End",
                "Jump to the last event: the incident as it stands", Scope.REPLAY, show=False),
    CommandSpec("replay.close", "escape", "close_replay", "Leave",
                "Leave the replay", Scope.REPLAY),
    # --- dialogs ------------------------------------------------------------------------------
    CommandSpec("dialog.cancel", "escape", "cancel_dialog", "Cancel",
                "Close the dialog without changing anything", Scope.DIALOG, in_palette=False),
    # Priority: taken in the order typed, before the next key is handed to a field. Textual's
    # own Tab moved focus only once the key had passed through the field, so what was typed
    # right after it (a fast typist, a busy console) still went into the field left behind.
    CommandSpec("dialog.next-field", "tab", "focus_next_field", "Next field",
                "Move to the next field; what is typed after Tab goes there", Scope.DIALOG,
                show=False, in_palette=False, priority=True),
    CommandSpec("dialog.previous-field", "shift+tab", "focus_previous_field", "Previous field",
                "Move to the previous field", Scope.DIALOG, show=False, in_palette=False,
                priority=True),
)  # fmt: skip
"""Every user action. Keys are defaults; `binding_id` is what a keymap refers to."""


def commands_in(scope: Scope) -> tuple[CommandSpec, ...]:
    return tuple(spec for spec in COMMANDS if spec.scope is scope)


def bindings_for(scope: Scope) -> list[BindingType]:
    """The `BINDINGS` of the widget that handles `scope`."""
    return [
        Binding(
            spec.key,
            spec.action,
            spec.title,
            show=spec.show,
            key_display=spec.key_display,
            tooltip=spec.help,
            id=spec.binding_id,
            priority=spec.priority,
        )
        for spec in commands_in(scope)
    ]


def command_for(scope: Scope, action: str) -> CommandSpec | None:
    """The row behind `action` in `scope`, or None for actions that are not user commands."""
    return next((s for s in COMMANDS if s.scope is scope and s.action == action), None)


def is_offered(
    spec: CommandSpec,
    state: IncidentState | None,
    user: str | None,
    entry: TimelineEntry | None = None,
) -> bool:
    """Whether `user` may be offered `spec` in the incident as it stands.

    Commands without a permission or gate are always offered; the others need a loaded incident
    and a known user, because until then nobody can say what the user's roles are.

    Args:
        spec: The command.
        state: The incident, or None while it loads.
        user: Who is signed in, or None until the server said.
        entry: The timeline entry the command acts on, for commands of `Scope.ENTRY`.
    """
    if spec.permission is None and spec.gate is Gate.NONE:
        return True
    if state is None or user is None:
        return False
    roster = state.roster
    if spec.permission is not None and not allows(roster.roles_of(user), spec.permission):
        return False
    if spec.gate is Gate.IC_OFFER_TO_ME:
        return roster.ic_offer is not None and roster.ic_offer.to_user == user
    if spec.gate is Gate.IC_OFFER_PENDING:
        return roster.ic_offer is not None
    if spec.gate is Gate.INCIDENT_OPEN:
        return state.incident.phase.is_open
    if spec.gate is Gate.INCIDENT_CLOSED:
        return not state.incident.phase.is_open
    if spec.gate is Gate.HAS_SERVICES:
        return bool(state.incident.services)
    if spec.gate is Gate.ENTRY_EDITABLE:
        return entry is not None and may_change_entry(entry, user, roster.roles_of(user))
    return True


def server_offers(spec: CommandSpec, features: Collection[Feature]) -> bool:
    """Whether the server offers what `spec` needs: a console never sends a triage or metrics
    frame to a server whose `welcome` did not name that feature."""
    return spec.feature is None or spec.feature in features


BINDING_IDS: frozenset[str] = frozenset(spec.binding_id for spec in COMMANDS)
"""Every id a keymap may name; the launcher can warn about unknown ones in a user's config."""


def bound_keys(node: DOMNode, binding_id: str) -> frozenset[str]:
    """The keys `binding_id` is bound to, after the user's keymap (as Textual names keys)."""
    keymap: dict[str, str] = getattr(node.app, "_keymap", {})
    spec = next(spec for spec in COMMANDS if spec.binding_id == binding_id)
    return frozenset(key.strip() for key in keymap.get(binding_id, spec.key).split(","))


def key_hint(node: DOMNode, binding_id: str) -> str:
    """The key for `binding_id` on `node`'s screen as the footer shows it, after the user's
    keymap; for sentences such as "press u to post one"."""
    for active in node.screen.active_bindings.values():
        if active.binding.id == binding_id:
            return node.app.get_key_display(active.binding)
    spec = next(spec for spec in COMMANDS if spec.binding_id == binding_id)
    return spec.key_display or spec.key
