"""Command palette providers: war-room commands (from the command table), incidents, themes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.dom import DOMNode

from warroom.client.session import ClientError, WarroomClient
from warroom.domain.incident import IncidentSummary
from warroom.tui.commands_table import COMMANDS, CommandSpec
from warroom.tui.safe_text import clean, for_markup

INCIDENT_LIST_TIMEOUT = 2.0
"""Seconds the palette waits for the incident list; offline it shows none rather than hang."""


class WarroomCommands(Provider):
    """Every command of the table that the user's role is offered on the current screen."""

    def _offered(self) -> list[tuple[CommandSpec, Callable[[], object]]]:
        command_target = getattr(self.screen, "command_target", None)
        if command_target is None:
            return []
        offered: list[tuple[CommandSpec, Callable[[], object]]] = []
        for spec in COMMANDS:
            if not spec.in_palette:
                continue
            target: DOMNode | None = command_target(spec.scope)
            # The same check the bindings use: role, permission and (for items) selection.
            if target is None or target.check_action(spec.action, ()) is not True:
                continue
            offered.append((spec, partial(self.app.run_action, spec.action, target)))
        return offered

    async def discover(self) -> Hits:
        for spec, run in self._offered():
            yield DiscoveryHit(spec.title, run, help=spec.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for spec, run in self._offered():
            score = matcher.match(f"{spec.title} {spec.help}")
            if score > 0:
                yield Hit(
                    score, matcher.highlight(spec.title), run, text=spec.title, help=spec.help
                )


class IncidentCommands(Provider):
    """ "Open incident #3 ..." for every incident on the server."""

    async def startup(self) -> None:
        self._incidents: list[IncidentSummary] = []
        client: WarroomClient | None = getattr(self.app, "client", None)
        if client is None:
            return
        try:
            async with asyncio.timeout(INCIDENT_LIST_TIMEOUT):
                self._incidents = await client.list_incidents()
        except (TimeoutError, ClientError):
            self._incidents = []

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        # Titles are user text: shown through `Content(...)`, never parsed as markup.
        open_incident = getattr(self.app, "open_incident", None)
        if open_incident is None:
            return []
        return [
            (
                f"Open incident #{inc.id} {inc.severity.label} {clean(inc.title)}",
                partial(open_incident, inc.id),
                for_markup(f"{inc.phase.value} · IC {inc.ic}"),
            )
            for inc in self._incidents
        ]

    async def discover(self) -> Hits:
        for title, run, help_text in self._commands():
            yield DiscoveryHit(Content(title), run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, run, help_text in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, Content(title), run, text=title, help=help_text)


class ThemeCommands(Provider):
    """ "Theme: warroom-contrast" for every theme loaded from the theme folders."""

    def _themes(self) -> list[tuple[str, str]]:
        descriptions: dict[str, str] = getattr(self.app, "theme_descriptions", {})
        return sorted(descriptions.items())

    def _use(self, name: str) -> None:
        self.app.theme = name

    async def discover(self) -> Hits:
        for name, description in self._themes():
            yield DiscoveryHit(f"Theme: {name}", partial(self._use, name), help=description)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, description in self._themes():
            title = f"Theme: {name}"
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(title), partial(self._use, name), help=description
                )
