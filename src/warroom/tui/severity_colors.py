"""The theme's severity colour as a Rich style, for table cells (which are Rich text, not CSS)."""

from __future__ import annotations

from collections.abc import Mapping

from rich.style import Style
from textual.color import Color

from warroom.domain.severity import Severity


def severity_style(variables: Mapping[str, str], severity: Severity) -> Style:
    """Bold, in the theme's `$sev1`..`$sev3` colour when the theme has one."""
    value = variables.get(f"sev{severity.value}")
    if value is None:
        return Style(bold=True)
    return Style(bold=True, color=Color.parse(value).rich_color)
