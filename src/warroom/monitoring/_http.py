"""Shared HTTP plumbing for the monitoring clients: the client lifetime, one GET, one error
taxonomy."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

DEFAULT_TIMEOUT = 5.0
"""Seconds; long enough for a busy Prometheus, short enough that a console never looks frozen."""


class FetchErrorKind(StrEnum):
    """Why a monitoring request failed; consoles word their message from this."""

    CONNECTION = "connection"
    """Nothing answered: refused, unresolvable, reset, or a malformed URL."""
    TIMEOUT = "timeout"
    """The server took longer than the client's timeout."""
    HTTP = "http"
    """A non-2xx status without an API error body (a proxy page, a crash)."""
    QUERY = "query"
    """The API understood the request and rejected it: bad PromQL, a bad matcher."""
    RESPONSE = "response"
    """A 2xx answer whose body is not what the API documents."""


class MonitoringError(Exception):
    """A typed failure talking to Prometheus or Alertmanager."""

    def __init__(
        self,
        kind: FetchErrorKind,
        message: str,
        *,
        status_code: int | None = None,
        error_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status_code = status_code
        self.error_type = error_type
        """The API's own error class, e.g. Prometheus' "bad_data"."""


E = TypeVar("E", bound=MonitoringError)


class MonitoringClient:
    """The lifetime of a monitoring API client's HTTP connection pool, shared by both clients.

    Either give it a base URL (it then owns an `httpx.AsyncClient` and closes it in `aclose`)
    or inject a client, e.g. one with auth headers or a mock transport, which stays yours.
    """

    def __init__(
        self,
        base_url: str = "",
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Args:
        base_url: the server's root URL; may be empty when `http` has a base URL.
        http: a client to use instead of creating one.
        timeout: seconds per request.
        """
        self._base_url = base_url.rstrip("/")
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient()
        self.timeout = timeout

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


async def fetch(
    http: httpx.AsyncClient,
    url: str,
    *,
    params: Mapping[str, str | list[str]],
    timeout_seconds: float,
    error: type[E],
) -> httpx.Response:
    """GET `url`, turning every transport failure into `error`; the caller reads the status."""
    try:
        return await http.get(url, params=params, timeout=timeout_seconds)
    # ConnectTimeout is both a timeout and a connect failure; people act on "slow" differently
    # from "down", so timeouts are matched first.
    except httpx.TimeoutException as exc:
        where = _where(http, url)
        raise error(
            FetchErrorKind.TIMEOUT, f"{where} did not answer within {timeout_seconds:g}s"
        ) from exc
    except httpx.TransportError as exc:
        where = _where(http, url)
        raise error(FetchErrorKind.CONNECTION, f"cannot reach {where}: {exc}") from exc
    except httpx.InvalidURL as exc:
        raise error(FetchErrorKind.CONNECTION, f"invalid URL {url!r}: {exc}") from exc


def decode_json(response: httpx.Response, error: type[E]) -> Any:
    """The response body as JSON; `error` if it is not JSON at all."""
    try:
        return response.json()
    except ValueError as exc:
        # A non-JSON body on an error status is someone else's error page (a proxy, a load
        # balancer): the status is the news. On success it means we are talking to the wrong thing.
        if not response.is_success:
            raise http_error(response, error) from exc
        raise error(
            FetchErrorKind.RESPONSE,
            f"HTTP {response.status_code} with a body that is not JSON: {_excerpt(response)}",
            status_code=response.status_code,
        ) from exc


def http_error(response: httpx.Response, error: type[E]) -> E:
    """The error for a non-2xx status whose body the API did not explain."""
    return error(
        FetchErrorKind.HTTP,
        f"HTTP {response.status_code} from {response.request.url.copy_with(query=None)}: "
        f"{_excerpt(response)}",
        status_code=response.status_code,
    )


def _where(http: httpx.AsyncClient, url: str) -> str:
    # Only scheme, host and path: query strings carry whole PromQL expressions.
    return str(http.base_url.join(url).copy_with(query=None))


def _excerpt(response: httpx.Response, limit: int = 200) -> str:
    text = response.text.strip().replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"
