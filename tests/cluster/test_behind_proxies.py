"""Two nodes behind the reverse proxies shipped in server/ (nginx and Caddy, the real programs):
a console given only the proxy's address writes through it, the node the proxy sent it to is
SIGKILLed in the middle of its burst, and the console resumes through the same address on the
other node with nothing lost and nothing applied twice; /healthz answers through the proxy.

The nodes are two `warroom serve --db postgresql://…` processes on 127.0.0.1 and 127.0.0.2 with
the same ports, standing for the files' two hosts; tests/support/proxies.py renders the files.
And what a node receives through each proxy (upgrade headers, token, the console's address in
X-Forwarded-For as the server's trusted-proxy rule reads it), recorded in place of a node.
"""

from __future__ import annotations

import asyncio
import ssl
from ipaddress import ip_network
from pathlib import Path

import httpx
import pytest

from tests.core.serverproc import free_port
from tests.support.client_sync import until
from tests.support.node_proc import NodeProc
from tests.support.postgres import stored_command_ids
from tests.support.proxies import HOSTS, ProxyProc, caddy, nginx
from tests.support.recording_server import RecordingServer
from tests.support.sigkill_rounds import (
    Writer,
    bursts_drained,
    check_converged,
    check_everything_once,
    check_survivors,
    kill_during_bursts,
    read_log,
    sign_up,
)
from warroom.client.session import new_id
from warroom.client.updates import ConnectionStatus
from warroom.domain.commands import DeclareIncident
from warroom.server.app import client_address


async def consoles_on(node: NodeProc) -> int:
    """The node's `warroom_connections` gauge: which node the proxy sent the console to."""
    assert node.http_port is not None
    async with httpx.AsyncClient(timeout=5) as http:
        metrics = (await http.get(f"http://{node.host}:{node.http_port}/metrics")).text
    line = next(ln for ln in metrics.splitlines() if ln.startswith("warroom_connections "))
    return int(float(line.split()[1]))


async def healthz(proxy: ProxyProc, verify: ssl.SSLContext | bool) -> str:
    async with httpx.AsyncClient(timeout=5, verify=verify) as http:
        reply = await http.get(f"{proxy.http_url}/healthz")
    assert reply.status_code == 200, reply.text
    return reply.text


@pytest.mark.parametrize("which", ["nginx", "caddy"])
async def test_console_behind_the_proxy_resumes_on_the_other_node_when_its_node_is_killed(
    which: str, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = await sign_up(pg_url, ["alice"])
    node_port, node_http_port = free_port(), free_port()
    nodes = [
        NodeProc(pg_url, node_port, tmp_path / f"node{n}.log", host=host, http_port=node_http_port)
        for n, host in enumerate(HOSTS)
    ]
    await asyncio.gather(*(node.start() for node in nodes))
    proxy_dir = tmp_path / which
    proxy_dir.mkdir()
    verify: ssl.SSLContext | bool = True
    if which == "nginx":
        proxy = nginx(proxy_dir, node_port, free_port(), free_port())
        # The console trusts the test's certificate the way server/README.md says to.
        certificate = proxy_dir / "cert.pem"
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate))
        verify = ssl.create_default_context(cafile=certificate)
    else:
        proxy = caddy(proxy_dir, node_port, node_http_port, free_port())
    writer = Writer("alice", tokens["alice"], proxy.url, tmp_path / "outbox.jsonl")
    try:
        async with asyncio.timeout(120):  # a bound for a hang, not a speed target
            await proxy.start(verify)
            assert await healthz(proxy, verify) == "ok\n"
            await writer.client.start()
            declared = await writer.client.execute(
                DeclareIncident(id=new_id(), title="Checkout down", severity=1)
            )
            incident_id = declared.incident_id
            await writer.client.follow(incident_id)
            counts = [await consoles_on(node) for node in nodes]
            assert sorted(counts) == [0, 1], counts
            serving, other = (nodes[0], nodes[1]) if counts[0] else (nodes[1], nodes[0])

            def resumed() -> bool:
                return writer.client.status is ConnectionStatus.CONNECTED

            kill = await kill_during_bursts([writer], serving.kill, incident_id, 0)
            assert kill.in_flight, "the kill caught no write in flight"
            check_survivors(await stored_command_ids(pg_url, incident_id), kill.acked, 0)

            await until(writer.client, resumed, timeout=30, what="resumed through the proxy")
            assert writer.client.url == proxy.url
            await bursts_drained(kill, [writer])
            assert await consoles_on(other) == 1

            events = await read_log(tokens["auditor"], proxy.url, incident_id)
            check_everything_once(events, [writer], 0)
            await check_converged([writer], incident_id, events)
            assert await healthz(proxy, verify) == "ok\n"
    finally:
        await writer.client.close()
        proxy.stop()
        for node in nodes:
            node.stop()


CONSOLE_ADDRESS = "127.0.0.3"
"""The console's own loopback address: not the proxy's (127.0.0.1), as on a real network."""
DOCUMENTED_TRUSTED_PROXIES = (ip_network("127.0.0.1"), ip_network("::1"))
"""`trusted_proxies` as server/README.md sets it for a proxy on the same host."""


@pytest.mark.parametrize("which", ["nginx", "caddy"])
async def test_the_proxy_hands_the_node_the_upgrade_the_token_and_the_consoles_address(
    which: str, tmp_path: Path
) -> None:
    """What the node receives through the proxy, recorded by a plain HTTP server standing in for
    the first node: the websocket upgrade headers, the Authorization header unchanged, and an
    X-Forwarded-For from which the server's rule, with the documented trusted proxies, finds the
    console's address, not one the console forged."""
    with RecordingServer() as recorder:
        port = int(recorder.url.rsplit(":", 1)[1])
        proxy_dir = tmp_path / which
        proxy_dir.mkdir()
        verify: ssl.SSLContext | bool = True
        if which == "nginx":
            proxy = nginx(proxy_dir, port, free_port(), free_port())
            verify = ssl.create_default_context(cafile=proxy_dir / "cert.pem")
        else:
            proxy = caddy(proxy_dir, port, port, free_port())
        try:
            async with asyncio.timeout(60):  # a bound for a hang, not a speed target
                await proxy.start(verify)
                transport = httpx.AsyncHTTPTransport(local_address=CONSOLE_ADDRESS, verify=verify)
                async with httpx.AsyncClient(transport=transport, timeout=10) as http:
                    reply = await http.get(
                        f"{proxy.http_url}/",
                        headers={
                            "Upgrade": "websocket",
                            "Connection": "Upgrade",
                            "Authorization": "Bearer wr_test-token",
                            "X-Forwarded-For": "203.0.113.9",
                        },
                    )
                assert reply.status_code == 200, reply.text
        finally:
            proxy.stop()
        seen = next(r for r in recorder.requests if r.path == "/")
    assert seen.headers["upgrade"] == "websocket"
    assert seen.headers["connection"].lower() == "upgrade"
    assert seen.headers["authorization"] == "Bearer wr_test-token"
    forwarded = [seen.headers["x-forwarded-for"]]
    assert client_address("127.0.0.1", forwarded, DOCUMENTED_TRUSTED_PROXIES) == CONSOLE_ADDRESS
