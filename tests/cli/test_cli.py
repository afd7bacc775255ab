"""The `warroom` command line against a real server, run as a real child process."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.support.cli import Result, warroom
from warroom.node import WarroomNode

AddUser = Callable[[str], Awaitable[str]]


async def test_user_add_prints_only_the_token(db_path: Path) -> None:
    result = await warroom("user", "add", "alice", "--db", str(db_path))
    assert result.code == 0
    assert result.out.startswith("wr_")
    assert result.out.count("\n") == 1
    assert "alice's token, shown once" in result.err  # the person is told what to do with it
    assert "--token-file" in result.err
    again = await warroom("user", "add", "alice", "--db", str(db_path))
    assert again.code == 1
    assert again.err == "warroom: a user named alice already exists\n"


async def test_declare_log_severity_check_and_export(
    server: WarroomNode, add_user: AddUser, tmp_path: Path
) -> None:
    alice = await add_user("alice")
    declared = await warroom(
        "declare", "--title", "API outage", "--sev", "2", server=server, token=alice
    )
    assert declared.code == 0, declared.err
    incident = declared.out.strip()
    assert incident == "1"
    logged = await warroom(
        "log",
        incident,
        "rolled back [red]v2[/red]",
        "--kind",
        "action",
        "--correlation-id",
        "req-42",
        server=server,
        token=alice,
    )
    assert logged.code == 0, logged.err
    assert (
        await warroom("severity", incident, "1", "--reason", "payments", server=server, token=alice)
    ).code == 0
    assert (
        await warroom("check", incident, "1", "--state", "done", server=server, token=alice)
    ).code == 0
    listing = await warroom("incidents", server=server, token=alice)
    assert listing.out.split("\t")[:3] == ["1", "SEV1", "declared"]

    out = tmp_path / "incident.json"
    exported = await warroom(
        "export", incident, "--format", "json", "-o", str(out), server=server, token=alice
    )
    assert exported.code == 0, exported.err
    document = json.loads(out.read_text())
    assert document["state"]["incident"]["severity"] == 1
    action = next(e for e in document["state"]["timeline"] if e["kind"] == "action")
    assert (action["text"], action["correlation_id"]) == ("rolled back [red]v2[/red]", "req-42")
    assert [e["seq"] for e in document["events"]] == list(range(1, len(document["events"]) + 1))

    markdown = await warroom("export", incident, "--format", "markdown", server=server, token=alice)
    assert markdown.code == 0
    assert markdown.out.startswith("# ")
    assert "## Timeline" in markdown.out


async def test_errors_are_one_line_on_stderr(server: WarroomNode, add_user: AddUser) -> None:
    alice, bob = await add_user("alice"), await add_user("bob")
    incident = (
        await warroom("declare", "--title", "x", "--sev", "3", server=server, token=alice)
    ).out.strip()
    refused = await warroom("severity", incident, "1", "--reason", "r", server=server, token=bob)
    assert refused.code == 1
    assert refused.err == "warroom: your role (observer) may not change the severity (forbidden)\n"
    bad = await warroom("incidents", server=server, token="wr_wrong")
    assert (bad.code, bad.err) == (1, "warroom: the server refused the token (401)\n")
    missing = await warroom("log", "99", "hello", server=server, token=alice)
    assert (missing.code, missing.err) == (1, "warroom: no incident 99 (unknown_incident)\n")
    nowhere = await warroom("incidents", "--server", "ws://127.0.0.1:1", "--token", alice)
    assert nowhere.code == 1
    assert nowhere.err.startswith("warroom: cannot reach ws://127.0.0.1:1")
    assert nowhere.err.count("\n") == 1


async def test_arguments_a_command_refuses_are_one_line_and_change_nothing(
    server: WarroomNode, add_user: AddUser
) -> None:
    alice = await add_user("alice")
    incident = (
        await warroom("declare", "--title", "x", "--sev", "3", server=server, token=alice)
    ).out.strip()
    empty = await warroom("log", incident, "", server=server, token=alice)
    assert empty.code == 1
    assert empty.err == "warroom: text: String should have at least 1 character\n"
    # A byte that is not UTF-8 reaches Python as a lone surrogate, which no command accepts.
    not_utf8 = await warroom("log", incident, "bad \udc9b byte", server=server, token=alice)
    assert not_utf8.code == 1
    assert not_utf8.err.startswith("warroom: text: ")
    assert not_utf8.err.count("\n") == 1
    untitled = await warroom("declare", "--title", "", "--sev", "1", server=server, token=alice)
    assert (untitled.code, untitled.err.count("\n")) == (1, 1)
    assert untitled.err.startswith("warroom: title: ")
    exported = await warroom("export", incident, "--format", "json", server=server, token=alice)
    assert [event["seq"] for event in json.loads(exported.out)["events"]] == [1]
    assert (await warroom("incidents", server=server, token=alice)).out.count("\n") == 1


async def test_ic_handoff_from_the_command_line(server: WarroomNode, add_user: AddUser) -> None:
    alice, bob = await add_user("alice"), await add_user("bob")
    incident = (
        await warroom("declare", "--title", "x", "--sev", "2", server=server, token=alice)
    ).out.strip()
    offered = await warroom("assign", incident, "ic", "bob", server=server, token=alice)
    assert offered.code == 0
    assert (await warroom("accept", incident, server=server, token=bob)).code == 0
    listing = await warroom("incidents", server=server, token=bob)
    assert "\tIC bob\t" in listing.out


async def test_public_update_needs_the_ics_approval(server: WarroomNode, add_user: AddUser) -> None:
    alice, dana = await add_user("alice"), await add_user("dana")
    incident = (
        await warroom("declare", "--title", "x", "--sev", "1", server=server, token=alice)
    ).out.strip()
    await warroom("assign", incident, "cl", "dana", server=server, token=alice)
    internal = await warroom(
        "update",
        incident,
        "--internal",
        "Checkout failing",
        "--impact",
        "60% of users",
        "--next",
        "15",
        server=server,
        token=dana,
    )
    assert internal.code == 0, internal.err
    draft = await warroom(
        "update",
        incident,
        "--external",
        "We are investigating checkout errors.",
        "--state",
        "investigating",
        "--component",
        "Checkout",
        "--title",
        "Checkout degraded",
        server=server,
        token=dana,
    )
    assert draft.code == 0, draft.err
    draft_id = draft.out.strip()
    cl_approves = await warroom("approve", incident, draft_id, server=server, token=dana)
    assert cl_approves.code == 1
    assert "forbidden" in cl_approves.err
    assert (await warroom("approve", incident, draft_id, server=server, token=alice)).code == 0
    twice = await warroom("approve", incident, draft_id, server=server, token=alice)
    assert "already approved" in twice.err
    resolved = await warroom("resolve", incident, server=server, token=alice)
    assert resolved.code == 0, resolved.err
    assert resolved.out.startswith("post-mortem due ")


async def test_the_first_public_update_needs_a_title_and_resolve_offers_the_resolved_one(
    server: WarroomNode, add_user: AddUser
) -> None:
    alice = await add_user("alice")
    internal = "Checkout 5xx above 5% <!channel>"
    incident = (
        await warroom("declare", "--title", internal, "--sev", "1", server=server, token=alice)
    ).out.strip()

    def external(text: str, *extra: str) -> Awaitable[Result]:
        return warroom("update", incident, "--external", text, "--component", "Checkout",
                       *extra, server=server, token=alice)  # fmt: skip

    untitled = await external("We are investigating checkout errors.")
    assert untitled.code == 1
    assert untitled.err == (
        "warroom: the first public update needs a public title (the incident's own "
        "title is never published); for example 'Degraded performance: Checkout' (invalid)\n"
    )
    first = await external("We are investigating.", "--title", "Checkout degraded")
    assert (
        await warroom("approve", incident, first.out.strip(), server=server, token=alice)
    ).code == 0
    later = await external("Fix identified.", "--state", "identified")  # keeps the public title
    assert (
        await warroom("approve", incident, later.out.strip(), server=server, token=alice)
    ).code == 0

    resolved = await warroom("resolve", incident, server=server, token=alice)
    assert resolved.code == 0, resolved.err
    state = server.hub.incident_state(int(incident))
    assert state is not None
    prepared = state.external_updates[-1].id
    due, closing = resolved.out.splitlines()
    assert due.startswith("post-mortem due ")
    assert closing == (
        f"the status page still says identified: public update #{prepared} (resolved) waits "
        f"for approval: `warroom approve {incident} {prepared}`, or `warroom reject {incident} "
        f"{prepared} --comment WHY` to leave it as it is"
    )
    approved = await warroom("approve", incident, str(prepared), server=server, token=alice)
    assert approved.code == 0, approved.err
    status = json.loads(server.integrations.status.json)
    assert status["status"] == "operational"
    assert [(i["title"], i["state"]) for i in status["incidents"]] == [
        ("Checkout degraded", "resolved")
    ]
    assert internal not in server.integrations.status.json


async def test_server_and_token_work_before_the_subcommand_too(
    server: WarroomNode, add_user: AddUser
) -> None:
    alice = await add_user("alice")
    result = await warroom(
        "--server", server.url, "--token", alice, "declare", "--title", "x", "--sev", "3"
    )
    assert (result.code, result.out) == (0, "1\n")


async def test_user_revoke(db_path: Path) -> None:
    await warroom("user", "add", "bob", "--db", str(db_path))
    revoked = await warroom("user", "revoke", "bob", "--db", str(db_path))
    assert revoked.code == 0
    unknown = await warroom("user", "revoke", "bob", "--db", str(db_path))
    assert (unknown.code, unknown.err) == (1, "warroom: no user named bob\n")


async def test_phase_roles_entries_and_checklist_items_from_the_command_line(
    server: WarroomNode, add_user: AddUser
) -> None:
    alice, bob = await add_user("alice"), await add_user("bob")
    incident = (
        await warroom("declare", "--title", "x", "--sev", "2", server=server, token=alice)
    ).out.strip()
    moved = await warroom(
        "phase", incident, "investigating", "--reason", "on it", server=server, token=alice
    )
    assert moved.code == 0, moved.err
    assert (await warroom("assign", incident, "tl", "bob", server=server, token=alice)).code == 0
    added = await warroom("item", incident, "add", "Purge the CDN", server=server, token=bob)
    assert (added.code, added.out) == (0, "5\n")
    owned = await warroom("item", incident, "owner", "5", "bob", server=server, token=bob)
    assert owned.code == 0, owned.err
    entry = (await warroom("log", incident, "typo hre", server=server, token=bob)).out.strip()
    assert (
        await warroom("amend", incident, entry, "typo here", server=server, token=bob)
    ).code == 0
    assert (
        await warroom("strike", incident, entry, "--reason", "wrong", server=server, token=bob)
    ).code == 0
    assert (await warroom("unassign", incident, "tl", "bob", server=server, token=alice)).code == 0
    assert (await warroom("assign", incident, "ic", "bob", server=server, token=alice)).code == 0
    assert (await warroom("decline", incident, server=server, token=bob)).code == 0

    exported = await warroom("export", incident, server=server, token=alice)
    state = json.loads(exported.out)["state"]
    assert state["incident"]["phase"] == "investigating"
    assert state["checklist"][-1] | {"changed_at": None} == state["checklist"][-1] | {
        "id": 5,
        "title": "Purge the CDN",
        "owner": "bob",
        "changed_at": None,
    }
    struck = next(e for e in state["timeline"] if e["id"] == int(entry))
    assert (struck["text"], struck["struck"]) == ("typo here", True)
    assert state["roster"]["tls"] == {}
    assert state["roster"]["ic"] == "alice"
    assert state["roster"]["ic_offer"] is None
