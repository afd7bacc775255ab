"""The permission tables in docs/protocol.md are the ones `warroom.domain.permissions` makes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import get_args

from warroom.domain.commands import DeclareIncident, DismissTriage, IncidentCommand
from warroom.domain.permissions import WRITE_RULES, Permission, permissions_markdown

PROTOCOL_DOC = Path(__file__).parents[2] / "docs" / "protocol.md"
_BLOCK = re.compile(r"<!-- permissions:begin[^>]*-->\n\n(.*?)\n<!-- permissions:end -->", re.S)


def test_the_protocol_doc_holds_exactly_the_generated_tables() -> None:
    found = _BLOCK.search(PROTOCOL_DOC.read_text(encoding="utf-8"))
    assert found is not None, "docs/protocol.md lost its permissions markers"
    assert found.group(1) == permissions_markdown(), (
        "docs/protocol.md and domain/permissions.py disagree: paste the output of "
        "`python -m warroom.domain.permissions --markdown` between the markers"
    )


def test_every_write_has_exactly_one_rule_and_every_permission_is_used() -> None:
    writes = [DeclareIncident, DismissTriage, *get_args(IncidentCommand)]
    types = [w.model_fields["type"].default for w in writes]
    assert sorted(WRITE_RULES) == sorted(types)
    used = {rule.permission for rule in WRITE_RULES.values()}
    assert used - {None} == set(Permission)


def test_the_module_prints_the_tables() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "warroom.domain.permissions", "--markdown"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout == permissions_markdown()
    assert "| `edit_any_entry` | x |   |   | x |   |" in done.stdout
