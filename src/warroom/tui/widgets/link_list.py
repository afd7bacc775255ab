"""A list of investigation links: each a terminal hyperlink (OSC 8); `c` or Enter copies one."""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual import on
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from warroom.tui.commands_table import Scope, bindings_for
from warroom.tui.links import LinkItem
from warroom.tui.safe_text import clean


def link_text(item: LinkItem, link_style: Style | None = None) -> Text:
    """`label  url`, the URL as a hyperlink the terminal opens on click."""
    text = Text()
    text.append(clean(item.label), style="bold")
    text.append("  ")
    text.append(clean(item.url), style=(link_style or Style(underline=True)) + Style(link=item.url))
    return text


class LinkList(OptionList):
    """The links of an entry or of the incident's services; the terminal opens them on click
    (where it supports OSC 8), and `c` copies the highlighted one for terminals that do not."""

    BINDINGS = bindings_for(Scope.LINKS)

    def __init__(self, items: Sequence[LinkItem], *, id: str | None = None) -> None:
        super().__init__(
            *(Option(link_text(item), id=str(n)) for n, item in enumerate(items)),
            id=id,
            classes="link-list",
        )
        self.items = tuple(items)
        """The links, in the order shown."""

    @property
    def highlighted_item(self) -> LinkItem | None:
        index = self.highlighted
        return self.items[index] if index is not None and 0 <= index < len(self.items) else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "copy_link":
            return self.highlighted_item is not None
        return True

    def action_copy_link(self) -> None:
        item = self.highlighted_item
        if item is None:
            return
        self.app.copy_to_clipboard(item.url)
        # The URL is server configuration and user data: shown literally, never as markup.
        self.notify(clean(item.url), title=f"Copied {clean(item.label)} link", markup=False)

    @on(OptionList.OptionSelected)
    def copy_selected_link(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_copy_link()
