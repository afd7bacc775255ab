"""Keys typed before a dialog could take them, handed to it in order once it has a field focused.

Textual hands a key to whatever has focus when the app reads it. A burst of keys (a fast typist,
or any typist while the console is busy drawing an incident's updates) is read all at once: the
keys after `u` went to the incident screen's focused pane, before `u` had opened the update
form, and the form got nothing of "Rollback 60% done". The app now notes which screen each key
was read on (`KeyOrigins`): such a key comes back to the app unhandled once the dialog is open,
and is handed to the dialog, which holds what arrives before its first field has focus.

Only keys that edit are carried over (characters, Backspace, Tab, Shift+Tab): an Enter or an
Escape pressed before the dialog was on screen is dropped, so it neither decides the dialog nor
acts on the screen beneath it.
"""

from __future__ import annotations

import weakref
from typing import Any

from textual import events
from textual.screen import Screen

EDITING_KEYS = frozenset({"tab", "shift+tab", "backspace"})
"""Keys besides printable characters that are carried over to a dialog."""


def edits(key: events.Key) -> bool:
    return key.is_printable or key.key in EDITING_KEYS


class TypeAhead:
    """The keys a dialog screen was given before it could type them, and how it types them."""

    def __init__(self, screen: Screen[Any]) -> None:
        self._screen = screen
        self._waiting: list[events.Key] = []
        self.ready = False
        """Whether the dialog has focused its first field (not merely its scrolling box, which
        Textual focuses first on its own)."""

    def take(self, key: events.Key) -> None:
        """Type `key` into the dialog now, or once it is ready."""
        if not edits(key):
            return
        if not self.ready or self._waiting:
            self._waiting.append(key)
        else:
            self._type(key)

    def start(self) -> None:
        """The dialog is drawn with its first field focused: type what waited, in order."""
        self.ready = True
        waiting, self._waiting = self._waiting, []
        for key in waiting:
            self._type(key)

    def _type(self, key: events.Key) -> None:
        screen = self._screen
        if key.key == "tab":
            screen.focus_next()
        elif key.key == "shift+tab":
            screen.focus_previous()
        elif screen.focused is not None:
            screen.focused.post_message(events.Key(key.key, key.character))


class KeyOrigins:
    """Which screen was on top when the app read each key, for keys still on their way: a key
    that comes back to the app unhandled after a dialog opened was typed before it."""

    def __init__(self) -> None:
        self._screens: weakref.WeakKeyDictionary[events.Key, Screen[Any]] = (
            weakref.WeakKeyDictionary()
        )

    def read(self, key: events.Key, screen: Screen[Any]) -> None:
        self._screens[key] = screen

    def typed_before(self, key: events.Key, dialog: Screen[Any]) -> bool:
        """Whether `key` was read while another screen than `dialog` was on top."""
        screen = self._screens.pop(key, None)
        return screen is not None and screen is not dialog
