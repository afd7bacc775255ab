"""Comma-separated server addresses as a careless user writes them (`--server`, `WARROOM_SERVER`):
thousands of them, empty ones, control characters; each is one clear line and a non-zero exit,
and spaces around the commas are allowed."""

from __future__ import annotations

import pytest

from tests.support.cli import warroom
from warroom.protocol.endpoint import MAX_SERVER_ADDRESSES, BadServerAddress, server_addresses


async def test_thousands_of_addresses_are_refused_in_one_line() -> None:
    many = ",".join(f"ws://10.0.{n // 256}.{n % 256}:8765" for n in range(2_000))
    result = await warroom("incidents", env={"WARROOM_SERVER": many, "WARROOM_TOKEN": "wr_x"})
    assert result.code != 0
    assert "Traceback" not in result.err
    (line,) = result.err.strip().splitlines()
    assert f"at most {MAX_SERVER_ADDRESSES}" in line


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("ws://a:1,,ws://b:2", "empty"),
        ("ws://a:1,", "empty"),
        (" , ", "no server address"),
        ("unix:/run/warroom.sock\x1b[2J", "control characters"),
        ("ws://a:1,http://b:2", "use ws://"),
    ],
)
def test_a_bad_element_is_named_with_why(text: str, why: str) -> None:
    with pytest.raises(BadServerAddress, match=why):
        server_addresses(text)


def test_spaces_around_commas_and_mixed_kinds_are_taken_in_order() -> None:
    assert server_addresses(" ws://a:1 ,\tunix:/run/w.sock , wss://b ") == [
        "ws://a:1",
        "unix:/run/w.sock",
        "wss://b",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "ws://alice:s3cret@host:8765",
        "ws://s3cret@[::1]:8765",
        "ws://a:1,wss://alice:s3cret@host:99999",
        "ws://alice:s3cret@host/\x1b[2J",
    ],
)
async def test_credentials_in_an_address_are_refused_without_being_printed(text: str) -> None:
    result = await warroom("incidents", env={"WARROOM_SERVER": text, "WARROOM_TOKEN": "wr_x"})
    assert result.code != 0
    assert "Traceback" not in result.err
    (line,) = result.err.strip().splitlines()
    assert "s3cret" not in line
    assert "***@" in line


def test_an_ipv6_literal_with_a_port_is_taken() -> None:
    assert server_addresses("ws://[::1]:8765,wss://[2001:db8::7]") == [
        "ws://[::1]:8765",
        "wss://[2001:db8::7]",
    ]
