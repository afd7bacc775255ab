"""The Alertmanager and Prometheus files shipped in server/ pass the real tools' checks.

`amtool` and `promtool` come with the Debian packages `prometheus-alertmanager` and `prometheus`
(`scripts/install-monitoring` installs them in CI). The route must carry to warroom every
`severity` its severity map turns into a SEV, or those alerts never reach triage.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from warroom.monitoring.alertmanager import DEFAULT_SEVERITY_MAP

SERVER = Path(__file__).parents[1] / "server"
ALERTMANAGER = SERVER / "alertmanager.example.yml"
RULES = SERVER / "prometheus-rules.example.yml"
EXAMPLE_CONFIG = SERVER / "warroom.example.toml"
INSTALL_HINT = "run `sudo scripts/install-monitoring` to install Prometheus and Alertmanager"


def tool(name: str) -> str:
    path = shutil.which(name) or next(
        (p for p in (f"/usr/bin/{name}", f"/usr/local/bin/{name}") if Path(p).exists()), None
    )
    if path is None:
        pytest.fail(f"{name} is not installed; {INSTALL_HINT}", pytrace=False)
    return path


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def receivers_for(severity: str) -> set[str]:
    """The receivers the shipped route sends an alert with this `severity` label to."""
    result = run(
        tool("amtool"), "config", "routes", "test", f"--config.file={ALERTMANAGER}",
        f"severity={severity}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return set(result.stdout.strip().split(","))


def example_severity_map() -> dict[str, int]:
    config = tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    severity_map: dict[str, int] = config["alertmanager"]["severity_map"]
    return severity_map


def test_alertmanager_example_passes_amtool_check_config() -> None:
    result = run(tool("amtool"), "check-config", str(ALERTMANAGER))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize(
    "severity", sorted(set(DEFAULT_SEVERITY_MAP) | set(example_severity_map()))
)
def test_every_mapped_severity_is_routed_to_warroom(severity: str) -> None:
    assert "warroom" in receivers_for(severity)


def test_an_unmapped_severity_is_not_routed_to_warroom() -> None:
    # Shows the check above can fail: the route is a filter, not a catch-all.
    assert receivers_for("debug") == {"default"}


def test_prometheus_rules_example_passes_promtool_check_rules() -> None:
    result = run(tool("promtool"), "check", "rules", str(RULES))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 3 rules found" in result.stdout


def test_every_example_rule_has_a_mapped_severity_and_a_service() -> None:
    text = RULES.read_text(encoding="utf-8")
    severities = re.findall(r"^\s+severity: (\S+)$", text, flags=re.MULTILINE)
    expressions = re.findall(r"expr: \|?\n?(.*?)\n\s+for:", text, flags=re.DOTALL)

    assert len(severities) == len(expressions) == 3
    assert set(severities) <= set(example_severity_map())
    # `service` survives the aggregation, so the alert's label names the incident's service.
    assert all("by (service" in expr for expr in expressions)
