"""Async client for Prometheus' HTTP query API, returning typed samples and series."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from warroom.monitoring._http import (
    FetchErrorKind,
    MonitoringClient,
    MonitoringError,
    decode_json,
    fetch,
    http_error,
)

__all__ = [
    "FetchErrorKind",
    "Point",
    "PrometheusClient",
    "PrometheusError",
    "RangeSeries",
    "Sample",
]

log = logging.getLogger(__name__)


class PrometheusError(MonitoringError):
    """Prometheus could not be reached, refused the query, or answered nonsense.

    `kind` says which; for a rejected query `error_type` is Prometheus' own class
    (`bad_data` for a PromQL syntax error, `execution`, `timeout`, ...).
    """


class Sample(BaseModel):
    """One element of an instant vector: a series' labels and its value at `at`."""

    model_config = ConfigDict(frozen=True)

    labels: dict[str, str]
    value: float
    """May be NaN or ±Inf, e.g. a quantile over no traffic, exactly as Prometheus computed it."""
    at: datetime


class Point(BaseModel):
    """One step of a range series."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    value: float


class RangeSeries(BaseModel):
    """One series of a range query; steps where the series had no value are absent."""

    model_config = ConfigDict(frozen=True)

    labels: dict[str, str]
    points: list[Point]


# The wire format, as documented at https://prometheus.io/docs/prometheus/latest/querying/api/.
_WirePair = tuple[float, str]


class _VectorItem(BaseModel):
    metric: dict[str, str]
    value: _WirePair


class _MatrixItem(BaseModel):
    metric: dict[str, str]
    values: list[_WirePair]


class _Data(BaseModel):
    resultType: Literal["vector", "matrix", "scalar", "string"]  # camelCase: the wire name
    result: Any


class _Envelope(BaseModel):
    status: Literal["success", "error"]
    data: _Data | None = None
    errorType: str | None = None  # camelCase: the wire name
    error: str | None = None
    warnings: list[str] = []


_VECTOR = TypeAdapter(list[_VectorItem])
_MATRIX = TypeAdapter(list[_MatrixItem])
_SCALAR = TypeAdapter(_WirePair)


class PrometheusClient(MonitoringClient):
    """Runs PromQL against one Prometheus server, e.g. `PrometheusClient("http://prometheus:9090")`.

    The timeout is also sent to Prometheus with each query, so it stops evaluating too.
    """

    async def query(self, promql: str, *, at: datetime | None = None) -> list[Sample]:
        """Evaluate `promql` at one instant (default: Prometheus' now).

        A scalar result comes back as one sample with no labels.

        Raises:
            PrometheusError: on any failure, including a range-vector or string result.
        """
        params = {"query": promql, "timeout": f"{self.timeout:g}"}
        if at is not None:
            params["time"] = _unix(at)
        data = await self._get("/api/v1/query", params)
        try:
            if data.resultType == "vector":
                return [
                    Sample(labels=item.metric, value=float(item.value[1]), at=_utc(item.value[0]))
                    for item in _VECTOR.validate_python(data.result)
                ]
            if data.resultType == "scalar":
                ts, value = _SCALAR.validate_python(data.result)
                return [Sample(labels={}, value=float(value), at=_utc(ts))]
        except (ValidationError, ValueError) as exc:
            raise _bad_shape(exc) from exc
        raise PrometheusError(
            FetchErrorKind.QUERY,
            f"expected an instant vector or scalar, got a {data.resultType}",
            error_type="unexpected_result_type",
        )

    async def query_range(
        self, promql: str, *, start: datetime, end: datetime, step: timedelta
    ) -> list[RangeSeries]:
        """Evaluate `promql` at every `step` from `start` to `end` inclusive.

        Raises:
            PrometheusError: on any failure.
        """
        if step <= timedelta(0):
            raise ValueError("step must be positive")
        params = {
            "query": promql,
            "start": _unix(start),
            "end": _unix(end),
            "step": f"{step.total_seconds():g}",
            "timeout": f"{self.timeout:g}",
        }
        data = await self._get("/api/v1/query_range", params)
        if data.resultType != "matrix":
            raise PrometheusError(
                FetchErrorKind.RESPONSE, f"range query answered with a {data.resultType}"
            )
        try:
            return [
                RangeSeries(
                    labels=item.metric,
                    points=[Point(at=_utc(ts), value=float(v)) for ts, v in item.values],
                )
                for item in _MATRIX.validate_python(data.result)
            ]
        except (ValidationError, ValueError) as exc:
            raise _bad_shape(exc) from exc

    async def _get(self, path: str, params: dict[str, str]) -> _Data:
        response = await fetch(
            self._http,
            self._base_url + path,
            params=params,
            timeout_seconds=self.timeout,
            error=PrometheusError,
        )
        body = decode_json(response, PrometheusError)
        try:
            envelope = _Envelope.model_validate(body)
        except ValidationError as exc:
            # Not Prometheus' envelope at all: a proxy's JSON error page or another service.
            if not response.is_success:
                raise http_error(response, PrometheusError) from exc
            raise _bad_shape(exc) from exc
        if envelope.status == "error":
            # Prometheus explains bad PromQL (400 bad_data), evaluation failures (422 execution)
            # and its own timeouts (503 timeout) in the same envelope.
            raise PrometheusError(
                FetchErrorKind.QUERY,
                envelope.error or "Prometheus reported an error without a message",
                status_code=response.status_code,
                error_type=envelope.errorType,
            )
        if not response.is_success:
            raise http_error(response, PrometheusError)
        if envelope.data is None:
            raise PrometheusError(FetchErrorKind.RESPONSE, "success without data")
        for warning in envelope.warnings:
            log.info("Prometheus warning for %s: %s", params.get("query"), warning)
        return envelope.data


def _unix(moment: datetime) -> str:
    if moment.tzinfo is None:
        # A naive time would silently be read as the host's local time.
        raise ValueError("query times must be timezone-aware")
    return f"{moment.timestamp():.3f}"


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def _bad_shape(exc: Exception) -> PrometheusError:
    return PrometheusError(FetchErrorKind.RESPONSE, f"unexpected result shape: {exc}")
