"""The reverse proxies shipped in server/ (nginx-warroom.conf, Caddyfile), rendered for a test and
run for real in front of two nodes.

Rendering changes only what a deployment changes: the nodes' addresses (two loopback addresses
with the same ports stand for the two hosts, as the files' `health_port` wants), the proxy's own
ports, and nginx's certificate (a self-signed one made here). Every replaced text must be found,
so a config edited out of step with this rendering fails the test instead of testing less.

Both run as the test's own processes with every path in the test's directory: nginx with `-p`,
`-c`, `-e` and `daemon off`, Caddy with `caddy run`, its admin endpoint off and HOME/XDG dirs in
the directory. `scripts/install-proxies` installs Debian's nginx and caddy.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support import processes

SERVER = Path(__file__).parents[2] / "server"
NGINX_CONF = SERVER / "nginx-warroom.conf"
CADDYFILE = SERVER / "Caddyfile"
HOSTS = ("127.0.0.1", "127.0.0.2")
"""The two nodes' addresses; the shipped files' are 10.0.0.1 and 10.0.0.2."""
READY_WITHIN = 20.0
"""Seconds a proxy may take to answer /healthz before the test fails."""


def _binary(name: str) -> str:
    found = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if Path(p).exists()), None
    )
    if found is None:
        pytest.fail(f"{name} is not installed; run `sudo scripts/install-proxies`", pytrace=False)
    return found


def _render(text: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert old in text, f"the shipped config no longer has {old!r}: update tests/support"
        text = text.replace(old, new)
    return text


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key; consoles trust it through SSL_CERT_FILE."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


class ProxyProc:
    """A proxy process, its output kept in a file; `url` is where consoles connect."""

    def __init__(self, argv: list[str], log: Path, url: str, env: dict[str, str] | None = None):
        self.argv = argv
        self.log = log
        self.url = url
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def http_url(self) -> str:
        """The same address for plain HTTP requests (/healthz)."""
        return "http" + self.url.removeprefix("ws")

    async def start(self, verify: ssl.SSLContext | bool = True) -> None:
        """Start it and wait until it answers /healthz (`verify`: how to check its
        certificate)."""
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv, stdout=out, stderr=subprocess.STDOUT, env=self.env
            )
        await self._wait_ready(verify)

    async def _wait_ready(self, verify: ssl.SSLContext | bool) -> None:
        """Poll /healthz through the proxy (no event crosses processes), bounded in time."""
        assert self.proc is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_WITHIN
        async with httpx.AsyncClient(timeout=2, verify=verify) as http:
            while loop.time() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"{self.argv[0]} exited {self.proc.returncode}: "
                        f"{self.log.read_text()[-2000:]}"
                    )
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(f"{self.http_url}/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.05)  # poll interval of a bounded readiness loop
        raise TimeoutError(f"{self.argv[0]} did not answer /healthz: {self.log.read_text()}")

    def stop(self) -> None:
        processes.stop(self.proc)


def nginx(directory: Path, node_port: int, http_port: int, tls_port: int) -> ProxyProc:
    """The shipped server/nginx-warroom.conf in front of the nodes on `HOSTS` at `node_port`;
    consoles connect to wss://127.0.0.1:`tls_port` (plain http on `http_port` redirects)."""
    cert, key = self_signed_certificate(directory)
    site = _render(
        NGINX_CONF.read_text(),
        {
            "10.0.0.1:8765": f"{HOSTS[0]}:{node_port}",
            "10.0.0.2:8765": f"{HOSTS[1]}:{node_port}",
            "listen 80;": f"listen 127.0.0.1:{http_port};",
            "listen [::]:80;": "",
            "listen 443 ssl;": f"listen 127.0.0.1:{tls_port} ssl;",
            "listen [::]:443 ssl;": "",
            "/etc/letsencrypt/live/warroom.example.org/fullchain.pem": str(cert),
            "/etc/letsencrypt/live/warroom.example.org/privkey.pem": str(key),
        },
    )
    (directory / "warroom.conf").write_text(site)
    # The main file a distribution ships around conf.d/, with every path in `directory`.
    main = directory / "nginx.conf"
    main.write_text(
        f"daemon off;\n"
        f"worker_processes 1;\n"
        f"pid {directory}/nginx.pid;\n"
        f"error_log {directory}/error.log info;\n"
        f"events {{ worker_connections 256; }}\n"
        f"http {{\n"
        f"    access_log {directory}/access.log;\n"
        f"    client_body_temp_path {directory}/client_body;\n"
        f"    proxy_temp_path {directory}/proxy;\n"
        f"    fastcgi_temp_path {directory}/fastcgi;\n"
        f"    uwsgi_temp_path {directory}/uwsgi;\n"
        f"    scgi_temp_path {directory}/scgi;\n"
        f"    include {directory}/warroom.conf;\n"
        f"}}\n"
    )
    argv = [_binary("nginx"), "-p", f"{directory}/", "-c", str(main)]
    argv += ["-e", str(directory / "error.log")]
    return ProxyProc(argv, directory / "nginx.out", f"wss://127.0.0.1:{tls_port}")


def caddy(directory: Path, node_port: int, node_http_port: int, port: int) -> ProxyProc:
    """The shipped server/Caddyfile in front of the nodes on `HOSTS` at `node_port` (their
    /readyz on `node_http_port`); consoles connect to ws://127.0.0.1:`port` (no TLS here: the
    site's name is an address, so Caddy would need its own CA for it)."""
    site = _render(
        CADDYFILE.read_text(),
        {
            "warroom.example.org {": f"http://127.0.0.1:{port} {{",
            "10.0.0.1:8765 10.0.0.2:8765": f"{HOSTS[0]}:{node_port} {HOSTS[1]}:{node_port}",
            "health_port 8766": f"health_port {node_http_port}",
        },
    )
    config = directory / "Caddyfile"
    # The global options come first: no admin endpoint (another port, and nothing reloads here).
    config.write_text("{\n\tadmin off\n}\n\n" + site)
    home = directory / "home"
    env = dict(os.environ)
    env |= {
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }
    argv = [_binary("caddy"), "run", "--config", str(config), "--adapter", "caddyfile"]
    return ProxyProc(argv, directory / "caddy.out", f"ws://127.0.0.1:{port}", env)
