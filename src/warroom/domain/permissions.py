"""Who may do what: the permission matrix the server enforces and the TUI reads to offer actions.

| permission        | IC | CL | TL | Scribe | Observer |
|-------------------|----|----|----|--------|----------|
| change_severity   | x  |    |    |        |          |
| change_phase      | x  |    |    |        |          |
| edit_details      | x  |    |    |        |          |
| assign_roles      | x  |    |    |        |          |
| approve_external  | x  |    |    |        |          |
| write_timeline    | x  | x  | x  | x      |          |
| pin_metrics       | x  | x  | x  | x      |          |
| post_status       | x  | x  |    |        |          |
| draft_external    | x  | x  |    |        |          |
| edit_any_entry    | x  |    |    | x      |          |
| change_checklist  | x  |    | x  |        |          |
| edit_services     | x  |    | x  |        |          |

Everyone authenticated may read, declare a new incident (becoming its IC) and accept or decline an
IC role offered to them, and dismiss a triage item as noise (the triage log keeps who and why).
Authors may amend or strike their own entries.
"""

from __future__ import annotations

from collections.abc import Iterable
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


def allows(roles: Iterable[Role], permission: Permission) -> bool:
    """True if any of `roles` carries `permission`."""
    allowed = PERMISSION_MATRIX[permission]
    return any(role in allowed for role in roles)
