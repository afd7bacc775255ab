"""Hostile `X-Warroom-Accept` and `X-Warroom-Subscribe` handshake headers: a thousand values,
unknown ones, repeats, huge ones, non-ASCII, empty. Each gets the answer docs/protocol.md gives:
an `X-Warroom-Accept` name the server does not know (exactly, as written) is ignored, a
subscribe header that is no readable subscribe is refused with an error (its id when it can be
read) and the connection goes on, and a bad token is refused 401 before either is read. None of
them changes the log or what the connection follows, and frames sent after the `welcome` are
answered as ever."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.core.test_catch_up import AddUser, bearer, write_notes
from tests.core.wire import Peer
from tests.support.clients import ClientAs, declare
from warroom.node import WarroomNode
from warroom.protocol.handshake import (
    ACCEPT_HEADER,
    MAX_HANDSHAKE_SUBSCRIBES,
    SUBSCRIBE_HEADER,
    SUBSCRIBED_HEADER,
)

NOTES = 12
"""Entries after the declaration: a catch-up from seq 1 is one run long enough for columns."""


def _subscribe(incident_id: int, frame_id: str = "h-1", **more: Any) -> str:
    frame = {"type": "subscribe", "id": frame_id, "incident_id": incident_id, **more}
    return json.dumps(frame, ensure_ascii=False)


def _utf8(text: str) -> str:
    """`text` as the UTF-8 bytes a client would put on the wire (websockets writes header values
    as ISO-8859-1, one byte a character)."""
    return text.encode().decode("iso-8859-1")


async def _incident_with_notes(server: WarroomNode, client_as: ClientAs) -> tuple[int, int]:
    alice = await client_as(server.url, "alice")
    incident_id = await declare(alice, "hostile headers")
    return incident_id, await write_notes(alice, incident_id, NOTES)


async def _plain_frames_still_answered(peer: Peer, incident_id: int, head: int) -> None:
    """What the connection follows and the log are unchanged, and a frame is answered as ever."""
    caught_up = await peer.request({"type": "subscribe", "incident_id": incident_id, "since": 1})
    assert caught_up["type"] == "events"  # no encoding a header asked for
    assert [event["seq"] for event in caught_up["events"]] == list(range(2, head + 1))


@pytest.mark.parametrize(
    ("accept", "answered_as"),
    [
        ([",".join(["x"] * 1000)], "events"),
        ([",".join(["x"] * 999 + ["columnar_events"])], "columnar_events"),
        ([",".join(["columnar_events"] * 100)], "columnar_events"),
        (["columnar_events", "columnar_events", "teleport"], "columnar_events"),
        (["teleport, quantum"], "events"),
        (["teleport ,\tcolumnar_events "], "columnar_events"),
        (["x" * 1900], "events"),
        ([_utf8("columnar_évents")], "events"),
        (["columnar_events\xa0"], "events"),
        ([_utf8("columnar_events\u3000")], "events"),
        ([""], "events"),
        ([",, ,\t,"], "events"),
        (["COLUMNAR_EVENTS"], "events"),
    ],
    ids=[
        "a thousand unknown",
        "a thousand with the known one last",
        "the known one a hundred times",
        "repeated headers",
        "unknown",
        "spaces and tabs around names",
        "huge",
        "non-ASCII",
        "ends in a no-break space",
        "ends in an ideographic space",
        "empty",
        "only commas and blanks",
        "another case",
    ],
)
async def test_an_accept_header_names_only_what_it_spells_exactly_and_changes_nothing_else(
    server: WarroomNode,
    add_user: AddUser,
    client_as: ClientAs,
    accept: list[str],
    answered_as: str,
) -> None:
    incident_id, head = await _incident_with_notes(server, client_as)
    headers = [
        *bearer(await add_user("bob")).items(),
        (SUBSCRIBE_HEADER, _subscribe(incident_id, since=1)),
        *((ACCEPT_HEADER, value) for value in accept),
    ]
    async with connect(server.url, additional_headers=headers) as ws:
        assert ws.response is not None
        assert ws.response.headers[SUBSCRIBED_HEADER] == "1"
        peer = Peer(ws)
        assert (await peer.recv())["type"] == "welcome"
        answer = await peer.recv()
        assert (answer["type"], answer["id"]) == (answered_as, "h-1")
        await _plain_frames_still_answered(peer, incident_id, head)


_DEEP = "[" * 900 + "]" * 900
_REPEATED_DEEP = _subscribe(1)[:-1] + f', "incident_id": [{_DEEP}]}}'


@pytest.mark.parametrize(
    ("carried", "code", "answered_id"),
    [
        ("", "bad_frame", None),
        (",".join([_subscribe(1, f"h-{n}") for n in range(30)]), "bad_frame", None),
        (_subscribe(1, teleport=True), "invalid", "h-1"),
        (_subscribe(1, "h" * 1900), "too_large", None),
        (_subscribe(10**400), "unknown_incident", "h-1"),
        (_DEEP, "bad_frame", None),
        (_REPEATED_DEEP, "bad_frame", None),
        (_utf8(_subscribe(1, "h-é")), "bad_frame", None),
        (_utf8(_subscribe(1)).replace('"h-1"', '"h-1", "x": "\u00e9"'), "bad_frame", None),
        (_utf8(_subscribe(1, "h-1\u2028")), "bad_frame", None),
    ],
    ids=[
        "empty",
        "thirty subscribes in one value",
        "unknown field",
        "huge id",
        "huge number",
        "nested too deep",
        "repeated key, deep value",
        "non-ASCII id",
        "non-ASCII text elsewhere",
        "a line separator in the id",
    ],
)
async def test_a_hostile_subscribe_header_is_refused_with_a_clear_error_and_changes_nothing(
    server: WarroomNode,
    add_user: AddUser,
    client_as: ClientAs,
    carried: str,
    code: str,
    answered_id: str | None,
) -> None:
    incident_id, head = await _incident_with_notes(server, client_as)
    carried = carried.replace('"incident_id": 1', f'"incident_id": {incident_id}')
    headers = [*bearer(await add_user("bob")).items(), (SUBSCRIBE_HEADER, carried)]
    async with connect(server.url, additional_headers=headers) as ws:
        peer = Peer(ws)
        assert (await peer.recv())["type"] == "welcome"
        refusal = await peer.recv()
        assert refusal["type"] == "error", refusal
        assert (refusal["code"], refusal["id"]) == (code, answered_id)
        [conn] = server.server._sessions["bob"]
        assert conn.subscriptions == set()  # it follows nothing
        await _plain_frames_still_answered(peer, incident_id, head)


async def test_the_same_subscribe_repeated_in_the_handshake_follows_the_incident_once(
    server: WarroomNode, add_user: AddUser, client_as: ClientAs
) -> None:
    incident_id, head = await _incident_with_notes(server, client_as)
    repeated = [(SUBSCRIBE_HEADER, _subscribe(incident_id, since=head))] * MAX_HANDSHAKE_SUBSCRIBES
    headers = [*bearer(await add_user("bob")).items(), *repeated]
    async with connect(server.url, additional_headers=headers) as ws:
        peer = Peer(ws)
        assert (await peer.recv())["type"] == "welcome"
        answers = [await peer.reply_to("h-1") for _ in range(MAX_HANDSHAKE_SUBSCRIBES)]
        assert {(a["type"], len(a["events"])) for a in answers} == {("events", 0)}
        [conn] = server.server._sessions["bob"]
        assert conn.subscriptions == {incident_id}


@pytest.mark.parametrize(
    "abuse",
    [
        [(ACCEPT_HEADER, "x")] * 40,
        [(ACCEPT_HEADER, _utf8("é" * 900))],
        [(SUBSCRIBE_HEADER, _subscribe(1, f"h-{n}")) for n in range(MAX_HANDSHAKE_SUBSCRIBES + 1)],
        [(SUBSCRIBE_HEADER, "")] * 40,
    ],
    ids=["many accepts", "non-ASCII accept", "too many subscribes", "many empty subscribes"],
)
async def test_hostile_headers_with_a_bad_token_get_only_the_401(
    server: WarroomNode, abuse: list[tuple[str, str]]
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await connect(server.url, additional_headers=[*bearer("nope").items(), *abuse])
    assert refused.value.response.status_code == HTTPStatus.UNAUTHORIZED
