"""The argument parser: every subcommand, its options and the coroutine that runs it.

Choices come from the domain (severity levels, assignable roles, phases, entry kinds), never a
copy of them, so the parser cannot offer what the server refuses or miss what it accepts.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, get_args

from warroom import __version__
from warroom.domain.checklist import ItemState
from warroom.domain.commands import AssignRole, UnassignRole
from warroom.domain.communications import PublicState
from warroom.domain.phase import Phase
from warroom.domain.severity import Severity
from warroom.domain.timeline import USER_KINDS
from warroom.paths import DEFAULT_SERVER
from warroom.server.observability import LOG_FORMATS

if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]

SEVERITIES = [int(level) for level in Severity]
ASSIGNABLE_ROLES = [str(role) for role in get_args(AssignRole.model_fields["role"].annotation)]
"""The roles `assign` takes: read from the command's own type, which the server validates."""
UNASSIGNABLE_ROLES = [str(role) for role in get_args(UnassignRole.model_fields["role"].annotation)]


WEB_MAX_SESSIONS = 50
"""Browser sessions `warroom web` runs at once by default (each a console process)."""
WEB_MAX_SESSIONS_PER_ADDRESS = 10
"""Browser sessions one address holds at once by default: an office behind one NAT opens a few,
one client opening every place would lock everyone else out."""
WEB_SIGN_IN_TIMEOUT = 300
"""Seconds a browser session may sit at the sign-in screen without typing before it ends by
default: time to find a token, and no longer holding a console process for nobody."""


Action = Callable[[argparse.Namespace], Awaitable[int]]


def _action(name: str, module: str = "warroom.cli.actions") -> Action:
    """The subcommand's coroutine, imported when it runs: `warroom serve` starts without the
    client, the exporters and the console settings the other subcommands import."""

    async def run(args: argparse.Namespace) -> int:
        action: Action = getattr(importlib.import_module(module), name)
        return await action(args)

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warroom",
        description="A terminal war room for incident response.",
        # The top level sees every option, the subcommands' too: with abbreviations on,
        # `migrate --to URL` would be refused as an ambiguous `--token`/`--token-file`.
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"warroom {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    _client_options(parser, top=True)
    parser.add_argument("--incident", type=int, help="open this incident directly")
    parser.add_argument("--theme", help="theme name (see themes/)")
    parser.add_argument(
        "--sign-in",
        action="store_true",
        help="ask for the token on a sign-in screen and keep it in memory only: no token flag, "
        "variable, file or saved local token is read, no outbox written (needs --server; "
        "what `warroom web` runs for each browser)",
    )
    parser.add_argument(
        "--sign-in-timeout",
        type=_positive,
        metavar="SECONDS",
        help="with --sign-in: end the console when nobody has typed on the sign-in screen for "
        "this long (default: wait for ever)",
    )
    parser.set_defaults(run=_action("run_tui"))
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    _server_commands(sub)
    _incident_commands(sub)
    _role_commands(sub)
    _timeline_commands(sub)
    _update_commands(sub)
    _triage_commands(sub)
    _reading_commands(sub)
    return parser


def _server_commands(sub: Commands) -> None:
    """Running the server, its users, and the demo."""
    serve = sub.add_parser("serve", help="run the shared server")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: %(default)s, this machine only; 0.0.0.0 for every "
        "interface)",
    )
    serve.add_argument(
        "--port", type=int, default=8765, help="port to listen on (default: %(default)s)"
    )
    serve.add_argument(
        "--unix",
        type=Path,
        metavar="SOCKET",
        help="listen on this Unix socket instead of --host/--port (clients use unix:SOCKET)",
    )
    serve.add_argument(
        "--http-port",
        type=int,
        help="also serve /alertmanager/webhook, /metrics, /healthz and /readyz over plain HTTP "
        "on this port (same host; 0 picks one); off when not given",
    )
    _db_option(serve)
    serve.add_argument("--config", type=Path, help="server config file (TOML)")
    serve.add_argument(
        "--log-format", choices=LOG_FORMATS, default="text", help="json: one JSON object a line"
    )
    serve.set_defaults(run=_action("serve", "warroom.cli.serving"))

    user = sub.add_parser("user", help="manage users").add_subparsers(metavar="ACTION")
    add = user.add_parser("add", help="add a user and print their token once")
    add.add_argument("name")
    _db_option(add, config=True)
    add.set_defaults(run=_action("add_user"))
    revoke = user.add_parser("revoke", help="remove a user; their token stops working")
    revoke.add_argument("name")
    _db_option(revoke, config=True)
    revoke.set_defaults(run=_action("revoke_user"))

    archive = sub.add_parser(
        "archive",
        help="move closed incidents' events to the archive (still readable and exportable)",
        description="Move the events of incidents resolved before DATE whose post-mortem is "
        "done out of the live log into the archive table of the same database. Nothing is "
        "deleted: archived incidents are still listed, opened and exported.",
    )
    archive.add_argument(
        "--before",
        required=True,
        type=_instant,
        metavar="DATE",
        help="YYYY-MM-DD or an ISO 8601 time (UTC unless it says otherwise)",
    )
    _db_option(archive, config=True)
    archive.set_defaults(run=_action("archive"))

    migrate = sub.add_parser(
        "migrate",
        help="copy a single-machine war room (SQLite) into an empty PostgreSQL database",
        description="Copy every incident's events (with their sequence numbers), every user "
        "(their tokens keep working), the triage items and the triage log from a SQLite file "
        "into an empty PostgreSQL database, in one transaction, and check the copy. Stop the "
        "server first; the SQLite file is only read.",
    )
    migrate.add_argument("--from", dest="source", required=True, metavar="sqlite:PATH")
    migrate.add_argument(
        "--to",
        dest="target",
        required=True,
        metavar="postgresql://USER@HOST:PORT/DB",
        help="password from PGPASSWORD, PGPASSFILE or the config's db_password_file",
    )
    migrate.add_argument("--config", type=Path, help="server config file: `db_password_file`")
    migrate.set_defaults(run=_action("migrate"))

    demo = sub.add_parser("demo", help="open the TUI on a realistic SEV1 incident")
    _client_options(demo)
    demo.add_argument("--theme", default=argparse.SUPPRESS, help="theme name")
    demo.add_argument(
        "--replay",
        action="store_true",
        help="replay the demo incident from its declaration instead (step, jump, play)",
    )
    demo.add_argument(
        "--web",
        action="store_true",
        help="open it in a browser instead: serve the console on --host/--port and print the "
        "demo token to sign in with",
    )
    _web_address(demo)
    demo.set_defaults(run=_action("run_demo"))

    web = sub.add_parser(
        "web",
        help="serve the console to browsers (each session signs in with its own token)",
        description="Serve the console to web browsers: every browser session runs its own "
        "console, signs in with its own warroom token and gets that user's permissions. It "
        "listens on 127.0.0.1 unless told otherwise; put a TLS reverse proxy in front of it "
        "(see server/README.md).",
    )
    web.add_argument(
        "--server",
        help="the warroom server the consoles connect to (env WARROOM_SERVER, console.toml "
        f"`server`; default: {DEFAULT_SERVER})",
    )
    _web_address(web)
    web.add_argument(
        "--public-url",
        metavar="URL",
        help="the address browsers open when it is not http://HOST:PORT, e.g. behind a TLS "
        "proxy: https://warroom.example.org (the page names its websocket from it)",
    )
    web.add_argument("--theme", default=argparse.SUPPRESS, help="theme name for every session")
    web.set_defaults(run=_action("serve_web"))


def _incident_commands(sub: Commands) -> None:
    """Declaring an incident and moving it through its severity, phases and services."""
    declare = _client_command(sub, "declare", "declare an incident; prints its id")
    declare.add_argument("--title", required=True)
    declare.add_argument("--sev", type=int, choices=SEVERITIES, required=True)
    declare.add_argument("--summary", default="")
    declare.set_defaults(run=_action("declare"))

    severity = _client_command(sub, "severity", "change the severity (IC)")
    severity.add_argument("incident", type=int)
    severity.add_argument("level", type=int, choices=SEVERITIES)
    severity.add_argument("--reason", required=True)
    severity.set_defaults(run=_action("set_severity"))

    phase = _client_command(sub, "phase", "move the incident to another phase (IC)")
    phase.add_argument("incident", type=int)
    phase.add_argument("phase", choices=[p.value for p in Phase])
    phase.add_argument("--reason", default="")
    phase.set_defaults(run=_action("set_phase"))

    resolve = _client_command(sub, "resolve", "declare the incident resolved (IC)")
    resolve.add_argument("incident", type=int)
    resolve.add_argument("--reason", default="")
    resolve.set_defaults(run=_action("resolve"))

    service = _client_command(sub, "service", "add or remove a service the incident touches")
    service.add_argument("incident", type=int)
    service.add_argument("action", choices=["add", "remove"])
    service.add_argument("name")
    service.set_defaults(run=_action("change_service"))


def _role_commands(sub: Commands) -> None:
    """Who holds which role, and the IC handoff."""
    assign = _client_command(sub, "assign", "assign a role (IC); for ic this offers a handoff")
    assign.add_argument("incident", type=int)
    assign.add_argument("role", choices=ASSIGNABLE_ROLES)
    assign.add_argument("user")
    assign.add_argument("--service", help="the service a TL owns")
    assign.set_defaults(run=_action("assign"))

    accept = _client_command(sub, "accept", "accept the IC role offered to you")
    accept.add_argument("incident", type=int)
    accept.set_defaults(run=_action("accept"))

    unassign = _client_command(sub, "unassign", "take a CL, TL or Scribe role away (IC)")
    unassign.add_argument("incident", type=int)
    unassign.add_argument("role", choices=UNASSIGNABLE_ROLES)
    unassign.add_argument("user")
    unassign.set_defaults(run=_action("unassign"))

    decline = _client_command(sub, "decline", "decline the IC role offered to you (or withdraw it)")
    decline.add_argument("incident", type=int)
    decline.set_defaults(run=_action("decline"))


def _timeline_commands(sub: Commands) -> None:
    """The timeline's entries and the checklist."""
    log = _client_command(sub, "log", "append a timeline entry")
    log.add_argument("incident", type=int)
    log.add_argument("text")
    log.add_argument("--kind", default="note", choices=sorted(k.value for k in USER_KINDS))
    log.add_argument("--correlation-id")
    log.set_defaults(run=_action("log_entry"))

    amend = _client_command(sub, "amend", "rewrite a timeline entry (history is kept)")
    amend.add_argument("incident", type=int)
    amend.add_argument("entry", type=int)
    amend.add_argument("text")
    amend.set_defaults(run=_action("amend"))

    strike = _client_command(sub, "strike", "strike a timeline entry through (never deleted)")
    strike.add_argument("incident", type=int)
    strike.add_argument("entry", type=int)
    strike.add_argument("--reason", default="")
    strike.set_defaults(run=_action("strike"))

    item = _client_command(sub, "item", "add a checklist item or set its owner (IC, TL)")
    item.add_argument("incident", type=int)
    item.add_argument("action", choices=["add", "owner"])
    item.add_argument("value", help="add: the item's title; owner: the item's number")
    item.add_argument("owner", nargs="?", help="owner: the user (omit to clear)")
    item.set_defaults(run=_action("change_item"))

    check = _client_command(sub, "check", "set a checklist item's state (IC, TL)")
    check.add_argument("incident", type=int)
    check.add_argument("item", type=int)
    check.add_argument("--state", required=True, choices=[s.value for s in ItemState])
    check.set_defaults(run=_action("check"))


def _update_commands(sub: Commands) -> None:
    """Status updates: internal ones, and public drafts the IC approves or sends back."""
    update = _client_command(sub, "update", "post an internal update or draft a public one")
    update.add_argument("incident", type=int)
    kind = update.add_mutually_exclusive_group(required=True)
    kind.add_argument("--internal", metavar="TEXT", help="internal status update (CL, IC)")
    kind.add_argument("--external", metavar="TEXT", help="public update draft for IC approval")
    update.add_argument("--impact", default="", help="internal: who is affected and how")
    update.add_argument("--actions", default="", help="internal: what is being done")
    update.add_argument("--next", type=int, metavar="MINUTES", help="internal: next update in")
    update.add_argument(
        "--state",
        choices=[s.value for s in PublicState],
        default="investigating",
        help="external: the stage the update announces",
    )
    update.add_argument("--component", action="append", default=[], help="external: affected")
    update.add_argument(
        "--title",
        help="external: the public title (required for the first public update, then kept "
        "unless given again; the incident's own title is never published)",
    )
    update.set_defaults(run=_action("post_update"))

    approve = _client_command(sub, "approve", "approve and publish a public update (IC)")
    approve.add_argument("incident", type=int)
    approve.add_argument("draft", type=int)
    approve.set_defaults(run=_action("approve"))

    reject = _client_command(sub, "reject", "send a public update draft back (IC)")
    reject.add_argument("incident", type=int)
    reject.add_argument("draft", type=int)
    reject.add_argument("--comment", required=True)
    reject.set_defaults(run=_action("reject"))


def _triage_commands(sub: Commands) -> None:
    """Alerts waiting for a decision: list, declare from one, or dismiss one as noise."""
    triage = _client_command(
        sub, "triage", "list alert triage items (id, alert, SEV, age, firing or resolved, title)"
    )
    triage.add_argument(
        "--all",
        action="store_true",
        help="also decided items: who declared or dismissed each, when, and why",
    )
    triage.set_defaults(run=_action("list_triage"))
    triage_sub = triage.add_subparsers(metavar="ACTION")
    triage_declare = triage_sub.add_parser("declare", help="declare an incident from an item")
    _client_options(triage_declare)
    triage_declare.add_argument("triage_id", type=int)
    triage_declare.add_argument("--sev", type=int, choices=SEVERITIES, help="default: proposed")
    triage_declare.set_defaults(run=_action("declare_triage"))
    triage_dismiss = triage_sub.add_parser("dismiss", help="dismiss an item as noise")
    _client_options(triage_dismiss)
    triage_dismiss.add_argument("triage_id", type=int)
    triage_dismiss.add_argument("--reason", required=True)
    triage_dismiss.set_defaults(run=_action("dismiss_triage"))


def _reading_commands(sub: Commands) -> None:
    """Reading what the war room holds: incidents, metrics and exports."""
    metrics = _client_command(sub, "metrics", "print the incident's metrics snapshot")
    metrics.add_argument("incident", type=int)
    metrics.add_argument("--pin", action="store_true", help="also pin it to the timeline")
    metrics.set_defaults(run=_action("show_metrics"))

    incidents = _client_command(sub, "incidents", "list incidents")
    incidents.set_defaults(run=_action("list_incidents"))

    export = _client_command(sub, "export", "export an incident (json log, post-mortem draft)")
    export.add_argument("incident", type=int)
    export.add_argument("--format", choices=["json", "markdown", "html"], default="json")
    export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    export.set_defaults(run=_action("export"))

    replay = _client_command(
        sub,
        "replay",
        "replay an incident read-only, event by event, from the server or a JSON export",
    )
    source = replay.add_mutually_exclusive_group(required=True)
    source.add_argument("incident", type=int, nargs="?", help="the incident, read from the server")
    source.add_argument(
        "--file",
        type=Path,
        metavar="EXPORT.json",
        help="a `warroom export --format json` file instead: no server needed",
    )
    replay.add_argument("--at", type=int, metavar="SEQ", help="open at this event (default: last)")
    replay.add_argument("--theme", default=argparse.SUPPRESS, help="theme name")
    replay.set_defaults(run=_action("replay"))


def _client_command(sub: Commands, name: str, help_text: str) -> argparse.ArgumentParser:
    command = sub.add_parser(name, help=help_text, description=help_text)
    _client_options(command)
    return command


def _client_options(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    # Only the top-level parser holds the defaults; a subcommand's own copy of an option is
    # SUPPRESSed unless given, so `warroom --server X log ...` and `warroom log --server X ...`
    # mean the same thing. Unset options fall back to the settings (environment, console.toml),
    # resolved where the connection is made (`warroom.console_config`).
    default = None if top else argparse.SUPPRESS
    parser.add_argument(
        "--server",
        default=default,
        help="server URL, ws:// or unix:PATH, or several nodes separated by commas to fail over "
        "between (env WARROOM_SERVER, console.toml `server`; default: your private local server)",
    )
    parser.add_argument(
        "--token-file",
        type=Path,
        default=default,
        metavar="FILE",
        help="file holding your token, mode 0600 (env WARROOM_TOKEN_FILE, console.toml "
        "`token_file`; default: the local user's token)",
    )
    parser.add_argument(
        "--token",
        default=default,
        help="your token, for scripts only: other users see it in `ps` (env WARROOM_TOKEN)",
    )


def _web_address(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="address of the web page (default: 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=8080, help="its port (default: 8080)")
    parser.add_argument(
        "--max-sessions",
        type=_positive,
        default=WEB_MAX_SESSIONS,
        metavar="N",
        help="browser sessions at once, each a console process on this host; more are refused "
        f"until one ends (default: {WEB_MAX_SESSIONS})",
    )
    parser.add_argument(
        "--max-sessions-per-address",
        type=_positive,
        default=WEB_MAX_SESSIONS_PER_ADDRESS,
        metavar="N",
        help="browser sessions one address holds at once (behind a proxy on this host, the "
        f"address its X-Forwarded-For names; default: {WEB_MAX_SESSIONS_PER_ADDRESS})",
    )
    parser.add_argument(
        "--sign-in-timeout",
        type=_positive,
        default=WEB_SIGN_IN_TIMEOUT,
        metavar="SECONDS",
        help="end a browser session left this long at the sign-in screen without typing, "
        f"giving its place back (default: {WEB_SIGN_IN_TIMEOUT})",
    )


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return number


def _instant(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: use YYYY-MM-DD or an ISO 8601 time"
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _db_option(parser: argparse.ArgumentParser, *, config: bool = False) -> None:
    # A string, not a Path: `postgresql://…` is a URL (see warroom.store.url).
    parser.add_argument(
        "--db",
        metavar="PATH|URL",
        help="SQLite file or postgresql://USER@HOST:PORT/DB, password from PGPASSWORD, "
        "PGPASSFILE or the config's db_password_file, never here (default: the config's `db`, "
        "else a SQLite file in the user data dir)",
    )
    if config:
        parser.add_argument(
            "--config", type=Path, help="server config file (TOML): `db`, `db_password_file`"
        )
