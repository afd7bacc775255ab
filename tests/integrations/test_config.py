"""The server configuration file: the shipped example loads, mistakes are named precisely."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.support.cli import warroom
from warroom.config import ConfigError, load_config
from warroom.domain.links import ServiceLinks, links_for
from warroom.domain.severity import Severity

EXAMPLE = Path(__file__).parents[2] / "server" / "warroom.example.toml"


def test_the_example_config_loads() -> None:
    config = load_config(EXAMPLE)
    assert config.alertmanager is not None
    assert config.alertmanager.severity_map["critical"] is Severity.SEV1
    assert config.prometheus is not None
    assert config.prometheus.metrics.signals["saturation"].critical == 0.95
    assert "error_rate" in config.prometheus.metrics.signals  # defaults kept
    assert config.call_link_for(3, "#incident-2026-11-29-x") == (
        "https://meet.example.com/incident-2026-11-29-x"
    )


def test_links_are_filled_per_service_with_escaped_values() -> None:
    config = load_config(EXAMPLE)
    links = links_for(config.links, "checkout", correlation_id="req 42&x")
    assert links.traces is not None
    assert links.traces.endswith("%40correlation_id%3Areq%2042%26x")
    assert (
        links_for(config.links, "payments-api").dashboard
        == "https://grafana.example.com/d/payments"
    )
    assert links_for(config.links, "checkout").traces is None  # no Correlation-ID, no trace link


def test_grafana_links_get_unix_milliseconds_and_iso_stays_available() -> None:
    templates = {
        "default": ServiceLinks(
            dashboard="https://g.example/d?from={from_ms}&to={to_ms}&iso={from}",
        )
    }
    # A non-UTC offset and sub-millisecond digits: the number is exact, whatever the zone.
    start = datetime(2024, 5, 1, 16, 0, 0, 123999, tzinfo=timezone(timedelta(hours=2)))
    end = datetime(2024, 5, 1, 15, 0, tzinfo=UTC)

    link = links_for(templates, "checkout", start=start, end=end).dashboard

    assert link == (
        "https://g.example/d?from=1714572000123&to=1714575600000"
        "&iso=2024-05-01T16%3A00%3A00.123999%2B02%3A00"
    )


def test_the_example_grafana_link_uses_milliseconds() -> None:
    config = load_config(EXAMPLE)
    start = datetime(2024, 5, 1, 14, 0, tzinfo=UTC)

    link = links_for(config.links, "checkout", start=start, end=start).dashboard

    assert link == (
        "https://grafana.example.com/d/service?var-service=checkout"
        "&from=1714572000000&to=1714572000000"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[updates]\nsev2_minutes = 90\n", "updates.sev2_minutes"),
        ("[pagerduty]\n", "pagerduty.routing_key"),
        (
            '[pagerduty]\nrouting_key = "R0UT1NGKEYFROMPAGERDUTY"\n',
            "pagerduty.routing_key: Value error, must be the 32-character integration key",
        ),
        ("nonsense = [", "is not valid TOML"),
        ("[alertmanager]\nurl = 'http://x'\nextra = 1\n", "alertmanager.extra"),
    ],
)
def test_bad_config_is_refused_with_the_field_named(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert message in str(refused.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[alertmanager]\nurl = 'not a url'\n", "alertmanager.url"),
        ("[prometheus]\nurl = 'ftp://prometheus:9090'\n", "prometheus.url"),
        ("[prometheus]\nurl = 'http://:9090'\n", "prometheus.url"),
        ("[prometheus]\nurl = 'http://prometheus:port'\n", "prometheus.url"),
        ("call_link = 'meet.example.com/{channel}'\n", "call_link"),
        ("call_link = 'https://meet.example.com/{room}'\n", "call_link"),
        ("[links.default]\ndashboard = 'grafana/d/{service}'\n", "links"),
    ],
)
def test_malformed_urls_are_refused_at_load(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert len(refused.value.problems) == 1
    assert refused.value.problems[0].startswith(f"{path}: {key}: ")
    assert "URL" in refused.value.problems[0] or "template" in refused.value.problems[0]


def test_valid_urls_are_kept_as_the_text_given(tmp_path: Path) -> None:
    path = tmp_path / "ok.toml"
    path.write_text("[prometheus]\nurl = 'https://prometheus.example.org:9090/prom'\n")
    config = load_config(path)
    assert config.prometheus is not None
    assert config.prometheus.url == "https://prometheus.example.org:9090/prom"


def test_environment_variables_override_and_extend_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "server.toml"
    path.write_text("[prometheus]\nurl = 'http://prometheus:9090'\npoll_seconds = 15\n")
    monkeypatch.setenv("WARROOM_PROMETHEUS__POLL_SECONDS", "5")
    monkeypatch.setenv("WARROOM_PAGERDUTY__ROUTING_KEY", "SECRETFROMTHEENVIRONMENT00000001")
    config = load_config(path)
    assert config.prometheus is not None
    assert (config.prometheus.url, config.prometheus.poll_seconds) == ("http://prometheus:9090", 5)
    assert config.pagerduty is not None
    assert config.pagerduty.routing_key.get_secret_value() == "SECRETFROMTHEENVIRONMENT00000001"


def test_every_problem_is_one_line_naming_the_file_or_variable_and_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "server.toml"
    path.write_text("[updates]\nsev2_minutes = 90\n[alertmanager]\nurl = 'not a url'\n")
    monkeypatch.setenv("WARROOM_PROMETHEUS__URL", "http://prometheus:9090")
    monkeypatch.setenv("WARROOM_PROMETHEUS__POLL_SECONDS", "-1")
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    wheres = [problem.split(": ")[:2] for problem in refused.value.problems]
    assert sorted(wheres) == sorted(
        [
            [str(path), "updates.sev2_minutes"],
            [str(path), "alertmanager.url"],
            ["WARROOM_PROMETHEUS__POLL_SECONDS", "prometheus.poll_seconds"],
        ]
    )
    assert all("\n" not in problem for problem in refused.value.problems)


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config(tmp_path / "nope.toml")
    assert str(refused.value) == f"{tmp_path / 'nope.toml'}: cannot read: No such file or directory"


async def test_a_config_mistake_stops_the_server_at_start(tmp_path: Path) -> None:
    path = tmp_path / "server.toml"
    path.write_text("[alertmanager]\nurl = 'not a url'\n")
    result = await warroom(
        "serve", "--port", "0", "--db", str(tmp_path / "w.db"), "--config", str(path)
    )
    assert result.code == 1
    assert result.err == (
        f"warroom: {path}: alertmanager.url: Value error, 'not a url' is not an http(s) URL "
        "with a host, e.g. https://host:9090\n"
    )
    assert not (tmp_path / "w.db").exists()
