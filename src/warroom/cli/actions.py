"""What each subcommand does: short coroutines over the client, the store and the server."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from warroom import users
from warroom.cli.serving import database_for
from warroom.client.session import ClientError, Unreachable, WarroomClient, new_id
from warroom.config import load_config
from warroom.console_config import client_token, load_console_config
from warroom.domain.checklist import ItemState
from warroom.domain.commands import (
    AcceptIc,
    AddChecklistItem,
    AddEntry,
    AddService,
    AmendEntry,
    ApproveExternalUpdate,
    AssignRole,
    Command,
    DeclareIncident,
    DeclineIc,
    DraftExternalUpdate,
    PostStatusUpdate,
    RejectExternalUpdate,
    RemoveService,
    SetItemOwner,
    SetItemState,
    SetPhase,
    SetSeverity,
    StrikeEntry,
    UnassignRole,
)
from warroom.domain.communications import PublicState
from warroom.domain.instants import as_stored, in_zone
from warroom.domain.phase import Phase
from warroom.domain.projection import ProjectionError
from warroom.domain.projection import replay as fold_log
from warroom.domain.public_side import ClosingReminder, closing_reminder
from warroom.domain.replay_index import ReplayIndex
from warroom.domain.roles import Role
from warroom.domain.severity import Severity
from warroom.domain.timeline import EntryKind
from warroom.domain.triage import SourceState, TriageItem, TriageStatus
from warroom.export.html import render_html
from warroom.export.json_export import (
    MAX_EXPORT_BYTES,
    ExportFileError,
    export_json,
    read_export,
)
from warroom.export.markdown import render_markdown
from warroom.local import choose_server, saved_local_token
from warroom.node import ListenError
from warroom.paths import DEFAULT_SERVER
from warroom.protocol.frames import Ack, Feature
from warroom.store.open import open_store
from warroom.users import create_user

if TYPE_CHECKING:
    from warroom.tui.replay_app import ReplayApp

log = logging.getLogger(__name__)


async def add_user(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    token = await create_user(
        database_for(args, config), args.name, password_file=config.db_password_file
    )
    print(token)
    # Standard output keeps only the token, for `TOKEN=$(warroom user add ...)`; what to do with
    # it goes to the person at the terminal.
    print(
        f"warroom: this is {args.name}'s token, shown once: hand it over privately; "
        "they save it to a file only they can read and run "
        "`warroom --server URL --token-file FILE` (or set WARROOM_TOKEN)",
        file=sys.stderr,
    )
    return 0


async def revoke_user(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    await users.revoke_user(
        database_for(args, config), args.name, password_file=config.db_password_file
    )
    print(f"revoked {args.name}; their token is refused from the next connection on")
    return 0


async def migrate(args: argparse.Namespace) -> int:
    # Imported here: only this command needs the PostgreSQL driver up front.
    from warroom.store import migrate as store_migrate

    config = load_config(args.config)
    copied = await store_migrate.migrate(
        args.source, args.target, password_file=config.db_password_file
    )
    print(
        f"copied {copied.incidents} incidents ({copied.events} events), {copied.users} users, "
        f"{copied.triage_items} triage items and {copied.triage_records} triage log records "
        f"into {args.target}"
    )
    return 0


async def archive(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    store = await open_store(database_for(args, config), password_file=config.db_password_file)
    try:
        moved = await store.archive(args.before)
    finally:
        await store.close()
    if not moved:
        print(f"no closed incident resolved before {_utc_text(args.before)} left to archive")
    else:
        ids = ", ".join(f"#{i}" for i in moved)
        print(f"archived {len(moved)} closed incidents ({ids}); they stay readable and exportable")
    return 0


async def execute(args: argparse.Namespace, command: Command) -> Ack:
    """Connect, send one write, wait for its commit, disconnect."""
    async with connected(args) as client:
        return await client.execute(command)


@asynccontextmanager
async def connected(args: argparse.Namespace) -> AsyncIterator[WarroomClient]:
    """A client for one CLI action: connects once, never retries, fails with one clear line."""
    settings = load_console_config()
    choice = choose_server(args.server, settings.server)
    token = client_token(args.token, args.token_file, settings)
    if not choice.named:
        token = token or saved_local_token()  # the local token goes to the local server only
    if not token:
        raise ClientError(
            f"no token for {choice.url}: pass --token-file FILE or set WARROOM_TOKEN_FILE (an "
            "admin creates one with `warroom user add NAME`)"
        )
    client = WarroomClient(choice.url, token, reconnect=False, max_frame_mib=settings.max_frame_mib)
    try:
        await client.start()
    except Unreachable as exc:
        if choice.named:
            raise
        raise ClientError(f"{exc}; no local server is running: start one with `warroom`") from None
    try:
        yield client
    finally:
        await client.close()


async def declare(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        command = DeclareIncident(
            id=new_id(), title=args.title, severity=Severity(args.sev), summary=args.summary
        )
        ack = await client.execute(command)
    print(ack.incident_id)
    return 0


async def log_entry(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        command = AddEntry(
            id=new_id(),
            incident_id=args.incident,
            kind=EntryKind(args.kind),
            text=args.text,
            correlation_id=args.correlation_id,
        )
        ack = await client.execute(command)
    print(ack.seq)
    return 0


async def set_severity(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        state = await client.follow(args.incident)
        command = SetSeverity(
            id=new_id(),
            incident_id=args.incident,
            severity=Severity(args.level),
            expected=state.incident.severity,
            reason=args.reason,
        )
        await client.execute(command)
    return 0


async def assign(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        command = AssignRole(
            id=new_id(),
            incident_id=args.incident,
            role=Role(args.role),
            user=args.user,
            service=args.service,
        )
        await client.execute(command)
    if args.role == "ic":
        print(f"offered the IC role to {args.user}; it takes effect when they accept")
    return 0


async def accept(args: argparse.Namespace) -> int:
    await execute(args, AcceptIc(id=new_id(), incident_id=args.incident))
    return 0


async def set_phase(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        state = await client.follow(args.incident)
        await client.execute(
            SetPhase(
                id=new_id(),
                incident_id=args.incident,
                phase=Phase(args.phase),
                expected=state.incident.phase,
                reason=args.reason,
            )
        )
    return 0


async def unassign(args: argparse.Namespace) -> int:
    await execute(
        args,
        UnassignRole(id=new_id(), incident_id=args.incident, role=Role(args.role), user=args.user),
    )
    return 0


async def decline(args: argparse.Namespace) -> int:
    await execute(args, DeclineIc(id=new_id(), incident_id=args.incident))
    return 0


async def amend(args: argparse.Namespace) -> int:
    await execute(
        args,
        AmendEntry(id=new_id(), incident_id=args.incident, entry_id=args.entry, text=args.text),
    )
    return 0


async def strike(args: argparse.Namespace) -> int:
    await execute(
        args,
        StrikeEntry(
            id=new_id(), incident_id=args.incident, entry_id=args.entry, reason=args.reason
        ),
    )
    return 0


async def change_item(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        # Following first means the new item is in our copy by the time the write is acked.
        state = await client.follow(args.incident)
        command: Command
        if args.action == "add":
            command = AddChecklistItem(id=new_id(), incident_id=args.incident, title=args.value)
        else:
            if not args.value.isdigit():
                raise ClientError(f"item owner takes the item's number, not {args.value!r}")
            command = SetItemOwner(
                id=new_id(), incident_id=args.incident, item_id=int(args.value), owner=args.owner
            )
        await client.execute(command)
    if args.action == "add":
        print(state.checklist[-1].id)  # the new item's number, for `warroom check`
    return 0


async def check(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        state = await client.follow(args.incident)
        item = state.item(args.item)
        if item is None:
            raise ClientError(f"incident {args.incident} has no checklist item {args.item}")
        command = SetItemState(
            id=new_id(),
            incident_id=args.incident,
            item_id=args.item,
            state=ItemState(args.state),
            expected=item.state,
        )
        await client.execute(command)
    return 0


async def post_update(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        command: Command
        if args.internal is not None:
            next_at = (
                datetime.now(UTC) + timedelta(minutes=args.next) if args.next is not None else None
            )
            command = PostStatusUpdate(
                id=new_id(),
                incident_id=args.incident,
                status=args.internal,
                impact=args.impact,
                actions=args.actions,
                next_update_at=next_at,
            )
        else:
            command = DraftExternalUpdate(
                id=new_id(),
                incident_id=args.incident,
                title=args.title,
                text=args.external,
                state=PublicState(args.state),
                components=args.component,
            )
        ack = await client.execute(command)
    if args.external is not None:
        print(ack.seq)  # the draft's id, for `warroom approve`
    return 0


async def approve(args: argparse.Namespace) -> int:
    await execute(
        args, ApproveExternalUpdate(id=new_id(), incident_id=args.incident, draft_id=args.draft)
    )
    return 0


async def reject(args: argparse.Namespace) -> int:
    await execute(
        args,
        RejectExternalUpdate(
            id=new_id(), incident_id=args.incident, draft_id=args.draft, comment=args.comment
        ),
    )
    return 0


async def resolve(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        state = await client.follow(args.incident)
        await client.execute(
            SetPhase(
                id=new_id(),
                incident_id=args.incident,
                phase=Phase.RESOLVED,
                expected=state.incident.phase,
                reason=args.reason,
            )
        )
        reminder = await _public_side_after_resolving(client, args.incident)
        due = client.states[args.incident].incident.postmortem_due
    if due is not None:
        print(f"post-mortem due {_utc_text(due)}")
    if reminder is not None:
        print(_closing_words(args.incident, reminder))
    return 0


PUBLIC_SIDE_WAIT = 10.0
"""Seconds `resolve` waits for the server's prepared "resolved" public update."""


async def _public_side_after_resolving(
    client: WarroomClient, incident_id: int
) -> ClosingReminder | None:
    """What is left to do on the public side once the resolve committed: nothing (None), or
    the resolved draft the server prepares for the IC, awaited as it arrives."""

    def waiting_for_draft() -> bool:
        state = client.states.get(incident_id)
        reminder = closing_reminder(state) if state is not None else None
        return reminder is not None and reminder.draft_id is None

    if waiting_for_draft():
        # The server writes the draft right after the resolve commits; should it not come, the
        # IC is still told what the page says, which is as true.
        arrived = asyncio.Event()
        client.add_listener(lambda _update: None if waiting_for_draft() else arrived.set())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(PUBLIC_SIDE_WAIT):
                await arrived.wait()
    state = client.states.get(incident_id)
    return closing_reminder(state) if state is not None else None


def _closing_words(incident_id: int, reminder: ClosingReminder) -> str:
    told = reminder.public_state.value
    if reminder.draft_id is None:
        return (
            f"the status page still says {told}: draft a resolved update with "
            f"`warroom update {incident_id} --external TEXT --state resolved`"
        )
    return (
        f"the status page still says {told}: public update #{reminder.draft_id} (resolved) "
        f"waits for approval: `warroom approve {incident_id} {reminder.draft_id}`, or "
        f"`warroom reject {incident_id} {reminder.draft_id} --comment WHY` to leave it as it is"
    )


async def list_triage(args: argparse.Namespace) -> int:
    """Open items, one a line: id, alert, SEV, age, alert state, title. Exits 1 when the alert
    source is unreachable (the list is then only what was last known), 0 otherwise."""
    async with connected(args) as client:
        triage = await client.follow_triage()
        offers_triage = Feature.TRIAGE in client.features
    source = triage.source
    status = 0
    if not offers_triage:
        print(
            "warroom: this server reads no alerts (no [alertmanager] in its config)",
            file=sys.stderr,
        )
    elif not source.ok:
        print(
            f"warroom: Alertmanager unreachable: {_printable(source.error or 'no answer')}; "
            "alert states below are as last known",
            file=sys.stderr,
        )
        status = 1
    elif source.state is SourceState.RESTARTED:
        print(
            "warroom: Alertmanager restarted; unconfirmed alerts wait for their source to "
            "send them again",
            file=sys.stderr,
        )
    now = datetime.now(UTC)
    for item in triage.items:
        if item.status is not TriageStatus.OPEN and not args.all:
            continue
        age = _age(now - item.starts_at)
        name = _printable(item.labels.get("alertname", "?"))
        state = item.state_words()
        title = _printable(item.title)
        line = f"{item.id}\t{name}\t{item.proposed_severity.label}\t{age}\t{state}\t{title}"
        if args.all:
            line += f"\t{_decision(item)}"
        print(line)
    return status


def _decision(item: TriageItem) -> str:
    """Who decided an item, when and how, for `triage --all` (the audit of the triage desk)."""
    if item.status is TriageStatus.OPEN:
        return "open"
    who = _printable(item.decided_by or "?")
    when = _utc_text(item.decided_at) if item.decided_at is not None else "?"
    if item.status is TriageStatus.DISMISSED:
        return f"dismissed by {who} at {when}: {_printable(item.dismiss_reason)}"
    return f"declared as incident #{item.incident_id} by {who} at {when}"


async def declare_triage(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        triage = await client.follow_triage()
        item = next((i for i in triage.items if i.id == args.triage_id), None)
        if item is None:
            raise ClientError(f"no triage item {args.triage_id}")
        command = DeclareIncident(
            id=new_id(),
            title=item.title,
            severity=Severity(args.sev) if args.sev else item.proposed_severity,
            summary="",  # the server fills it in from the alert's annotations
            triage_id=item.id,
        )
        ack = await client.execute(command)
    print(ack.incident_id)
    return 0


async def dismiss_triage(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        await client.dismiss_triage(args.triage_id, args.reason)
    return 0


async def show_metrics(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        if Feature.METRICS not in client.features:
            raise ClientError("this server reads no metrics (no [prometheus] in its config)")
        report = await client.get_metrics(args.incident)
        if report.snapshot is None:
            raise ClientError(report.error or "no metrics snapshot")
        if args.pin:
            await client.pin_metrics(args.incident)
    print(_printable_block(report.snapshot.to_text()))
    return 0


async def change_service(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        command: Command = (
            AddService(id=new_id(), incident_id=args.incident, service=args.name)
            if args.action == "add"
            else RemoveService(id=new_id(), incident_id=args.incident, service=args.name)
        )
        await client.execute(command)
    return 0


def _age(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def _printable_block(text: str) -> str:
    return "\n".join(_printable(line) for line in text.splitlines())


async def list_incidents(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        incidents = await client.list_incidents()
    for inc in incidents:
        declared = _utc_text(inc.declared_at)
        print(
            f"{inc.id}\t{inc.severity.label}\t{inc.phase.value}\t{declared}\tIC {inc.ic}\t"
            f"{_printable(inc.title)}"
        )
    return 0


async def export(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        events = await client.read_log(args.incident)
    try:
        if args.format == "json":
            document = export_json(events)
        else:
            render = render_markdown if args.format == "markdown" else render_html
            document = render(fold_log(events), events, generated_at=datetime.now(UTC))
    except ProjectionError as exc:
        # A closed incident's rows are sent as stored: a damaged one can read as events that
        # do not follow on (a body that closes its event and adds another).
        message = f"incident {args.incident}'s events do not make an incident: {exc}"
        raise ClientError(message) from None
    if args.output:
        _write_private(args.output, document)
    else:
        sys.stdout.write(document)
    return 0


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by its owner only (0600), as every file warroom makes: a
    post-mortem draft holds the whole internal record of an incident."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    # The mode given to open applies only to a new file; an existing one is narrowed too.
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def _utc_text(when: datetime) -> str:
    """ "2024-05-01 14:03 UTC"; a stored time out of range is printed as stored, marked."""
    utc = in_zone(when, UTC)
    return f"{utc.replace(tzinfo=None).isoformat(' ', 'minutes')} UTC" if utc else as_stored(when)


def _printable(text: str) -> str:
    # Titles are validated free of control characters, but a terminal is no place to trust that.
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _read_export_file(path: Path) -> str:
    """The text of an export file, read only up to `MAX_EXPORT_BYTES` (a device or a huge file
    is refused without reading it all).

    Raises:
        OSError: the file cannot be read, or it is larger than that.
        UnicodeDecodeError: it is not UTF-8.
    """
    # Opened without waiting: a named pipe nobody writes to would otherwise block the open
    # forever. Reads then wait as usual, so a pipe with a writer (`--file <(...)`) still works,
    # and one without reads as empty.
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    os.set_blocking(descriptor, True)
    with open(descriptor, "rb") as file:
        data = file.read(MAX_EXPORT_BYTES + 1)
    if len(data) > MAX_EXPORT_BYTES:
        raise OSError(
            f"larger than {MAX_EXPORT_BYTES // (1024 * 1024)} MB, too large for an export"
        )
    return data.decode("utf-8")


async def replay(args: argparse.Namespace) -> int:
    """Open the replay, from the server's log or an export file; it never writes anywhere."""
    app = await replay_app(args)
    await app.run_async()
    return 0


async def replay_app(args: argparse.Namespace) -> ReplayApp:
    """The replay app for `warroom replay` arguments, its log already read and folded.

    Raises:
        ClientError: the file or the server could not be read, or `--at` is out of range.
    """
    if args.file is not None:
        try:
            text = await asyncio.to_thread(_read_export_file, args.file)
        except (OSError, UnicodeDecodeError) as exc:
            raise ClientError(f"cannot read {args.file}: {exc}") from None
        try:
            events = read_export(text)
        except ExportFileError as exc:
            raise ClientError(f"{args.file}: {exc}") from None
    else:
        async with connected(args) as client:
            events = await client.read_log(args.incident)
    try:
        # Folded before `--at` is checked: the range is the folded log's, and a file whose
        # events make no incident is told so rather than what its last event's seq is.
        index = ReplayIndex(events)
    except ProjectionError as exc:
        raise ClientError(f"the events do not make an incident: {exc}") from None
    if args.at is not None and not 1 <= args.at <= index.last:
        raise ClientError(f"--at {args.at}: the incident has events 1 to {index.last}")
    from warroom.tui.replay_app import make_replay_app

    return make_replay_app(index, at=args.at, theme=getattr(args, "theme", None))


async def run_tui(args: argparse.Namespace) -> int:
    from warroom.tui.launch import launch_tui

    return await launch_tui(args, demo=False)


async def run_demo(args: argparse.Namespace) -> int:
    from warroom.tui.launch import launch_tui

    try:
        return await launch_tui(args, demo=True)
    except ListenError as exc:  # `demo --web` on a taken port
        print(f"warroom: {exc}", file=sys.stderr)
        return 1


WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})
"""Listen addresses that name no one address a browser could open."""


async def serve_web(args: argparse.Namespace) -> int:
    from warroom.tui.web_server import serve_console

    if args.public_url is None and args.host in WILDCARD_HOSTS:
        # The page tells the browser where its websocket is, from this address: a wildcard
        # would send every browser to its own machine.
        print(
            f"warroom: --host {args.host} needs --public-url, the address browsers open "
            f"(e.g. http://{socket.gethostname()}:{args.port})",
            file=sys.stderr,
        )
        return 2
    settings = load_console_config()
    # Checked here, once, rather than by every browser session that would fail on it.
    choice = choose_server(args.server, settings.server)
    server_url = choice.url if choice.named else DEFAULT_SERVER
    try:
        await serve_console(
            server_url,
            host=args.host,
            port=args.port,
            public_url=args.public_url,
            theme=getattr(args, "theme", None) or settings.theme,
            max_sessions=args.max_sessions,
            max_sessions_per_address=args.max_sessions_per_address,
            sign_in_timeout=args.sign_in_timeout,
        )
    except ListenError as exc:
        print(f"warroom: {exc}", file=sys.stderr)
        return 1
    return 0
