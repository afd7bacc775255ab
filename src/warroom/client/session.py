"""`WarroomClient`: one reconnecting websocket that keeps local copies of followed incidents.

Writes are never lost to a dropped connection: every write keeps its id until the server answers,
is resent with the same id after a reconnect (the server applies an id once), and is journalled in
the outbox when one is given. Followed incidents resume from their last seen sequence number.

Given several server addresses (the nodes of one cluster), it connects to the first that answers
and, when the connection drops, to the next in turn; the resume is the same on any node, because
they share one database: the same sequence numbers and the same applied-once command ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import random
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from websockets.asyncio.client import ClientConnection, connect, unix_connect
from websockets.datastructures import Headers
from websockets.exceptions import (
    ConnectionClosed,
    ConnectionClosedOK,
    InvalidHandshake,
    InvalidStatus,
)
from websockets.frames import CloseCode
from websockets.proxy import get_proxy
from websockets.uri import parse_uri

from warroom.client.errors import ClientError as ClientError
from warroom.client.outbox import Outbox
from warroom.client.updates import (
    ClientUpdate,
    ConnectionStatus,
    EventsApplied,
    MetricsChanged,
    PresenceChanged,
    StateReplaced,
    StatusChanged,
    TriageChanged,
    WriteRefused,
)
from warroom.domain.commands import Command, DismissTriage, PinMetrics
from warroom.domain.errors import ErrorCode
from warroom.domain.events import Event
from warroom.domain.incident import IncidentState, IncidentSummary
from warroom.domain.links import ServiceLinks
from warroom.domain.metrics import MetricsSnapshot
from warroom.domain.projection import ProjectionError, apply_events
from warroom.gc_pause import LARGE_FRAME, paused_gc
from warroom.protocol.columnar_events import apply_columnar
from warroom.protocol.compact import apply_compact
from warroom.protocol.endpoint import server_addresses, unix_socket_of
from warroom.protocol.frames import (
    PROTOCOL_VERSION,
    SERVER_FRAME_ADAPTER,
    Ack,
    ColumnarEvents,
    ColumnarSnapshot,
    CompactEvents,
    CompactSnapshot,
    ErrorFrame,
    Events,
    Feature,
    GetMetrics,
    IncidentList,
    ListIncidents,
    MetricsReport,
    Presence,
    PresenceUser,
    ReadLog,
    Snapshot,
    Subscribe,
    SubscribeTriage,
    TriageList,
    Unsubscribe,
    Unsubscribed,
    Welcome,
)
from warroom.protocol.handshake import (
    ACCEPT_HEADER,
    CONSOLE_HEADER,
    FEATURES_HEADER,
    MAX_HANDSHAKE_SUBSCRIBES,
    SUBSCRIBE_HEADER,
    SUBSCRIBED_HEADER,
)
from warroom.protocol.packed import MAGIC as PACKED_MAGIC
from warroom.protocol.packed import PackedSnapshot, read_packed_snapshot

log = logging.getLogger(__name__)

_REPLY_ID = re.compile(r'"id":\s*"([^"\\]{1,100})"')
"""Finds the id of a reply this client cannot read (see `_refuse_unreadable_reply`)."""

CONSOLE_ID = uuid.uuid4().hex
"""This process's console id, sent with every handshake (`CONSOLE_HEADER`): every client of one
process is one console to the server's sign-in throttle, however often it signs in again."""


@functools.cache
def _proxy_for(url: str) -> str | None:
    """The proxy the environment names for `url` (`HTTPS_PROXY`, `NO_PROXY`...), as websockets
    would pick it, looked up once per process: websockets looks it up at every connect by
    reading the whole environment, 0.26-0.38 ms of each reconnect's handshake (wall17)."""
    return get_proxy(parse_uri(url))


_FEATURE_FIELDS = (
    "compact",
    "compact_snapshot",
    "columnar_snapshot",
    "columnar_events",
    "packed_snapshot",
)
"""The subscribe fields a client sends only when set (each needs its feature)."""


_HANDSHAKE_ENCODINGS = frozenset(
    {Feature.COMPACT, Feature.COMPACT_SNAPSHOT, Feature.COLUMNAR_SNAPSHOT}
)
"""The encodings a handshake's subscribes ask for in their fields: every server that reads
`SUBSCRIBE_HEADER` knows these. Newer ones are asked for in `ACCEPT_HEADER`, which a server
that does not know them ignores (a field it did not know would refuse the subscribe)."""
_HANDSHAKE_ACCEPTS = f"{Feature.COLUMNAR_EVENTS.value},{Feature.PACKED_SNAPSHOT.value}"
"""What `ACCEPT_HEADER` asks for."""
MAX_FRAME_MIB = 64
"""The largest message the client takes from a server, by default. A snapshot has no bound of
its own (an incident has no entry cap); the bench's 2,000 entries are 226 KB packed, so 64 MiB
is some 280 times that. It bounds one message, not what a console holds: a message of empty
entries is about 22 bytes each on the wire and 1.5 KB each once every entry is built."""


_ERRORS_DESCRIBED = 8
"""A frame refused with more validation errors than this is described by their number only:
each error described is an object made, and a hostile frame of a few megabytes holds a million
(a list of a million bad items), which described cost a gigabyte and seconds (review24)."""


def _why(exc: ValidationError) -> str:
    """Where and why a server's frame did not validate, without its text (which could be
    megabytes, or hostile) and at a cost bounded whatever the frame holds."""
    count = exc.error_count()
    if count > _ERRORS_DESCRIBED:
        return f"{count} values are not what the protocol says"
    first = exc.errors(include_input=False, include_url=False, include_context=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{first['msg'][:200]} at {where[:200]}"


class AuthError(ClientError):
    pass


class Unreachable(ClientError):
    pass


class CommandRefused(ClientError):
    def __init__(self, code: ErrorCode, message: str, current: Any = None) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message
        self.current = current


def new_id() -> str:
    return uuid.uuid4().hex


class WarroomClient:
    """A connection to a warroom server, mirroring the incidents it follows."""

    def __init__(
        self,
        url: str | Sequence[str],
        token: str,
        *,
        outbox: Outbox | None = None,
        reconnect: bool = True,
        max_backoff: float = 5.0,
        rate_limit_pause: float = 1.0,
        max_frame_mib: int = MAX_FRAME_MIB,
    ) -> None:
        self.urls = server_addresses(url) if isinstance(url, str) else list(url)
        """The servers to try, in order; several when the nodes of a cluster are given."""
        self._current = 0
        self.user: str | None = None
        self.status = ConnectionStatus.CONNECTING
        self.states: dict[int, IncidentState] = {}
        self.presence: dict[int, list[PresenceUser]] = {}
        self.links: dict[str, ServiceLinks] = {}
        self.features: frozenset[Feature] = frozenset()
        """What the server said it offers in its `welcome` (triage, metrics)."""
        self.triage: TriageList | None = None
        """The triage list, once `follow_triage` was called; kept current by the server."""
        self.metrics: dict[int, MetricsSnapshot] = {}
        """The latest metrics snapshot per followed incident."""
        self._token = token
        self._outbox = outbox
        self._reconnect = reconnect
        self._max_backoff = max_backoff
        self._max_frame_mib = max_frame_mib
        self._listeners: list[Callable[[ClientUpdate], None]] = []
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._first_contact: asyncio.Future[None] | None = None
        self._waiting_for_first_contact = True
        self._followed: set[int] = set()
        self._follow_waiters: dict[int, list[asyncio.Future[IncidentState]]] = {}
        self._writes: dict[str, tuple[dict[str, Any], asyncio.Future[Ack] | None]] = {}
        self._reads: dict[str, tuple[BaseModel, asyncio.Future[Any]]] = {}
        self._subscribe_ids: dict[str, int] = {}
        self._handshake_subscribes: dict[str, int] = {}
        """The subscribes the latest handshake carried (`SUBSCRIBE_HEADER`), by frame id; empty
        once known that the server did not take them."""
        self._handshake_features: frozenset[Feature] = frozenset()
        """What the server offers beyond `welcome.features`, named in its handshake's answer."""
        self._send_lock = asyncio.Lock()
        self._retries: set[asyncio.Task[None]] = set()
        self._rate_limit_pause = rate_limit_pause
        self._follows_triage = False
        if outbox is not None:
            for frame in outbox.pending:
                self._writes[frame["id"]] = (frame, None)

    # --- lifecycle ------------------------------------------------------------------------------

    def add_listener(self, listener: Callable[[ClientUpdate], None]) -> None:
        self._listeners.append(listener)

    async def start(self, wait: bool = True, follow: Iterable[int] = ()) -> None:
        """Start connecting. With `wait`, return once connected, or raise `AuthError` /
        `Unreachable` if the first attempt fails; without it, keep trying in the background.

        Args:
            follow: incidents to follow from the start: their subscribes go with the handshake,
                so their catch-up comes right after the `welcome` instead of a round trip later.
                `follow()` one to wait for its state.
        """
        self._followed.update(follow)
        self._first_contact = asyncio.get_running_loop().create_future()
        self._waiting_for_first_contact = wait
        self._task = asyncio.create_task(self._run(), name=f"warroom-client {self.url}")
        if wait:
            await self._first_contact

    async def close(self) -> None:
        """Quit: close the connection with a normal closure (1000) and stop reconnecting."""
        self._reconnect = False
        ws = self._ws
        if ws is not None:
            # Closed here, before the task is cancelled: cancelled inside websockets'
            # `async with connect`, the connection would close with 1011 (internal error), which
            # tells the server something broke when someone simply quit. CLOSED first, so the
            # loop that sees this connection end returns instead of counting a failure.
            self._set_status(ConnectionStatus.CLOSED)
            await ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._set_status(ConnectionStatus.CLOSED)

    @property
    def url(self) -> str:
        """The server this client is connected to, or is trying now."""
        return self.urls[self._current]

    @property
    def unsent(self) -> int:
        return len(self._writes)

    @property
    def pending_frames(self) -> list[dict[str, Any]]:
        """Writes not yet acknowledged, in their order, as sent (including those the outbox kept
        from an earlier run), so a console can show them before the server has them."""
        return [frame for frame, _ in self._writes.values()]

    # --- reading --------------------------------------------------------------------------------

    async def list_incidents(self) -> list[IncidentSummary]:
        reply = await self._read(ListIncidents(id=new_id()))
        assert isinstance(reply, IncidentList)
        return reply.incidents

    async def read_log(self, incident_id: int) -> list[Event]:
        """Every event of an incident, in order (the server sends it a page at a time)."""
        events: list[Event] = []
        while True:
            after = events[-1].seq if events else 0
            reply = await self._read(ReadLog(id=new_id(), incident_id=incident_id, after=after))
            assert isinstance(reply, Events)
            events.extend(reply.events)
            if not reply.more or not reply.events:
                return events

    async def follow_triage(self) -> TriageList:
        """Subscribe to the triage list; `self.triage` stays current afterwards."""
        self._follows_triage = True
        reply = await self._read(SubscribeTriage(id=new_id()))
        assert isinstance(reply, TriageList)
        return reply

    async def dismiss_triage(self, triage_id: int, reason: str) -> Ack:
        """Dismiss a triage item as noise; a write like any other (outbox, retries), acknowledged
        with its seq in the triage log.

        Raises:
            CommandRefused: the item is unknown or already decided; nothing changed.
        """
        return await self.execute(DismissTriage(id=new_id(), triage_id=triage_id, reason=reason))

    async def get_metrics(self, incident_id: int) -> MetricsReport:
        reply = await self._read(GetMetrics(id=new_id(), incident_id=incident_id))
        assert isinstance(reply, MetricsReport)
        return reply

    async def pin_metrics(self, incident_id: int) -> Ack:
        """Write the incident's latest metrics into its timeline; returns the entry's ack.

        Raises:
            CommandRefused: the role may not, or the server has no snapshot yet.
        """
        return await self.execute(PinMetrics(id=new_id(), incident_id=incident_id))

    async def follow(self, incident_id: int) -> IncidentState:
        """Subscribe to an incident and return its state once it is current."""
        waiter: asyncio.Future[IncidentState] = asyncio.get_running_loop().create_future()
        self._follow_waiters.setdefault(incident_id, []).append(waiter)
        if incident_id not in self._followed:
            self._followed.add(incident_id)
            await self._subscribe(incident_id)
        elif incident_id in self.states and (
            self.status is not ConnectionStatus.CONNECTED
            or incident_id not in self._subscribe_ids.values()
        ):
            # Connected with a subscribe of it on the way, the state held may be behind: the
            # answer is a moment away, so wait for it. Offline, the copy held is the best there
            # is until the server is back (the catch-up then replaces it, as for any follower).
            waiter.set_result(self.states[incident_id])
        return await waiter

    async def unfollow(self, incident_id: int) -> None:
        self._followed.discard(incident_id)
        self.states.pop(incident_id, None)
        self.presence.pop(incident_id, None)
        await self._send_json(Unsubscribe(id=new_id(), incident_id=incident_id).model_dump_json())

    # --- writing --------------------------------------------------------------------------------

    def submit(self, command: Command) -> asyncio.Future[Ack]:
        """Queue a write; it is sent now or as soon as the connection is back."""
        frame = command.model_dump(mode="json")
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._writes[command.id] = (frame, future)
        if self._outbox is not None:
            self._outbox.add(frame)
        self._emit(StatusChanged(self.status, self.unsent))
        if self._ws is not None and self.status is ConnectionStatus.CONNECTED:
            task = asyncio.create_task(self._send_json(command.model_dump_json()))
            future.add_done_callback(lambda _: task)  # keep a reference until answered
        return future

    async def execute(self, command: Command) -> Ack:
        """Send a write and wait for the server's commit.

        Raises:
            CommandRefused: the server refused it; nothing changed.
        """
        return await self.submit(command)

    # --- connection loop ------------------------------------------------------------------------

    async def _run(self) -> None:
        attempt = 0
        failures = 0  # in a row: once every server has failed, the round is lost
        while True:
            try:
                async with self._connect() as ws:
                    self._ws = ws
                    self._read_handshake_answer(ws.response.headers if ws.response else Headers())
                    attempt = failures = 0
                    # Undecoded: the frames are JSON, which the validator reads from UTF-8
                    # bytes as they came (checking them); decoding a catch-up of megabytes into
                    # a str first is one more copy of it.
                    with contextlib.suppress(ConnectionClosedOK):
                        while True:
                            await self._dispatch(await ws.recv(decode=False))
                error: ClientError = Unreachable(f"connection to {self.url} closed")
            except InvalidStatus as exc:
                if exc.response.status_code == 401:
                    self._give_up(AuthError("the server refused the token (401)"))
                    return
                error = Unreachable(f"{self.url}: {exc}")
            except ConnectionClosed as exc:
                if (
                    exc.rcvd is None
                    and exc.sent is not None
                    and exc.sent.code == CloseCode.MESSAGE_TOO_BIG
                ):
                    # It would send the same again on every reconnection: say so once, and why.
                    self._give_up(
                        ClientError(
                            f"{self.url} sent a message over this console's limit of "
                            f"{self._max_frame_mib} MiB; if an incident really is that large, "
                            "raise max_frame_mib in console.toml (or WARROOM_MAX_FRAME_MIB)"
                        )
                    )
                    return
                error = Unreachable(f"cannot reach {self.url}: {exc}")
            except (OSError, TimeoutError, InvalidHandshake) as exc:
                error = Unreachable(f"cannot reach {self.url}: {exc}")
            finally:
                self._ws = None
            if self.status is ConnectionStatus.CLOSED:
                return  # given up while connected (a server speaking another protocol)
            failures += 1
            # The next server in turn; the last one's failure ends the round and then only a
            # first contact that never succeeded, or a client that must not retry, gives up.
            self._current = (self._current + 1) % len(self.urls)
            round_lost = failures >= len(self.urls)
            if round_lost:
                self._first_failure(error)
            if round_lost and not self._reconnect:
                self._give_up(error)
                return
            self._set_status(ConnectionStatus.RECONNECTING)
            delay = min(self._max_backoff, 0.05 * 2**attempt) * (0.5 + random.random() / 2)
            attempt += 1
            await asyncio.sleep(delay)

    def _connect(self) -> connect:
        headers = [("Authorization", f"Bearer {self._token}"), (CONSOLE_HEADER, CONSOLE_ID)]
        # Followed incidents' subscribes go with the handshake: their catch-up follows the
        # welcome at once (the lost connection's subscribes are never answered now).
        self._subscribe_ids.clear()
        for incident_id in sorted(self._followed)[:MAX_HANDSHAKE_SUBSCRIBES]:
            headers.append((SUBSCRIBE_HEADER, self._subscribe_frame(incident_id, handshake=True)))
        self._handshake_subscribes = dict(self._subscribe_ids)
        if self._handshake_subscribes:
            headers.append((ACCEPT_HEADER, _HANDSHAKE_ACCEPTS))
        options: dict[str, Any] = dict(
            additional_headers=headers,
            max_size=self._max_frame_mib * 2**20,
            # A server that never answers the closing handshake holds a quit this long.
            close_timeout=2,
            # Read everything the server sends: with a bounded queue a busy moment stops
            # reading, and then even the closing handshake waits for its timeout.
            max_queue=None,
            open_timeout=10,
        )
        socket = unix_socket_of(self.url)
        if socket is not None:
            return unix_connect(socket, "ws://localhost/", **options)
        return connect(self.url, proxy=_proxy_for(self.url), **options)

    def _read_handshake_answer(self, headers: Headers) -> None:
        """What the server said in its answer to the handshake: whether it took the subscribes
        it carried (an older server ignores them, and they are sent after the `welcome`), and
        the features it names there."""
        taken = headers.get_all(SUBSCRIBED_HEADER)
        if taken != [str(len(self._handshake_subscribes))]:
            self._handshake_subscribes = {}
        offered = {
            name.strip() for value in headers.get_all(FEATURES_HEADER) for name in value.split(",")
        }
        self._handshake_features = frozenset(f for f in Feature if f.value in offered)

    def _first_failure(self, error: ClientError) -> None:
        # Only a caller waiting in `start` turns a failed first attempt into an error; a console
        # started offline keeps trying until the server is back.
        if not self._waiting_for_first_contact:
            return
        if self._first_contact is not None and not self._first_contact.done():
            self._first_contact.set_exception(error)
            self._reconnect = False

    def _give_up(self, error: ClientError) -> None:
        if self._first_contact is not None and not self._first_contact.done():
            self._first_contact.set_exception(error)
            if not self._waiting_for_first_contact:
                self._first_contact.exception()  # nobody awaits it; mark it retrieved
        self._set_status(ConnectionStatus.CLOSED)
        for _, future in self._writes.values():
            if future is not None and not future.done():
                future.set_exception(error)
        for _, read_future in self._reads.values():
            if not read_future.done():
                read_future.set_exception(error)
        for waiters in self._follow_waiters.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(error)

    async def _on_welcome(self, welcome: Welcome) -> None:
        if welcome.protocol != PROTOCOL_VERSION:
            self._give_up(
                ClientError(
                    f"the server speaks protocol {welcome.protocol}, this client "
                    f"{PROTOCOL_VERSION}; upgrade warroom"
                )
            )
            self._reconnect = False
            if self._ws is not None:
                await self._ws.close()
            return
        self.user = welcome.user
        self.links = welcome.links
        self.features = frozenset(welcome.features) | self._handshake_features
        self._set_status(ConnectionStatus.CONNECTED)
        if self._first_contact is not None and not self._first_contact.done():
            self._first_contact.set_result(None)
        # Resume: followed incidents from their last seq, then pending writes in their order.
        async with self._send_lock:
            # Only the handshake's subscribes are answered now, if the server took them; others
            # made while connecting were never sent, and left in place, one would keep a
            # followed incident from being asked for again (`_events_out_of_order`).
            self._subscribe_ids.clear()
            for frame_id, incident_id in self._handshake_subscribes.items():
                if incident_id in self._followed:
                    self._subscribe_ids[frame_id] = incident_id
                else:
                    # Unfollowed while connecting: its unsubscribe was never sent, and the
                    # server took the handshake's subscribe (it would keep sending it, and
                    # showing this user in its presence).
                    unsubscribe = Unsubscribe(id=new_id(), incident_id=incident_id)
                    await self._send_unlocked(unsubscribe.model_dump_json())
            asked = set(self._handshake_subscribes.values())
            for incident_id in sorted(self._followed - asked):
                await self._send_unlocked(self._subscribe_frame(incident_id))
            for frame, _ in list(self._writes.values()):
                await self._send_unlocked(json.dumps(frame))
            for read, _ in list(self._reads.values()):
                await self._send_unlocked(read.model_dump_json())
            if self._follows_triage and not any(
                isinstance(read, SubscribeTriage) for read, _ in self._reads.values()
            ):
                await self._send_unlocked(SubscribeTriage(id=new_id()).model_dump_json())

    async def _dispatch(self, raw: str | bytes) -> None:
        with paused_gc(len(raw) >= LARGE_FRAME):
            await self._dispatch_frame(raw)

    async def _dispatch_frame(self, raw: str | bytes) -> None:
        if raw[:4] == PACKED_MAGIC:
            self._on_packed_snapshot(raw)
            return
        try:
            frame = SERVER_FRAME_ADAPTER.validate_json(raw)
        except ValidationError as exc:
            # A newer server may send frames this client does not know; they are skipped,
            # as docs/protocol.md asks of every client, rather than ending the connection.
            log.warning("skipped a frame this client does not understand: %s", _why(exc))
            self._refuse_unreadable_reply(raw)
            return
        if type(frame) is CompactEvents or type(frame) is ColumnarEvents:
            self._on_compact_events(frame)
            return
        replies = Events | IncidentList | Unsubscribed | TriageList | MetricsReport
        if isinstance(frame, replies) and frame.id is not None and frame.id in self._reads:
            _, future = self._reads.pop(frame.id)
            if not future.done():
                future.set_result(frame)
            if isinstance(frame, TriageList):
                self.triage = frame
                self._emit(TriageChanged())
            return
        match frame:
            case Events():
                self._on_events(frame)
            case Ack():
                self._settle_write(frame.id, frame, None)
            case ErrorFrame():
                self._on_error(frame)
            case Snapshot() | CompactSnapshot() | ColumnarSnapshot():
                self._on_snapshot(
                    frame,
                    lambda: frame.state if isinstance(frame, Snapshot) else frame.state.to_state(),
                )
            case Presence():
                self.presence[frame.incident_id] = frame.users
                self._emit(PresenceChanged(frame.incident_id))
            case Welcome():
                await self._on_welcome(frame)
            case TriageList():
                self.triage = frame
                self._emit(TriageChanged())
            case MetricsReport():
                if frame.snapshot is not None:
                    self.metrics[frame.incident_id] = frame.snapshot
                self._emit(MetricsChanged(frame.incident_id))

    def _on_packed_snapshot(self, raw: str | bytes) -> None:
        """A binary message beginning as a packed snapshot does (`protocol.packed`): taken
        in whole, or skipped as any frame this client cannot read."""
        try:
            frame = read_packed_snapshot(raw.encode() if isinstance(raw, str) else raw)
        except ValueError as exc:
            why = _why(exc) if isinstance(exc, ValidationError) else str(exc)
            log.warning("skipped a packed snapshot that does not hold together: %s", why)
            self._refuse_unreadable_reply(raw)
            return
        self._on_snapshot(frame, lambda: frame.state)

    def _on_snapshot(
        self,
        frame: Snapshot | CompactSnapshot | ColumnarSnapshot | PackedSnapshot,
        state_of: Callable[[], IncidentState],
    ) -> None:
        """A subscribe's snapshot, in any encoding; `state_of` makes the state it carries
        (only for an incident still followed)."""
        if frame.incident_id not in self._followed:
            # The answer to a subscribe made before an unfollow: kept, it would be a copy
            # never brought up to date (events of unfollowed incidents are skipped).
            self._subscribe_ids.pop(frame.id or "", None)
            return
        self.states[frame.incident_id] = state_of()
        self._emit(StateReplaced(frame.incident_id))
        if frame.head is None or frame.head <= frame.seq:
            self._subscribe_ids.pop(frame.id or "", None)
            self._resolve_follow(frame.incident_id)
        # else: a stored snapshot; the events after it follow in the next frame, which answers
        # the subscribe.

    def _on_events(self, frame: Events) -> None:
        state = self.states.get(frame.incident_id)
        if state is None or frame.incident_id not in self._followed:
            return
        # Consecutive by the protocol: skip what this copy already holds, apply the rest at once.
        events = frame.events
        held = state.seq
        start = next((n for n, event in enumerate(events) if event.seq > held), len(events))
        applied = events[start:] if start else events
        try:
            apply_events(state, applied)
        except ProjectionError as exc:
            self._events_out_of_order(frame.incident_id, frame.id, exc)
            return
        if applied:
            self._emit(EventsApplied(frame.incident_id, applied))
        if frame.id is not None:
            self._subscribe_ids.pop(frame.id, None)
            self._resolve_follow(frame.incident_id)

    def _on_compact_events(self, frame: CompactEvents | ColumnarEvents) -> None:
        """A subscribe's catch-up in the compact or columnar encoding: applied as `_on_events`
        applies an `events` frame, the timeline notes without building an event each."""
        state = self.states.get(frame.incident_id)
        if state is None or frame.incident_id not in self._followed:
            return
        try:
            if isinstance(frame, ColumnarEvents):
                applied = apply_columnar(state, frame.incident_id, frame.events)
            else:
                applied = apply_compact(state, frame.incident_id, frame.events)
        except ProjectionError as exc:
            self._events_out_of_order(frame.incident_id, frame.id, exc)
            return
        if applied:
            self._emit(EventsApplied(frame.incident_id, applied))
        if frame.id is not None:
            self._subscribe_ids.pop(frame.id, None)
            self._resolve_follow(frame.incident_id)

    def _events_out_of_order(
        self, incident_id: int, frame_id: str | None, exc: ProjectionError
    ) -> None:
        """Events that do not follow on from this copy's seq (a faulty or hostile server): those
        that did follow stay applied and the console redraws from the copy. A subscribe's answer
        refuses the follow, as an unreadable answer does; a live frame has the incident asked
        for again from the seq held, unless it is already (that answer carries an id, so a server
        that keeps answering with gaps makes no loop of it). Left to propagate, the error ended
        the connection's reading for good while it still showed as connected."""
        log.warning("incident %d: the server's events do not follow on: %s", incident_id, exc)
        self._emit(StateReplaced(incident_id))
        if frame_id is not None and frame_id in self._subscribe_ids:
            message = "the server's events did not follow on from the incident's last seq"
            self._on_error(ErrorFrame(id=frame_id, code=ErrorCode.INTERNAL, message=message))
        elif incident_id in self._followed and incident_id not in self._subscribe_ids.values():
            # One at a time: a flood of such frames while the answer is awaited would otherwise
            # keep a subscribe (and its id) for each. The id is taken now, not when sent.
            task = asyncio.create_task(self._send_json(self._subscribe_frame(incident_id)))
            self._retries.add(task)
            task.add_done_callback(self._retries.discard)

    def _on_error(self, frame: ErrorFrame) -> None:
        if frame.id is None:
            log.warning("server error: %s %s", frame.code, frame.message)
            return
        refused = CommandRefused(frame.code, frame.message, frame.current)
        if frame.code is ErrorCode.RATE_LIMITED and frame.id in self._writes:
            # Not a refusal of the request itself: it stays pending and goes out again shortly.
            self._retry_later(json.dumps(self._writes[frame.id][0]))
        elif frame.code is ErrorCode.RATE_LIMITED and frame.id in self._reads:
            self._retry_later(self._reads[frame.id][0].model_dump_json())
        elif frame.code is ErrorCode.RATE_LIMITED and frame.id in self._subscribe_ids:
            self._retry_later_subscribe(self._subscribe_ids.pop(frame.id))
        elif frame.id in self._writes:
            self._settle_write(frame.id, None, refused)
            self._emit(WriteRefused(frame.id, frame.code, frame.message))
        elif frame.id in self._reads:
            _, future = self._reads.pop(frame.id)
            if not future.done():
                future.set_exception(refused)
        elif frame.id in self._subscribe_ids:
            incident_id = self._subscribe_ids.pop(frame.id)
            self._followed.discard(incident_id)
            for waiter in self._follow_waiters.pop(incident_id, []):
                if not waiter.done():
                    waiter.set_exception(refused)

    def _refuse_unreadable_reply(self, raw: str | bytes) -> None:
        """A reply to one of this client's requests that it cannot read (a damaged stored
        snapshot, a newer server) fails that request as a refusal would: a follow waiting for
        it would otherwise wait forever."""
        head = raw[:200]
        text = head if isinstance(head, str) else head.decode("utf-8", "replace")
        # Not parsed: the frame may not be JSON at all. Servers put the id near the start.
        found = _REPLY_ID.search(text)
        request_id = found.group(1) if found else None
        if request_id in self._reads or request_id in self._subscribe_ids:
            message = "the server's answer could not be read"
            self._on_error(ErrorFrame(id=request_id, code=ErrorCode.INTERNAL, message=message))

    def _retry_later(self, data: str) -> None:
        async def resend() -> None:
            await asyncio.sleep(self._rate_limit_pause)
            await self._send_json(data)

        task = asyncio.create_task(resend())
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)

    def _retry_later_subscribe(self, incident_id: int) -> None:
        async def resubscribe() -> None:
            await asyncio.sleep(self._rate_limit_pause)
            if incident_id in self._followed:  # not unfollowed during the pause
                await self._subscribe(incident_id)

        task = asyncio.create_task(resubscribe())
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)

    def _settle_write(self, frame_id: str, ack: Ack | None, error: CommandRefused | None) -> None:
        entry = self._writes.pop(frame_id, None)
        if entry is None:
            return
        if self._outbox is not None:
            self._outbox.done(frame_id)
        future = entry[1]
        if future is not None and not future.done():
            if ack is not None:
                future.set_result(ack)
            else:
                assert error is not None
                future.set_exception(error)
        self._emit(StatusChanged(self.status, self.unsent))

    def _resolve_follow(self, incident_id: int) -> None:
        state = self.states.get(incident_id)
        if state is None:
            return
        for waiter in self._follow_waiters.pop(incident_id, []):
            if not waiter.done():
                waiter.set_result(state)

    async def _subscribe(self, incident_id: int) -> None:
        await self._send_json(self._subscribe_frame(incident_id))

    def _subscribe_frame(self, incident_id: int, handshake: bool = False) -> str:
        """A subscribe to send now; for the handshake, asking for every encoding (a server that
        reads `SUBSCRIBE_HEADER` knows them all, and one that does not never sees them)."""
        state = self.states.get(incident_id)
        since = state.seq if state is not None else None
        features = self.features if not handshake else _HANDSHAKE_ENCODINGS
        frame = Subscribe(
            id=new_id(),
            incident_id=incident_id,
            since=since,
            compact=Feature.COMPACT in features,
            compact_snapshot=Feature.COMPACT_SNAPSHOT in features,
            columnar_snapshot=Feature.COLUMNAR_SNAPSHOT in features,
            columnar_events=Feature.COLUMNAR_EVENTS in features,
            packed_snapshot=Feature.PACKED_SNAPSHOT in features,
        )
        self._subscribe_ids[frame.id] = incident_id
        # Left out unless asked for: a server without the feature would refuse the field.
        unasked = {name for name in _FEATURE_FIELDS if not getattr(frame, name)}
        return frame.model_dump_json(exclude=unasked)

    async def _read(
        self,
        frame: ListIncidents | ReadLog | SubscribeTriage | GetMetrics,
    ) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._reads[frame.id] = (frame, future)
        await self._send_json(frame.model_dump_json())
        return await future

    async def _send_json(self, data: str) -> None:
        # One lock orders every send after the resends of a fresh connection, so the server sees
        # writes in the order they were made.
        async with self._send_lock:
            await self._send_unlocked(data)

    async def _send_unlocked(self, data: str) -> None:
        ws = self._ws
        if ws is None or self.status is not ConnectionStatus.CONNECTED:
            return  # resent from the pending tables once the connection is back
        with contextlib.suppress(ConnectionClosed):
            await ws.send(data)

    def _set_status(self, status: ConnectionStatus) -> None:
        if status is not self.status:
            self.status = status
            self._emit(StatusChanged(status, self.unsent))

    def _emit(self, update: ClientUpdate) -> None:
        for listener in self._listeners:
            listener(update)
