"""The results table: every figure beside the floor and the peer, their ratios, and the targets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.harness import Results, Settings
from warroom.domain.replay_index import CHECKPOINT_EVERY

NOISY = 0.25
"""Cores of other work during a run above which its figures are called out as skewed."""


@dataclass(frozen=True)
class Row:
    """One line of the table: a figure measured for warroom and, where it applies, the others."""

    label: str
    key: str
    """Figure key with `{t}` where the target name goes."""
    unit: str
    target: str = ""
    check: Callable[[Results], bool | None] | None = None


def _value(results: Results, key: str, kind: str) -> float | None:
    return results.get(key.format(t=kind))


def _at_most(key: str, limit: float) -> Callable[[Results], bool | None]:
    def check(results: Results) -> bool | None:
        value = results.get(key)
        return None if value is None else value <= limit

    return check


def _ratio_at_most(key: str, other: str, factor: float) -> Callable[[Results], bool | None]:
    def check(results: Results) -> bool | None:
        ours, theirs = results.get(key.format(t="warroom")), results.get(key.format(t=other))
        return None if ours is None or theirs is None else ours <= factor * theirs

    return check


def _ratio_at_least(key: str, other: str, factor: float) -> Callable[[Results], bool | None]:
    def check(results: Results) -> bool | None:
        ours, theirs = results.get(key.format(t="warroom")), results.get(key.format(t=other))
        return None if ours is None or theirs is None else ours >= factor * theirs

    return check


def _below(key: str, other: str) -> Callable[[Results], bool | None]:
    def check(results: Results) -> bool | None:
        ours, theirs = results.get(key.format(t="warroom")), results.get(key.format(t=other))
        return None if ours is None or theirs is None else ours < theirs

    return check


def rows(settings: Settings) -> list[tuple[str, list[Row]]]:
    """The table's sections, in order."""
    paced: list[Row] = []
    burst: list[Row] = []
    for m in settings.clients:
        p = f"paced.m{m}.{{t}}"
        paced += [
            Row(f"M={m} fan-out p50", f"{p}.p50_ms", "ms"),
            Row(f"M={m} fan-out p99", f"{p}.p99_ms", "ms"),
            Row(f"M={m} fan-out max", f"{p}.max_ms", "ms"),
        ]
        b = f"burst.m{m}.{{t}}"
        burst += [
            Row(f"M={m} fan-out p50", f"{b}.p50_ms", "ms"),
            Row(f"M={m} fan-out p99", f"{b}.p99_ms", "ms"),
            Row(f"M={m} durable writes/s", f"{b}.durable_per_s", "/s"),
            Row(f"M={m} server CPU / delivery", f"{b}.server_cpu_us_per_delivery", "us"),
            Row(f"M={m} server CPU / 1000 writes", f"{b}.server_cpu_ms_per_1000_writes", "ms"),
            Row(f"M={m} commits / 1000 writes", f"{b}.commits_per_1000_writes", ""),
            Row(f"M={m} disk writes / 1000 writes", f"{b}.disk_kb_per_1000_writes", "KB"),
        ]
    _attach_paced_targets(paced)
    _attach_burst_targets(burst)
    entries = f"{settings.long_incident:,}"
    beside = [
        Row("M=10 paced fan-out p50", "paced.m10.long.p50_ms", "ms"),
        Row("M=10 paced fan-out p99", "paced.m10.long.p99_ms", "ms"),
        Row("M=10 burst durable writes/s", "burst.m10.long.durable_per_s", "/s"),
        Row("M=10 burst server CPU / 1000 writes", "burst.m10.long.server_cpu_ms_per_1000_writes",
            "ms"),
    ]  # fmt: skip
    catchup = [
        Row("resume after 100 missed", "catchup.resume100.{t}.total_ms", "ms", "<= 5 ms",
            _at_most("catchup.resume100.warroom.total_ms", 5)),
        Row("  of which sync (wr: applied)", "catchup.resume100.{t}.applied_ms", "ms"),
        Row("  wr sync, wire only (JSON)", "catchup.resume100.{t}.wire_ms", "ms"),
        Row("  wr client CPU (min of 7)", "catchup.resume100.{t}.client_cpu_ms", "ms"),
        Row("fresh full sync, 2,000 entries", "catchup.full2000.{t}.total_ms", "ms", "<= 4 ms",
            _at_most("catchup.full2000.warroom.total_ms", 4)),
        Row("  of which sync (wr: applied)", "catchup.full2000.{t}.applied_ms", "ms"),
        Row("  wr sync, wire only (JSON)", "catchup.full2000.{t}.wire_ms", "ms"),
        Row("  wr client CPU (min of 7)", "catchup.full2000.{t}.client_cpu_ms", "ms"),
        Row("10,000 events behind", "catchup.behind10000.{t}.total_ms", "ms", "<= 25 ms",
            _at_most("catchup.behind10000.warroom.total_ms", 25)),
        Row("  of which sync (wr: applied)", "catchup.behind10000.{t}.applied_ms", "ms"),
        Row("  wr sync, wire only (JSON)", "catchup.behind10000.{t}.wire_ms", "ms"),
        Row("  wr client CPU (min of 7)", "catchup.behind10000.{t}.client_cpu_ms", "ms"),
    ]  # fmt: skip
    memory = [
        Row(f"server RSS per idle client ({settings.idle_clients})", "memory.{t}.kb_per_client",
            "KB", "< 100 KB", _at_most("memory.warroom.kb_per_client", 99.999)),
        Row(f"time for {settings.idle_clients} clients to join", "memory.{t}.join_s", "s"),
    ]  # fmt: skip
    tui = [
        Row(f"first paint, {size:,} entries", f"tui.first_paint.{size}.paint_ms", "ms",
            "< 1 s" if size == 100_000 else "",
            _at_most(f"tui.first_paint.{size}.paint_ms", 999.999) if size == 100_000 else None)
        for size in settings.tui_sizes
    ]  # fmt: skip
    tui += [
        Row(f"  of which state current, {size:,}", f"tui.first_paint.{size}.state_ms", "ms")
        for size in settings.tui_sizes
    ]
    tui += [
        Row(f"apply burst of {settings.tui_burst:,} events", "tui.burst.apply_ms", "ms"),
        Row("  server done (last ack)", "tui.burst.server_ms", "ms"),
        Row("keypress during burst, p50", "tui.burst.keypress_p50_ms", "ms"),
        Row("keypress during burst, max", "tui.burst.keypress_max_ms", "ms", "<= 50 ms",
            _at_most("tui.burst.keypress_max_ms", 50)),
    ]  # fmt: skip
    history = [
        Row("start-up to /healthz, empty db", "history.empty.start_s", "s"),
        Row("start-up to /healthz, large db", "history.large.start_s", "s", "< 1 s",
            _at_most("history.large.start_s", 0.999)),
        Row("  large over empty", "history.large.start_over_empty_s", "s"),
        Row("RSS after start, empty db", "history.empty.rss_mb", "MB"),
        Row("RSS after start, large db", "history.large.rss_mb", "MB"),
        Row("  large over empty", "history.large.rss_over_empty_mb", "MB", "<= 50 MB",
            _at_most("history.large.rss_over_empty_mb", 50)),
        Row("open a closed 2,000-entry incident", "history.large.open_closed_ms", "ms", "< 50 ms",
            _at_most("history.large.open_closed_ms", 49.999)),
        Row("  again, while it is loaded", "history.large.open_loaded_ms", "ms"),
        Row("events of closed history", "history.large.events", ""),
        Row("  database size", "history.large.db_mb", "MB"),
        Row("  time to build it", "history.large.build_s", "s"),
    ]  # fmt: skip
    replay = [
        Row("jump anywhere, p50", "replay.jump_p50_ms", "ms"),
        Row("jump anywhere, p99", "replay.jump_p99_ms", "ms", "< 100 ms",
            _at_most("replay.jump_p99_ms", 99.999)),
        Row("jump, worst (longest fold)", "replay.jump_worst_ms", "ms", "< 100 ms",
            _at_most("replay.jump_worst_ms", 99.999)),
        Row("step back one event, p50", "replay.step_back_p50_ms", "ms"),
        Row("step back one event, max", "replay.step_back_max_ms", "ms"),
        Row("jump on the app to painted, p50", "replay.painted_p50_ms", "ms"),
        Row("jump on the app to painted, p99", "replay.painted_p99_ms", "ms", "< 100 ms",
            _at_most("replay.painted_p99_ms", 99.999)),
        Row("  CPU time of it, p50", "replay.painted_cpu_p50_ms", "ms"),
        Row("  CPU time of it, p99", "replay.painted_cpu_p99_ms", "ms"),
        Row("jump on the app to settled, p50", "replay.settled_p50_ms", "ms"),
        Row("jump on the app to settled, p99", "replay.settled_p99_ms", "ms"),
        Row("  CPU time of it, p50", "replay.settled_cpu_p50_ms", "ms"),
        Row("  CPU time of it, p99", "replay.settled_cpu_p99_ms", "ms"),
        Row("fold the log with checkpoints", "replay.index_s", "s"),
        Row("events in the incident", "replay.events", ""),
    ]  # fmt: skip
    return [
        (f"Fan-out, paced {settings.paced_rate:g} writes/s", paced),
        (f"Burst, {settings.max_writers} writers x {settings.window} in flight", burst),
        (f"Warroom beside an idle {entries}-entry incident (compare M=10 above)", beside),
        ("Catch-up (median of repeats; connect + sync)", catchup),
        ("Memory", memory),
        ("TUI (headless)", tui),
        ("History (closed incidents in the database; memory and start-up)", history),
        (f"Replay (one incident in memory, checkpoints every {CHECKPOINT_EVERY:,} events)", replay),
    ]


def _attach_paced_targets(paced: list[Row]) -> None:
    targets = {
        "M=50 fan-out p50": ("<= 4 ms", _at_most("paced.m50.warroom.p50_ms", 4)),
        "M=50 fan-out p99": (
            "<= 8 ms, <= 1.5x floor, < peer",
            lambda r: _all(
                _at_most("paced.m50.warroom.p99_ms", 8)(r),
                _ratio_at_most("paced.m50.{t}.p99_ms", "floor", 1.5)(r),
                _below("paced.m50.{t}.p99_ms", "yjs")(r),
            ),
        ),
        "M=200 fan-out p99": ("<= 20 ms", _at_most("paced.m200.warroom.p99_ms", 20)),
    }
    for i, row in enumerate(paced):
        if row.label in targets:
            text, check = targets[row.label]
            paced[i] = Row(row.label, row.key, row.unit, text, check)


def _attach_burst_targets(burst: list[Row]) -> None:
    for i, row in enumerate(burst):
        m = row.label.split()[0][2:]
        if row.label.endswith("durable writes/s") and m in {"10", "50", "200"}:
            check = _ratio_at_least(f"burst.m{m}.{{t}}.durable_per_s", "yjs", 3)
            burst[i] = Row(row.label, row.key, row.unit, ">= 3x peer", check)
        elif row.label.endswith("CPU / delivery"):
            check = _at_most(f"burst.m{m}.warroom.server_cpu_us_per_delivery", 25)
            burst[i] = Row(row.label, row.key, row.unit, "<= 25 us", check)


def _all(*checks: bool | None) -> bool | None:
    if any(c is False for c in checks):
        return False
    return None if any(c is None for c in checks) else True


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _ratio(ours: float | None, theirs: float | None) -> str:
    if ours is None or theirs is None or theirs == 0:
        return "-"
    return f"{ours / theirs:.2f}x"


def render(settings: Settings, results: Results) -> str:
    """The table as fixed-width text; also records each target's verdict in the results."""
    header = (
        f"{'figure':<38} {'unit':>4} {'warroom':>9} {'floor':>9} {'peer':>9} "
        f"{'wr/floor':>8} {'wr/peer':>8}  {'target':<32} met"
    )
    lines = [header, "-" * len(header)]
    verdicts: dict[str, bool | None] = {}
    for title, section in rows(settings):
        lines.append(f"[{title}]")
        for row in section:
            ours = _value(results, row.key, "warroom")
            shared = "{t}" in row.key
            floor = _value(results, row.key, "floor") if shared else None
            peer = _value(results, row.key, "yjs") if shared else None
            verdict = row.check(results) if row.check is not None else None
            mark = "" if not row.target else {True: "yes", False: "NO", None: "?"}[verdict]
            if row.target:
                verdicts[row.key.format(t="warroom")] = verdict
            lines.append(
                f"{row.label:<38} {row.unit:>4} {_fmt(ours):>9} {_fmt(floor):>9} {_fmt(peer):>9} "
                f"{_ratio(ours, floor):>8} {_ratio(ours, peer):>8}  {row.target:<32} {mark}"
            )
    results.meta["targets_met"] = verdicts
    busy = [
        f"{key.removesuffix('.other_cpu_cores')} {value:.2f}"
        for key, value in results.figures.items()
        if key.endswith(".other_cpu_cores") and value is not None and value > NOISY
    ]
    if busy:
        lines.append(
            f"other processes used more than {NOISY} cores during (cores): " + ", ".join(busy)
        )
    return "\n".join(lines)
