"""Resolving (the IC only, with confirmation), the post-mortem's due time, and exporting the
post-mortem draft to Markdown and HTML files."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input

from warroom.domain.phase import Phase
from warroom.tui.screens.export_dialog import ExportDialog
from warroom.tui.screens.prompt_dialog import PromptDialog

from .conftest import Notice
from .harness import Warroom, settle, static_text, until_state

SECTIONS = [
    "Summary",
    "Impact",
    "Key times",
    "Key moments",
    "Detection",
    "Response",
    "Timeline",
    "Mitigation",
    "Metrics",
    "Communications",
    "Root cause",
    "Trigger",
    "Resolution",
    "Action items",
    "Lessons learned",
]


async def test_the_ic_resolves_and_the_header_shows_when_the_post_mortem_is_due(
    warroom: Warroom, incident: int
) -> None:
    bob = await warroom.app("bob", incident)
    async with bob.run_test(size=(160, 44)) as pilot:
        await settle(pilot)
        assert bob.screen.check_action("resolve_incident", ()) is False

    app = await warroom.app("alice", incident)
    async with app.run_test(size=(160, 44)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r")
        dialog = app.screen
        assert isinstance(dialog, PromptDialog)
        dialog.query_one("#answer", Input).value = "rollback complete"
        await pilot.press("enter")
        await until_state(app.client, incident, lambda s: s.incident.phase is Phase.RESOLVED)
        await settle(pilot)
        incident_ = app.client.states[incident].incident
        assert incident_.resolved_at is not None
        due = incident_.resolved_at + timedelta(hours=48)
        assert static_text(app, "#header-update") == f"post-mortem due {due:%a %H:%M}"
        assert static_text(app, "#header-elapsed").startswith("resolved after 00:")
        assert "Phase declared -> resolved: rollback complete" in (
            app.client.states[incident].timeline[-1].text
        )
        # Resolved: nothing to resolve any more, and no update is owed.
        assert app.screen.check_action("resolve_incident", ()) is False
        assert not app.screen.query_one("#header-update").has_class("-overdue")


async def test_export_writes_the_post_mortem_draft_beside_the_console(
    warroom: Warroom,
    incident: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    notices: list[Notice],
) -> None:
    monkeypatch.chdir(tmp_path)
    app = await warroom.app("erin", incident)  # anyone who may read may export
    async with app.run_test(size=(160, 44)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+e")
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        assert dialog.query_one("#path", Input).value == f"./incident-{incident}-postmortem.md"
        await pilot.press("enter")
        await settle(pilot)

    markdown = tmp_path / f"incident-{incident}-postmortem.md"
    html = tmp_path / f"incident-{incident}-postmortem.html"
    assert notices[-1] == Notice(
        "Post-mortem draft written", f"{markdown} and {html}", "information"
    )
    text = markdown.read_text(encoding="utf-8")
    assert text.startswith("# ")
    assert "Payment processing down" in text.splitlines()[0]
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert headings == SECTIONS
    assert "Roll back payments-api to v2.3.1" in text
    page = html.read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html>")
    assert "Roll back payments-api to v2.3.1" in page


async def test_export_to_an_edited_path_and_a_failure_says_why(
    warroom: Warroom, incident: int, tmp_path: Path, notices: list[Notice]
) -> None:
    app = await warroom.app("alice", incident)
    target = tmp_path / "reviews" / "payments.md"
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    async with app.run_test(size=(160, 44)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+e")
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        dialog.query_one("#path", Input).value = str(target)
        dialog.query_one("#html", Checkbox).value = False
        dialog.query_one("#path", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert target.is_file()
        assert not target.with_suffix(".html").exists()
        assert notices[-1] == Notice("Post-mortem draft written", str(target), "information")

        await pilot.press("ctrl+e")
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        dialog.query_one("#path", Input).value = str(blocker / "pm.md")
        dialog.query_one("#path", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert notices[-1].title == "Post-mortem not written"
        assert str(blocker) in notices[-1].message
