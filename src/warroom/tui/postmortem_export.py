"""Renders an incident's post-mortem draft from the server's event log, and writes it to files
(no textual)."""

from __future__ import annotations

import asyncio
from datetime import datetime, tzinfo
from pathlib import Path

from warroom.client.session import WarroomClient
from warroom.domain.projection import replay
from warroom.export.html import render_html
from warroom.export.markdown import render_markdown


def default_path(incident_id: int) -> Path:
    """`incident-<id>-postmortem.md` in the current folder."""
    return Path(f"incident-{incident_id}-postmortem.md")


def html_path(markdown: Path) -> Path:
    """The HTML copy's path beside the Markdown one: same name, `.html`."""
    return markdown.with_suffix(".html")


def shown_path(path: Path) -> str:
    """A relative path as `./name`, so people see where it went; absolute paths as they are."""
    return str(path) if path.is_absolute() or str(path).startswith(".") else f"./{path}"


async def render_postmortem(
    client: WarroomClient,
    incident_id: int,
    markdown: Path,
    *,
    html: bool,
    generated_at: datetime,
    zone: tzinfo | None,
) -> list[tuple[Path, str]]:
    """Read the incident's log and render its post-mortem draft as Markdown (and HTML).

    Returns:
        Each document's path and text, Markdown first.

    Raises:
        ClientError: the log could not be read.
    """
    events = await client.read_log(incident_id)
    state = replay(events)
    documents = [(markdown, render_markdown(state, events, tz=zone, generated_at=generated_at))]
    if html:
        page = render_html(state, events, tz=zone, generated_at=generated_at)
        documents.append((html_path(markdown), page))
    return documents


async def export_postmortem(
    client: WarroomClient,
    incident_id: int,
    markdown: Path,
    *,
    html: bool,
    generated_at: datetime,
    zone: tzinfo | None,
) -> list[Path]:
    """Read the incident's log and write its post-mortem draft as Markdown (and HTML).

    Returns:
        The files written, Markdown first.

    Raises:
        ClientError: the log could not be read.
        OSError: a file could not be written.
    """
    documents = await render_postmortem(
        client, incident_id, markdown, html=html, generated_at=generated_at, zone=zone
    )

    def write() -> None:
        for path, text in documents:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")

    # Off the event loop: a slow or network disk must not freeze the war room.
    await asyncio.to_thread(write)
    return [path for path, _ in documents]
