"""The public side's rules: a public title of its own (required first, kept after), the resolved
update prepared when the incident is resolved, and the reminder until it is approved or declined."""

from __future__ import annotations

import pytest

from tests.domain.factories import USERS, Log
from warroom.domain.commands import DraftExternalUpdate
from warroom.domain.communications import (
    PublicState,
    default_public_title,
    public_title,
)
from warroom.domain.errors import DomainError, ErrorCode
from warroom.domain.events import (
    SERVER_ACTOR,
    ExternalApproved,
    ExternalDrafted,
    ExternalRejected,
    PhaseChanged,
)
from warroom.domain.limits import MAX_TITLE
from warroom.domain.phase import Phase
from warroom.domain.public_side import ClosingReminder, closing_reminder, resolution_draft
from warroom.domain.rules import decide


def draft_command(title: str | None, components: list[str] | None = None) -> DraftExternalUpdate:
    return DraftExternalUpdate(
        id="d",
        incident_id=1,
        title=title,
        text="We are looking into it.",
        state=PublicState.INVESTIGATING,
        components=components or [],
    )


def drafted(log: Log, command: DraftExternalUpdate, actor: str = "cl") -> int:
    return log.add(actor, decide(log.state, command, actor, USERS)).seq


def published(log: Log, title: str, state: PublicState, components: list[str]) -> int:
    body = ExternalDrafted(title=title, text="…", state=state, components=components)
    draft_id = log.add("cl", body).seq
    log.add("ic", ExternalApproved(draft_id=draft_id))
    return draft_id


def title_of(log: Log, draft_id: int) -> str:
    draft = log.state.external_update(draft_id)
    assert draft is not None
    return draft.title


def resolve(log: Log) -> None:
    log.add("ic", PhaseChanged(phase=Phase.RESOLVED, previous=log.state.incident.phase))


def test_the_first_public_draft_needs_its_own_title_and_is_offered_a_neutral_one() -> None:
    log = Log()
    with pytest.raises(DomainError) as refused:
        decide(log.state, draft_command(None, ["Checkout"]), "cl", USERS)
    assert refused.value.code is ErrorCode.INVALID
    assert "'Degraded performance: Checkout'" in refused.value.message
    assert log.state.incident.title not in refused.value.message
    assert log.state.external_updates == []


def test_a_pending_draft_is_not_yet_a_public_title() -> None:
    log = Log()
    drafted(log, draft_command("Checkout degraded"))
    with pytest.raises(DomainError):
        decide(log.state, draft_command(None), "cl", USERS)


def test_later_drafts_keep_the_published_title_unless_changed_on_purpose() -> None:
    log = Log()
    published(log, "Checkout degraded", PublicState.INVESTIGATING, ["Checkout"])
    kept = drafted(log, draft_command(None))
    assert title_of(log, kept) == "Checkout degraded"
    changed = drafted(log, draft_command("Checkout recovering"))
    assert title_of(log, changed) == "Checkout recovering"
    # Only once approved does the new title become the one later drafts keep.
    assert public_title(log.state.external_updates) == "Checkout degraded"
    log.add("ic", ExternalApproved(draft_id=changed))
    assert public_title(log.state.external_updates) == "Checkout recovering"


def test_the_neutral_title_names_the_components_and_fits_a_title() -> None:
    assert default_public_title([]) == "Degraded performance"
    assert default_public_title(["Checkout", " API ", "Checkout"]) == (
        "Degraded performance: Checkout, API"
    )
    long = default_public_title(["x" * 90, "y" * 90, "z" * 90])
    assert len(long) == MAX_TITLE
    assert long.endswith("…")
    DraftExternalUpdate.model_validate(draft_command(long).model_dump())  # a valid title


def test_resolving_prepares_the_resolved_update_for_every_published_component() -> None:
    log = Log()
    published(log, "Payments degraded", PublicState.IDENTIFIED, ["Checkout", "Card payments"])
    published(log, "Payments degraded", PublicState.MONITORING, ["Checkout"])
    assert resolution_draft(log.state) is None  # still open
    resolve(log)
    draft = resolution_draft(log.state)
    assert draft == ExternalDrafted(
        title="Payments degraded",
        text="This incident has been resolved. Checkout, Card payments are operating normally.",
        state=PublicState.RESOLVED,
        components=["Checkout", "Card payments"],
    )
    log.add(SERVER_ACTOR, draft)
    assert resolution_draft(log.state) is None  # once is enough, however often it is asked


@pytest.mark.parametrize("public", ["nothing", "resolved", "pending resolved"])
def test_nothing_is_prepared_when_the_public_side_needs_no_closing(public: str) -> None:
    log = Log()
    if public == "resolved":
        published(log, "Checkout degraded", PublicState.RESOLVED, ["Checkout"])
    if public == "pending resolved":
        published(log, "Checkout degraded", PublicState.IDENTIFIED, ["Checkout"])
        log.add("cl", ExternalDrafted(title="t", text="Fixed.", state=PublicState.RESOLVED))
    resolve(log)
    assert resolution_draft(log.state) is None


def test_the_reminder_lasts_until_the_resolved_update_is_approved() -> None:
    log = Log()
    published(log, "Checkout degraded", PublicState.IDENTIFIED, ["Checkout"])
    assert closing_reminder(log.state) is None  # open: nothing to remind of
    resolve(log)
    assert closing_reminder(log.state) == ClosingReminder(PublicState.IDENTIFIED, None)
    draft = resolution_draft(log.state)
    assert draft is not None
    draft_id = log.add(SERVER_ACTOR, draft).seq
    assert closing_reminder(log.state) == ClosingReminder(PublicState.IDENTIFIED, draft_id)
    log.add("ic", PhaseChanged(phase=Phase.POSTMORTEM_DONE, previous=Phase.RESOLVED))
    assert closing_reminder(log.state) == ClosingReminder(PublicState.IDENTIFIED, draft_id)
    log.add("ic", ExternalApproved(draft_id=draft_id))
    assert closing_reminder(log.state) is None


def test_sending_the_prepared_update_back_declines_until_the_next_resolve() -> None:
    log = Log()
    published(log, "Checkout degraded", PublicState.IDENTIFIED, ["Checkout"])
    resolve(log)
    draft = resolution_draft(log.state)
    assert draft is not None
    draft_id = log.add(SERVER_ACTOR, draft).seq
    log.add("ic", ExternalRejected(draft_id=draft_id, comment="the vendor notice covers it"))
    assert closing_reminder(log.state) is None
    assert resolution_draft(log.state) is None
    # Reopened and resolved again: this resolution is offered its own resolved update.
    log.add("ic", PhaseChanged(phase=Phase.INVESTIGATING, previous=Phase.RESOLVED))
    resolve(log)
    assert closing_reminder(log.state) == ClosingReminder(PublicState.IDENTIFIED, None)
    assert resolution_draft(log.state) is not None


def test_a_resolved_draft_someone_else_sent_back_is_no_decline() -> None:
    log = Log()
    published(log, "Checkout degraded", PublicState.IDENTIFIED, ["Checkout"])
    resolve(log)
    mine = log.add("cl", ExternalDrafted(title="t", text="Fixd.", state=PublicState.RESOLVED)).seq
    log.add("ic", ExternalRejected(draft_id=mine, comment="typo"))
    assert closing_reminder(log.state) == ClosingReminder(PublicState.IDENTIFIED, None)
