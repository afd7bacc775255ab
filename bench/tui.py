"""TUI, headless: first paint of a long incident, a 1,000-event burst, keypresses meanwhile."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench import seed, targets
from bench.harness import Results, ServerProcess, Settings, WorkerPool, median, percentile
from warroom.client.session import WarroomClient

SIZE = (160, 48)
KEY_INTERVAL = 0.05
PAINT_TIMEOUT = 180.0


def available() -> str | None:
    """None if the TUI can be built, else why not."""
    try:
        from warroom.tui.app import make_app  # noqa: F401
    except Exception as exc:  # the TUI is optional for the benchmark run
        return f"{type(exc).__name__}: {exc}"
    return None


def run(settings: Settings, pool: WorkerPool, workdir: Path, results: Results) -> None:
    missing = available()
    if missing is not None:
        print("  TUI not available", flush=True)
        results.note(f"TUI not available ({missing}); TUI figures skipped")
        return
    for n, size in enumerate(settings.tui_sizes):
        # Each size on its own server, so no run pays for another incident held in memory.
        folder = workdir / f"tui-{size}"
        folder.mkdir()
        db = folder / "warroom.db"
        token = asyncio.run(targets.make_user(db))
        asyncio.run(seed.seed_warroom(db, {1: seed.incident_events(1, size, targets.BENCH_USER)}))
        server = ServerProcess.launch("warroom", "bench.serve_warroom", ["--db", str(db)], folder)
        try:
            print(f"  TUI: first paint, {size:,} entries", flush=True)
            paint = asyncio.run(_first_paint(server.url(), token, 1, size + 1))
            for name, value in paint.items():
                results.put(f"tui.first_paint.{size}.{name}", value)
            if n == 0:
                count = settings.tui_burst
                print(f"  TUI: burst of {count:,} events on {size:,} entries", flush=True)
                burst, keys = asyncio.run(_burst(pool, server.url(), token, 1, size + 1, count))
                for name, figure in burst.items():
                    results.put(f"tui.burst.{name}", figure)
                results.meta["tui_keypress_ms"] = [round(ms, 1) for ms in keys]
        finally:
            server.stop()


class PaintProbe:
    """Notes every screen update the app composes (headless, nothing reaches a terminal, but the
    compositor renders exactly what it would draw) and resolves waits on the first paint that
    happens once a condition holds."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self.paints = 0
        self.cpu_at_paint = 0.0
        """`time.process_time()` at the paint that resolved the last wait: this process's CPU
        time, less sensitive to other work on a loaded machine than the wall clock."""
        self.last_paint = (0.0, 0.0)
        """`perf_counter()` and `process_time()` at the latest paint."""
        self._waits: list[tuple[Callable[[], bool], asyncio.Future[float]]] = []
        display = app._display

        def counting_display(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is None:
                return
            self.paints += 1
            now = time.perf_counter()
            cpu = time.process_time()
            self.last_paint = (now, cpu)
            for condition, future in list(self._waits):
                if not future.done() and condition():
                    self.cpu_at_paint = cpu
                    future.set_result(now)
                    self._waits.remove((condition, future))

        app._display = counting_display

    async def painted(self, condition: Callable[[], bool], within: float = PAINT_TIMEOUT) -> float:
        """perf_counter() of the first paint after `condition` became true."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waits.append((condition, future))
        deadline = time.monotonic() + within
        while not future.done():
            # An app that crashed (say in compose) paints nothing more: fail now, not at timeout.
            if not self._app.is_running:
                error = getattr(self._app, "_exception", None)
                raise RuntimeError(f"the app stopped: {error!r}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing painted within {within:g} s")
            await asyncio.wait({future}, timeout=0.05)
        return future.result()


def _current(client: WarroomClient, incident_id: int, seq: int) -> Callable[[], bool]:
    def check() -> bool:
        state = client.states.get(incident_id)
        return state is not None and state.seq >= seq

    return check


def _typed(field: Any, count: int) -> bool:
    return len(field.value) >= count


async def _first_paint(url: str, token: str, incident_id: int, seq: int) -> dict[str, float]:
    """From an empty console (client connected, app not yet started) to the incident drawn."""
    from warroom.tui.app import make_app

    client = WarroomClient(url, token, reconnect=False)
    await client.start()
    current_at: list[float] = []
    check = _current(client, incident_id, seq)
    client.add_listener(lambda _: current_at.append(time.perf_counter()) if check() else None)
    app = make_app(client, incident_id=incident_id)
    probe = PaintProbe(app)
    started = time.perf_counter()
    try:
        async with app.run_test(size=SIZE):
            painted = await probe.painted(check)
    finally:
        await client.close()
    return {
        "state_ms": (current_at[0] - started) * 1e3 if current_at else -1,
        "paint_ms": (painted - started) * 1e3,
    }


async def _burst(
    pool: WorkerPool, url: str, token: str, incident_id: int, seq: int, count: int
) -> tuple[dict[str, float | None], list[float]]:
    """A writer in another process posts `count` entries as fast as acknowledged while this
    console shows the incident; meanwhile a key goes to the Scribe input every 50 ms."""
    from textual import events
    from textual.widgets import Input

    from warroom.tui.app import make_app

    client = WarroomClient(url, token, reconnect=False)
    await client.start()
    app = make_app(client, incident_id=incident_id)
    probe = PaintProbe(app)
    writer = {
        "kind": "warroom",
        "url": url,
        "token": token,
        "incident_id": incident_id,
        "clients": [0],
        "writers": [0],
    }
    burst = {
        "mode": "burst",
        "tag": f"tui{time.monotonic_ns()}-",
        "window": 16,
        "seconds": 120.0,
        "count": count,
        "timeout": 30.0,
    }
    key_ms: list[float] = []
    try:
        async with app.run_test(size=SIZE) as pilot:
            await probe.painted(_current(client, incident_id, seq))
            scribe = app.screen.query_one("#scribe", Input)
            scribe.focus()
            await pilot.pause()
            await asyncio.to_thread(pool.ask, [("setup", writer)], 120)
            started = time.perf_counter()
            burst["start_ns"] = time.monotonic_ns()
            writing = asyncio.create_task(asyncio.to_thread(pool.ask, [("run", burst)], 180))
            applied = asyncio.create_task(probe.painted(_current(client, incident_id, seq + count)))
            typed = len(scribe.value)
            while not applied.done():
                typed += 1
                pressed = time.perf_counter()
                app.post_message(events.Key("x", "x"))
                shown = await probe.painted(partial(_typed, scribe, typed))
                key_ms.append((shown - pressed) * 1e3)
                await asyncio.sleep(max(0.0, KEY_INTERVAL - (shown - pressed)))
            done = await applied
            (run,) = await writing
    finally:
        await asyncio.to_thread(pool.ask, [("teardown", None)], 60)
        await client.close()
    server_ms = (run["last_ack_ns"] - burst["start_ns"]) / 1e6
    figures = {
        "apply_ms": (done - started) * 1e3,
        "server_ms": server_ms,
        "keypress_p50_ms": median(key_ms),
        "keypress_p99_ms": percentile(key_ms, 99),
        "keypress_max_ms": max(key_ms, default=None),
        "keypresses": len(key_ms),
    }
    return figures, key_ms
