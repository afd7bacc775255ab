"""The theme's severity colour: as a Rich style for table cells (which are Rich text, not CSS),
and as the `sev1`..`sev3` class that the stylesheet colours a widget by."""

from __future__ import annotations

from collections.abc import Mapping

from rich.style import Style
from textual.color import Color
from textual.dom import DOMNode

from warroom.domain.severity import Severity


def severity_style(variables: Mapping[str, str], severity: Severity) -> Style:
    """Bold, in the theme's `$sev1`..`$sev3` colour when the theme has one."""
    value = variables.get(f"sev{severity.value}")
    if value is None:
        return Style(bold=True)
    return Style(bold=True, color=Color.parse(value).rich_color)


def show_severity_class(node: DOMNode, severity: Severity | None) -> None:
    """Give `node` the class of `severity` (none for None) in place of another's, restyling it
    once and only when the class changes: each restyle walks the node's styles again, and a
    replay's steps set the severity on every step."""
    wanted = f"sev{severity.value}" if severity is not None else None
    classes = [f"sev{level.value}" for level in Severity]
    if all(node.has_class(name) is (name == wanted) for name in classes):
        return
    for name in classes:
        node.set_class(name == wanted, name, update=False)
    node.update_node_styles()
