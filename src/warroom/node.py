"""The composition root: builds one warroom node (store, sequencer, integrations, websocket server,
plain-HTTP endpoints and metrics), wires them together and takes them down in order. The CLI, the
embedded console server, the demo, the tests and the benchmarks all start a server through
`start_node`, and nothing below this module knows how the parts fit together.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Self

from warroom.config import ServerConfig
from warroom.domain.projection import ProjectionError
from warroom.gc_pause import settle_started_process
from warroom.integrations.setup import Integrations
from warroom.monitoring.alertmanager import WebhookMessage
from warroom.protocol.frames import Feature
from warroom.server.app import ServerSettings, WarroomServer
from warroom.server.auth import Authenticator
from warroom.server.http_endpoints import HttpEndpoints, HttpSettings, Webhook
from warroom.server.hub import Clock, Hub, utc_now
from warroom.server.incidents import IncidentCache
from warroom.server.observability import NodeMetrics, TimedSqliteStore
from warroom.store.base import StoreError
from warroom.store.leadership import Leadership, leadership_for
from warroom.store.open import Store, describe, open_store
from warroom.store.sqlite import SqliteStore

log = logging.getLogger(__name__)

_DAY = 86_400.0


class ListenError(Exception):
    """A port the node should listen on is taken or not allowed; one line says which."""


class WarroomNode:
    """A running node bound to one database. Use `async with await start_node(...)`."""

    def __init__(
        self,
        store: Store,
        hub: Hub,
        integrations: Integrations,
        server: WarroomServer,
        config: ServerConfig,
        metrics: NodeMetrics,
        leadership: Leadership,
        http: HttpEndpoints | None = None,
    ) -> None:
        self.store = store
        self.leadership = leadership
        """Whether this node runs the integrations (always, on SQLite)."""
        self.hub = hub
        self.integrations = integrations
        self.server = server
        self.config = config
        self.metrics = metrics
        self.http = http
        self._hub_task = asyncio.create_task(hub.run(), name="warroom-sequencer")
        self._cluster: asyncio.Task[None] | None = None
        if not isinstance(store, SqliteStore):
            # Imported here: SQLite nodes do not load the PostgreSQL driver.
            from warroom.server.cluster import follow_other_nodes

            self._cluster = asyncio.create_task(
                follow_other_nodes(hub, store, on_triage=integrations.triage.changed_elsewhere),
                name="warroom-cluster",
            )
        self._archiver: asyncio.Task[None] | None = None
        if config.history.archive_after_days is not None:
            self._archiver = asyncio.create_task(
                self._archive_daily(timedelta(days=config.history.archive_after_days)),
                name="warroom-archiver",
            )

    async def _archive_daily(self, after: timedelta) -> None:
        """Move closed incidents older than `after` to the archive now and once a day."""
        while True:
            try:
                moved = await self.store.archive(utc_now() - after)
            except StoreError as exc:
                log.error("archiving failed (nothing was moved): %s", exc)
            else:
                if moved:
                    log.info("archived %d closed incidents", len(moved))
            await asyncio.sleep(_DAY)

    @property
    def auth(self) -> Authenticator:
        return self.server.auth

    @property
    def settings(self) -> ServerSettings:
        return self.server.settings

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return self.server.url

    def role(self) -> str:
        """Whether this node runs the integrations, in words for `/readyz`."""
        if self.leadership.is_leader:
            return "integrations: this node (leader)"
        return "integrations: another node (follower)"

    async def ready(self) -> str | None:
        """None when the node can serve: the sequencer runs and the database answers."""
        if self._hub_task.done():
            return "the sequencer stopped"
        try:
            await self.store.users()
        except StoreError as exc:
            return str(exc)
        return None

    async def close(self) -> None:
        """Stop accepting, close every connection (1001 going away), stop the integrations, let
        the sequencer finish its turn, then close the database."""
        if self.http is not None:
            await self.http.close()
        await self.server.close()
        await self.integrations.close()
        await self.leadership.close()
        self.metrics.stop()
        if self._archiver is not None:
            self._archiver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._archiver
        for task in (self._cluster, self._hub_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.store.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def start_node(
    db_path: Path | str,
    settings: ServerSettings | None = None,
    *,
    clock: Clock = utc_now,
    timers: bool | None = None,
    config: ServerConfig | None = None,
    http: HttpSettings | None = None,
) -> WarroomNode:
    """Open the database, rebuild the incidents, start the integrations and listen.

    Args:
        db_path: a SQLite file, or a `postgresql://` URL (password from the config's
            `db_password_file` or the `PG*` environment).
        http: where the plain-HTTP endpoints (webhook, /metrics, /readyz) listen; None: off.
        timers: whether the integrations run on wall-clock timers; None: only with the wall
            clock itself (an injected clock means the caller drives time).

    Raises:
        StoreError: the database cannot be opened or holds a damaged event log.
        ListenError: a port is taken.
    """
    settings = settings or ServerSettings()
    config = config or ServerConfig()
    metrics = NodeMetrics()
    observe = metrics.commit_seconds.observe
    # The PostgreSQL store times its own commits; SQLite's through the server's subclass.
    store = await open_store(
        db_path,
        password_file=config.db_password_file,
        sqlite=TimedSqliteStore,
        observe_commit=observe,
    )
    if isinstance(store, TimedSqliteStore):
        store.observe_commit = observe
    try:
        auth = Authenticator(store)
        await auth.refresh()
        history = config.history
        cache = IncidentCache(
            store,
            snapshot_every=history.snapshot_every,
            idle_after=history.idle_minutes * 60,
            closed_held=settings.limits.closed_incidents_held,
        )
        hub = Hub(
            store,
            auth,
            clock,
            cache=cache,
            follows_per_connection=settings.limits.follows_per_connection,
            follows_per_user=settings.limits.follows_per_user,
        )
        await hub.load()
    except (ProjectionError, StoreError) as exc:
        await store.close()
        if isinstance(exc, StoreError) and str(db_path) in str(exc):
            raise
        raise StoreError(
            f"{describe(store)} holds a damaged event log ({exc}); restore it from a backup"
        ) from None
    except BaseException:
        await store.close()
        raise
    leadership = leadership_for(store, config.db_password_file)
    try:
        await leadership.start()
        integrations = await Integrations.start(
            hub,
            store,
            config,
            clock,
            timers=clock is utc_now if timers is None else timers,
            leadership=leadership,
        )
    except BaseException:
        await leadership.close()
        await store.close()
        raise
    server = WarroomServer(
        hub,
        auth,
        settings,
        links=config.links,
        status_pages=integrations.status,
        features=offered_features(config),
    )
    # This node's commits only: every node counts its own, so the cluster's sum is the total.
    hub.add_observer(metrics.on_events_committed, other_nodes=False)
    metrics.watch_triage(integrations.triage.counts)
    metrics.watch_leadership(lambda: leadership.is_leader)
    metrics.start()
    node = WarroomNode(store, hub, integrations, server, config, metrics, leadership)
    if http is not None:
        node.http = HttpEndpoints(
            http,
            ready=node.ready,
            metrics=metrics.exposition,
            webhook=_webhook(node),
            role=None if isinstance(store, TimedSqliteStore) else node.role,
        )
    try:
        try:
            await server.listen()
            if node.http is not None:
                await node.http.listen()
        except OSError as exc:
            raise ListenError(_listen_problem(exc, settings, http)) from None
    except BaseException:
        await node.close()
        raise
    return node


def _webhook(node: WarroomNode) -> Webhook | None:
    am = node.config.alertmanager
    if am is None or am.webhook_token is None:
        return None
    triage = node.integrations.triage

    async def deliver(message: WebhookMessage) -> None:
        node.metrics.webhooks.inc()
        await triage.deliver(message)

    return Webhook(am.webhook_token.get_secret_value(), am.receiver, deliver)


def _listen_problem(exc: OSError, settings: ServerSettings, http: HttpSettings | None) -> str:
    where = f"{settings.host}:{settings.port}"
    if http is not None:
        where += f" (websocket) or {http.host}:{http.port} (http)"
    return f"cannot listen on {where}: {exc.strerror or exc}"


def offered_features(config: ServerConfig) -> set[Feature]:
    """The features `welcome` names: those the configuration gives a source to."""
    features = set()
    if config.alertmanager is not None:
        features.add(Feature.TRIAGE)
    if config.prometheus is not None:
        features.add(Feature.METRICS)
    return features


async def serve_until_signalled(
    db_path: Path | str,
    settings: ServerSettings,
    config: ServerConfig,
    ready: Callable[[WarroomNode], Awaitable[None]] | None = None,
    http: HttpSettings | None = None,
) -> None:
    """Run a node until SIGTERM or SIGINT, then shut down cleanly."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    node = await start_node(db_path, settings, config=config, http=http)
    # This process is a node from now on, for as long as it runs.
    settle_started_process()
    try:
        if ready is not None:
            await ready(node)
        await stop.wait()
        log.info("shutting down")
    finally:
        await node.close()
