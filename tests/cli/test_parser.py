"""The parser offers exactly what the domain accepts: severity levels and assignable roles."""

from __future__ import annotations

import argparse
from typing import get_args

import pytest

from warroom.cli.parser import build_parser
from warroom.domain.commands import AssignRole, UnassignRole
from warroom.domain.severity import Severity


def _choices(argv: list[str], dest: str) -> list[object]:
    parser = build_parser()
    actions: list[argparse.Action] = []
    sub = parser
    for name in argv:
        subparsers = next(a for a in sub._actions if isinstance(a, argparse._SubParsersAction))
        sub = subparsers.choices[name]
    actions = [a for a in sub._actions if a.dest == dest]
    assert len(actions) == 1
    return list(actions[0].choices or [])


def test_severity_choices_are_the_domains_levels() -> None:
    levels = [int(level) for level in Severity]
    assert _choices(["declare"], "sev") == levels
    assert _choices(["severity"], "level") == levels
    assert _choices(["triage", "declare"], "sev") == levels


def test_role_choices_are_the_commands_own_types() -> None:
    assignable = [str(r) for r in get_args(AssignRole.model_fields["role"].annotation)]
    assert _choices(["assign"], "role") == assignable == ["ic", "cl", "tl", "scribe"]
    unassignable = [str(r) for r in get_args(UnassignRole.model_fields["role"].annotation)]
    assert _choices(["unassign"], "role") == unassignable == ["cl", "tl", "scribe"]


def test_a_role_the_domain_refuses_is_refused_by_the_parser(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["assign", "1", "observer", "bob"])
    assert "invalid choice: 'observer'" in capsys.readouterr().err


def test_serve_help_says_where_it_listens_by_default() -> None:
    subparsers = next(
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    shown = " ".join(subparsers.choices["serve"].format_help().split())
    assert "address to listen on (default: 127.0.0.1, this machine only;" in shown
    assert "port to listen on (default: 8765)" in shown
