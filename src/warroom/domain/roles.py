"""Incident roles and the roster of who holds them, with the history of every tenure."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class Role(StrEnum):
    """The plan's four roles (section 4) plus everyone else on the call."""

    IC = "ic"
    CL = "cl"
    TL = "tl"
    SCRIBE = "scribe"
    OBSERVER = "observer"

    @property
    def full_name(self) -> str:
        """The role's full name."""
        return _ROLE_TITLES[self]


_ROLE_TITLES = {
    Role.IC: "Incident Commander",
    Role.CL: "Communications Lead",
    Role.TL: "Technical Lead",
    Role.SCRIBE: "Scribe",
    Role.OBSERVER: "Observer",
}


class RoleTenure(BaseModel):
    """One person holding one role for a stretch of the incident."""

    role: Role
    user: str
    service: str | None = None
    assumed_at: datetime
    renounced_at: datetime | None = None


class IcOffer(BaseModel):
    """A pending handoff of the IC role; it takes effect only when the receiver accepts."""

    to_user: str
    by: str
    at: datetime


class Roster(BaseModel):
    """Who holds which role now. Exactly one IC at all times."""

    ic: str
    cl: str | None = None
    tls: dict[str, str | None] = Field(default_factory=dict)
    """Technical leads, each with the service they own (or None)."""
    scribe: str | None = None
    ic_offer: IcOffer | None = None
    history: list[RoleTenure] = Field(default_factory=list)

    def roles_of(self, user: str) -> frozenset[Role]:
        """Every role `user` holds; observers hold none of the four."""
        roles: set[Role] = set()
        if self.ic == user:
            roles.add(Role.IC)
        if self.cl == user:
            roles.add(Role.CL)
        if user in self.tls:
            roles.add(Role.TL)
        if self.scribe == user:
            roles.add(Role.SCRIBE)
        return frozenset(roles) if roles else frozenset({Role.OBSERVER})

    def holders(self, role: Role) -> list[str]:
        """Who holds `role` now (several for TL)."""
        if role is Role.IC:
            return [self.ic]
        if role is Role.CL:
            return [self.cl] if self.cl else []
        if role is Role.TL:
            return list(self.tls)
        if role is Role.SCRIBE:
            return [self.scribe] if self.scribe else []
        return []
