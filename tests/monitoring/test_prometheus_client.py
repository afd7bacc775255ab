"""PrometheusClient against a real Prometheus, plus the failures a real one rarely produces."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from warroom.monitoring.prometheus import (
    FetchErrorKind,
    PrometheusClient,
    PrometheusError,
    RangeSeries,
)

from .synthetic_traffic import SyntheticTraffic
from .waiting import eventually

INVENTORY_OK = 'http_requests_total{service="inventory",code="201"}'


async def test_instant_query_returns_the_exporters_value(
    prometheus: PrometheusClient, traffic: SyntheticTraffic
) -> None:
    traffic.add_requests("inventory", "201", 42)

    async def scraped(expected: float) -> bool:
        samples = await prometheus.query(INVENTORY_OK)
        return len(samples) == 1 and samples[0].value == expected

    await eventually(lambda: scraped(42), what="42 inventory requests in Prometheus")
    traffic.add_requests("inventory", "201", 8)
    await eventually(lambda: scraped(50), what="50 inventory requests in Prometheus")

    [sample] = await prometheus.query(INVENTORY_OK)
    assert sample.labels["__name__"] == "http_requests_total"
    assert sample.labels["service"] == "inventory"
    assert sample.labels["code"] == "201"
    assert sample.labels["job"] == "exporter"
    assert abs(sample.at - datetime.now(UTC)) < timedelta(seconds=30)


async def test_query_at_a_given_time_is_evaluated_then(prometheus: PrometheusClient) -> None:
    at = datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=UTC)

    [sample] = await prometheus.query("time()", at=at)

    assert sample.labels == {}
    assert sample.value == pytest.approx(at.timestamp())
    assert sample.at == at


async def test_query_range_returns_series_of_points(prometheus: PrometheusClient) -> None:
    async def history() -> RangeSeries | None:
        end = datetime.now(UTC)
        result = await prometheus.query_range(
            'up{job="exporter"}',
            start=end - timedelta(seconds=4),
            end=end,
            step=timedelta(seconds=1),
        )
        return result[0] if len(result) == 1 and len(result[0].points) >= 3 else None

    up = await eventually(history, what="a few seconds of `up` history")

    assert up.labels["job"] == "exporter"
    assert all(point.value == 1 for point in up.points)
    assert [p.at for p in up.points] == sorted(p.at for p in up.points)


async def test_bad_promql_is_a_query_error_with_prometheus_reason(
    prometheus: PrometheusClient,
) -> None:
    with pytest.raises(PrometheusError) as caught:
        await prometheus.query("sum(rate(http_requests_total[5m])")

    assert caught.value.kind is FetchErrorKind.QUERY
    assert caught.value.error_type == "bad_data"
    assert caught.value.status_code == 400
    assert "parse error" in str(caught.value)


async def test_a_range_vector_is_refused_by_the_instant_query(
    prometheus: PrometheusClient,
) -> None:
    with pytest.raises(PrometheusError) as caught:
        await prometheus.query('up{job="exporter"}[10s]')

    assert caught.value.kind is FetchErrorKind.QUERY
    assert "matrix" in str(caught.value)


async def test_nothing_listening_is_a_connection_error(unused_url: str) -> None:
    async with PrometheusClient(unused_url, timeout=2) as client:
        with pytest.raises(PrometheusError) as caught:
            await client.query("up")

    assert caught.value.kind is FetchErrorKind.CONNECTION
    assert unused_url in str(caught.value)
    assert "up" not in str(caught.value).replace(unused_url, "")


async def test_a_url_without_scheme_is_a_connection_error() -> None:
    async with PrometheusClient("prometheus.internal:9090") as client:
        with pytest.raises(PrometheusError) as caught:
            await client.query("up")

    assert caught.value.kind is FetchErrorKind.CONNECTION


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections into the kernel backlog and never answers, like a hung server."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


async def test_a_server_that_never_answers_is_a_timeout(silent_server: str) -> None:
    async with PrometheusClient(silent_server, timeout=0.3) as client:
        with pytest.raises(PrometheusError) as caught:
            await client.query("up")

    assert caught.value.kind is FetchErrorKind.TIMEOUT
    assert "0.3s" in str(caught.value)


def _mock(status: int, body: str | bytes, content_type: str = "text/html") -> httpx.AsyncClient:
    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"content-type": content_type})

    return httpx.AsyncClient(
        transport=httpx.MockTransport(respond), base_url="http://prometheus.test"
    )


async def test_an_error_page_from_a_proxy_is_an_http_error() -> None:
    async with _mock(502, "<html>Bad Gateway</html>") as http:
        client = PrometheusClient(http=http)
        with pytest.raises(PrometheusError) as caught:
            await client.query("up")

    assert caught.value.kind is FetchErrorKind.HTTP
    assert caught.value.status_code == 502
    assert "Bad Gateway" in str(caught.value)


async def test_prometheus_own_timeout_is_reported_with_its_error_type() -> None:
    body = '{"status":"error","errorType":"timeout","error":"query timed out in query execution"}'
    async with _mock(503, body, "application/json") as http:
        with pytest.raises(PrometheusError) as caught:
            await PrometheusClient(http=http).query("up")

    assert caught.value.kind is FetchErrorKind.QUERY
    assert caught.value.error_type == "timeout"
    assert caught.value.status_code == 503


@pytest.mark.parametrize(
    "body",
    [
        "not json at all",
        '{"status":"success"}',
        '{"status":"success","data":{"resultType":"vector","result":[{"metric":{}}]}}',
    ],
)
async def test_an_unexpected_success_body_is_a_response_error(body: str) -> None:
    async with _mock(200, body, "application/json") as http:
        with pytest.raises(PrometheusError) as caught:
            await PrometheusClient(http=http).query("up")

    assert caught.value.kind is FetchErrorKind.RESPONSE


async def test_an_injected_client_is_used_and_left_open(prometheus_url: str) -> None:
    async with httpx.AsyncClient(base_url=prometheus_url) as http:
        async with PrometheusClient(http=http) as client:
            [sample] = await client.query("1 + 1")
        assert sample.value == 2
        assert not http.is_closed


async def test_naive_times_are_refused(prometheus: PrometheusClient) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await prometheus.query("up", at=datetime(2024, 1, 1))  # noqa: DTZ001 - the point
