"""The IC's form for naming someone to a role, or offering them the IC role."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import get_args

from pydantic import TypeAdapter, ValidationError
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Select

from warroom.domain.commands import AssignRole
from warroom.domain.limits import MAX_SERVICE, UserName
from warroom.domain.roles import Role
from warroom.tui.screens.dialog_base import FormDialog

_USER_NAME: TypeAdapter[str] = TypeAdapter(UserName)


def named_roles() -> tuple[Role, ...]:
    """The roles the IC names directly, as the domain's `AssignRole` command lists them; the IC
    role itself is there too, but moves only through an offer the receiver accepts."""
    roles = get_args(AssignRole.model_fields["role"].annotation)
    return tuple(role for role in roles if isinstance(role, Role) and role is not Role.IC)


@dataclass(frozen=True)
class RoleChoice:
    """Who gets which role (and, for a TL, which service they own)."""

    role: Role
    user: str
    service: str | None = None


class RoleDialog(FormDialog[RoleChoice]):
    """Name a CL, TL or Scribe; with `roles=(Role.IC,)` it offers an IC handoff instead."""

    def __init__(self, roles: tuple[Role, ...], known_users: Iterable[str]) -> None:
        super().__init__()
        self._roles = roles
        self._known = sorted(set(known_users))

    @property
    def is_handoff(self) -> bool:
        return self._roles == (Role.IC,)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="role-dialog") as box:
            box.border_title = "Hand off Incident Commander" if self.is_handoff else "Assign a role"
            if self.is_handoff:
                yield Label("The role moves only when they accept it.")
            else:
                yield Label("Role")
                yield Select(
                    [(role.full_name, role) for role in self._roles],
                    value=self._roles[0],
                    allow_blank=False,
                    id="role",
                )
            yield Label("User name")
            yield Input(
                placeholder="login name, e.g. alice",
                suggester=SuggestFromList(self._known, case_sensitive=False),
                id="user",
            )
            # Under the name it is about: the only field this form checks.
            yield self.error_line
            if not self.is_handoff:
                yield Label("Service (Technical Leads only)")
                yield Input(placeholder="e.g. payments-api", max_length=MAX_SERVICE, id="service")
            with Horizontal(classes="dialog-buttons"):
                label = "Offer IC role" if self.is_handoff else "Assign"
                yield Button(label, variant="primary", id="submit")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        # The form reads top down: first which role, then who. Starting on the name left the
        # role list above the cursor, and an IC who typed a name and pressed Enter named a CL
        # whatever role they meant.
        first = "#user" if self.is_handoff else "#role"
        self.query_one(first).focus()

    @on(Button.Pressed, "#submit")
    @on(Input.Submitted)
    def submit(self) -> None:
        role = Role.IC if self.is_handoff else self.query_one("#role", Select).value
        user = self.query_one("#user", Input).value.strip()
        try:
            _USER_NAME.validate_python(user)
        except ValidationError:
            self.show_error("User names are 1-32 lower-case letters, digits, '.', '_' or '-'.")
            return
        service = None
        if role is Role.TL:
            service = self.query_one("#service", Input).value.strip() or None
        if isinstance(role, Role):
            self.dismiss(RoleChoice(role, user, service))
