"""Who may do what: the permission matrix the server enforces and the TUI reads to offer actions.

This module is the one source of the permission tables in docs/protocol.md:
`python -m warroom.domain.permissions --markdown` prints them, and a test fails when the document
and this module disagree.

Everyone authenticated may read, declare a new incident (becoming its IC) and accept or decline an
IC role offered to them, and dismiss a triage item as noise (the triage log keeps who and why).
Authors may amend or strike their own entries.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from warroom.domain.roles import Role


class Permission(StrEnum):
    CHANGE_SEVERITY = "change_severity"
    CHANGE_PHASE = "change_phase"
    EDIT_DETAILS = "edit_details"
    ASSIGN_ROLES = "assign_roles"
    APPROVE_EXTERNAL = "approve_external"
    WRITE_TIMELINE = "write_timeline"
    PIN_METRICS = "pin_metrics"
    POST_STATUS = "post_status"
    DRAFT_EXTERNAL = "draft_external"
    EDIT_ANY_ENTRY = "edit_any_entry"
    CHANGE_CHECKLIST = "change_checklist"
    EDIT_SERVICES = "edit_services"


_IC = frozenset({Role.IC})
PERMISSION_MATRIX: dict[Permission, frozenset[Role]] = {
    Permission.CHANGE_SEVERITY: _IC,
    Permission.CHANGE_PHASE: _IC,
    Permission.EDIT_DETAILS: _IC,
    Permission.ASSIGN_ROLES: _IC,
    Permission.APPROVE_EXTERNAL: _IC,
    Permission.WRITE_TIMELINE: frozenset({Role.IC, Role.CL, Role.TL, Role.SCRIBE}),
    Permission.PIN_METRICS: frozenset({Role.IC, Role.CL, Role.TL, Role.SCRIBE}),
    Permission.POST_STATUS: frozenset({Role.IC, Role.CL}),
    Permission.DRAFT_EXTERNAL: frozenset({Role.IC, Role.CL}),
    Permission.EDIT_ANY_ENTRY: frozenset({Role.IC, Role.SCRIBE}),
    Permission.CHANGE_CHECKLIST: frozenset({Role.IC, Role.TL}),
    Permission.EDIT_SERVICES: frozenset({Role.IC, Role.TL}),
}


PERMISSION_MEANING: dict[Permission, str] = {
    Permission.CHANGE_SEVERITY: "raise or lower the severity (`set_severity`)",
    Permission.CHANGE_PHASE: "move the phase, resolve and reopen (`set_phase`)",
    Permission.EDIT_DETAILS: "change the title and the summary",
    Permission.ASSIGN_ROLES: "name and remove the CL, TLs and Scribe; offer the IC role",
    Permission.APPROVE_EXTERNAL: "approve a public update (publishing it) or send it back",
    Permission.WRITE_TIMELINE: "add timeline entries of kinds `note`, `decision`, `action`, `todo`",
    Permission.PIN_METRICS: "write the latest metrics snapshot into the timeline",
    Permission.POST_STATUS: "post internal status updates (and entries of kind `status`)",
    Permission.DRAFT_EXTERNAL: "draft public updates for the IC's approval",
    Permission.EDIT_ANY_ENTRY: "amend or strike anyone's entries, not only one's own",
    Permission.CHANGE_CHECKLIST: "add checklist items, set their state and owner",
    Permission.EDIT_SERVICES: "add and remove the incident's services",
}
"""What each permission lets its holder do, in the words of the protocol document."""


@dataclass(frozen=True)
class WriteRule:
    """Who may send one write: a permission, or a rule that needs no permission (`None`)."""

    permission: Permission | None
    note: str = ""
    """Who, when no permission is needed; or what else applies."""


WRITE_RULES: dict[str, WriteRule] = {
    "declare_incident": WriteRule(None, "anyone; the declarer becomes the new incident's IC"),
    "dismiss_triage": WriteRule(None, "anyone (the triage log keeps who and why)"),
    "set_title": WriteRule(Permission.EDIT_DETAILS),
    "set_summary": WriteRule(Permission.EDIT_DETAILS),
    "set_severity": WriteRule(Permission.CHANGE_SEVERITY),
    "set_phase": WriteRule(Permission.CHANGE_PHASE, "also to resolve and to reopen"),
    "assign_role": WriteRule(Permission.ASSIGN_ROLES, "role `ic` only offers the role"),
    "unassign_role": WriteRule(Permission.ASSIGN_ROLES),
    "accept_ic": WriteRule(None, "the receiver of the pending IC offer"),
    "decline_ic": WriteRule(None, "the receiver (declines) or the IC (withdraws)"),
    "add_entry": WriteRule(
        Permission.WRITE_TIMELINE,
        "kind `status` needs post_status; kinds `external`, `alert`, `metrics`, `system`: nobody",
    ),
    "amend_entry": WriteRule(
        Permission.EDIT_ANY_ENTRY,
        "or being the entry's author; never `system`, `external`, `alert`, `metrics` entries",
    ),
    "strike_entry": WriteRule(
        Permission.EDIT_ANY_ENTRY,
        "or being the entry's author; never `system`, `external`, `alert`, `metrics` entries",
    ),
    "add_checklist_item": WriteRule(Permission.CHANGE_CHECKLIST),
    "set_item_state": WriteRule(Permission.CHANGE_CHECKLIST),
    "set_item_owner": WriteRule(Permission.CHANGE_CHECKLIST),
    "add_service": WriteRule(Permission.EDIT_SERVICES),
    "remove_service": WriteRule(Permission.EDIT_SERVICES),
    "pin_metrics": WriteRule(Permission.PIN_METRICS, "the entry is authored by the sender"),
    "post_status_update": WriteRule(Permission.POST_STATUS),
    "draft_external_update": WriteRule(Permission.DRAFT_EXTERNAL),
    "approve_external_update": WriteRule(Permission.APPROVE_EXTERNAL),
    "reject_external_update": WriteRule(Permission.APPROVE_EXTERNAL),
}
"""Every write (frame `type`) and what its sender needs; the rules refuse the rest `forbidden`."""


def allows(roles: Iterable[Role], permission: Permission) -> bool:
    """True if any of `roles` carries `permission`."""
    allowed = PERMISSION_MATRIX[permission]
    return any(role in allowed for role in roles)


_COLUMNS = {
    Role.IC: "IC",
    Role.CL: "CL",
    Role.TL: "TL",
    Role.SCRIBE: "Scribe",
    Role.OBSERVER: "Observer",
}


def permissions_markdown() -> str:
    """The permission matrix and the write table as Markdown, for docs/protocol.md."""
    lines = [
        f"| permission | {' | '.join(_COLUMNS.values())} | lets its holder |",
        "|---|" + ":-:|" * len(_COLUMNS) + "---|",
    ]
    for permission in Permission:
        marks = " | ".join("x" if r in PERMISSION_MATRIX[permission] else " " for r in _COLUMNS)
        lines.append(f"| `{permission.value}` | {marks} | {PERMISSION_MEANING[permission]} |")
    lines += ["", "| write | needs |", "|---|---|"]
    for write, rule in WRITE_RULES.items():
        needs = f"`{rule.permission.value}`" if rule.permission else ""
        needs = "; ".join(part for part in (needs, rule.note) if part)
        lines.append(f"| `{write}` | {needs} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """`python -m warroom.domain.permissions --markdown` prints the tables."""
    parser = argparse.ArgumentParser(prog="python -m warroom.domain.permissions")
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.parse_args(argv)
    sys.stdout.write(permissions_markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
