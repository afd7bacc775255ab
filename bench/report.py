"""The results table: every figure beside the floor and the peer, their ratios, and the targets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

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


def _capped(label: str, key: str, unit: str, target: str, limit: float) -> Row:
    """A row whose target is warroom's figure at most `limit`."""
    return Row(label, key, unit, target, _at_most(key.format(t="warroom"), limit))


def _compared(
    key: str, other: str, holds: Callable[[float, float], bool]
) -> Callable[[Results], bool | None]:
    """A check that warroom's figure `holds` against the `other` target's (unknown if either is
    missing)."""

    def check(results: Results) -> bool | None:
        ours, theirs = results.get(key.format(t="warroom")), results.get(key.format(t=other))
        return None if ours is None or theirs is None else holds(ours, theirs)

    return check


def _fan_out(m: int, key: str, stats: tuple[str, ...]) -> list[Row]:
    """The fan-out latencies of `m` clients, one row a statistic (p50, p99, max)."""
    return [Row(f"M={m} fan-out {stat}", f"{key}.{stat}_ms", "ms") for stat in stats]


def _catchup(label: str, case: str, target: str, limit: float) -> list[Row]:
    """One catch-up case: its total against the target, then what the total is made of."""
    key = f"catchup.{case}.{{t}}"
    return [
        _capped(label, f"{key}.total_ms", "ms", target, limit),
        Row("  least of the repeats", f"{key}.total_min_ms", "ms"),
        Row("  of which connect", f"{key}.connect_ms", "ms"),
        Row("  of which sync (wr: applied)", f"{key}.applied_ms", "ms"),
        Row("  wr sync, wire only (JSON)", f"{key}.wire_ms", "ms"),
        Row("  wr client CPU (min of 7)", f"{key}.client_cpu_ms", "ms"),
    ]


def _jump_on_the_app(stage: str, p99_limit: float | None) -> list[Row]:
    """A jump on the replay app until `stage`: wall time and CPU time, p50 and p99."""
    key = f"replay.{stage}"
    p99 = f"jump on the app to {stage}, p99"
    return [
        Row(f"jump on the app to {stage}, p50", f"{key}_p50_ms", "ms"),
        Row(p99, f"{key}_p99_ms", "ms")
        if p99_limit is None
        else _capped(p99, f"{key}_p99_ms", "ms", "< 100 ms", p99_limit),
        Row("  CPU time of it, p50", f"{key}_cpu_p50_ms", "ms"),
        Row("  CPU time of it, p99", f"{key}_cpu_p99_ms", "ms"),
    ]


def rows(settings: Settings) -> list[tuple[str, list[Row]]]:
    """The table's sections, in order."""
    paced: list[Row] = []
    burst: list[Row] = []
    for m in settings.clients:
        p = f"paced.m{m}.{{t}}"
        paced += _fan_out(m, p, ("p50", "p99", "max"))
        b = f"burst.m{m}.{{t}}"
        burst += [
            *_fan_out(m, b, ("p50", "p99")),
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
        *_catchup("resume after 100 missed", "resume100", "<= 5 ms", 5),
        *_catchup("fresh full sync, 2,000 entries", "full2000", "<= 4 ms", 4),
        *_catchup("10,000 events behind", "behind10000", "<= 25 ms", 25),
    ]
    memory = [
        _capped(f"server RSS per idle client ({settings.idle_clients})",
                "memory.{t}.kb_per_client", "KB", "< 100 KB", 99.999),
        Row(f"time for {settings.idle_clients} clients to join", "memory.{t}.join_s", "s"),
    ]  # fmt: skip
    tui = [
        _capped(f"first paint, {size:,} entries", f"tui.first_paint.{size}.paint_ms", "ms",
                "< 1 s", 999.999)
        if size == 100_000
        else Row(f"first paint, {size:,} entries", f"tui.first_paint.{size}.paint_ms", "ms")
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
        _capped("keypress during burst, max", "tui.burst.keypress_max_ms", "ms", "<= 50 ms", 50),
    ]  # fmt: skip
    history = [
        Row("start-up to /healthz, empty db", "history.empty.start_s", "s"),
        _capped("start-up to /healthz, large db", "history.large.start_s", "s", "< 1 s", 0.999),
        Row("  large over empty", "history.large.start_over_empty_s", "s"),
        Row("RSS after start, empty db", "history.empty.rss_mb", "MB"),
        Row("RSS after start, large db", "history.large.rss_mb", "MB"),
        _capped("  large over empty", "history.large.rss_over_empty_mb", "MB", "<= 50 MB", 50),
        _capped("open a closed 2,000-entry incident", "history.large.open_closed_ms", "ms",
                "< 50 ms", 49.999),
        Row("  again, while it is loaded", "history.large.open_loaded_ms", "ms"),
        Row("events of closed history", "history.large.events", ""),
        Row("  database size", "history.large.db_mb", "MB"),
        Row("  time to build it", "history.large.build_s", "s"),
    ]  # fmt: skip
    replay = [
        Row("jump anywhere, p50", "replay.jump_p50_ms", "ms"),
        _capped("jump anywhere, p99", "replay.jump_p99_ms", "ms", "< 100 ms", 99.999),
        _capped("jump, worst (longest fold)", "replay.jump_worst_ms", "ms", "< 100 ms", 99.999),
        Row("step back one event, p50", "replay.step_back_p50_ms", "ms"),
        Row("step back one event, max", "replay.step_back_max_ms", "ms"),
        *_jump_on_the_app("painted", p99_limit=99.999),
        *_jump_on_the_app("settled", p99_limit=None),
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
                _compared("paced.m50.{t}.p99_ms", "floor", lambda ours, f: ours <= 1.5 * f)(r),
                _compared("paced.m50.{t}.p99_ms", "yjs", lambda ours, peer: ours < peer)(r),
            ),
        ),
        "M=200 fan-out p99": ("<= 20 ms", _at_most("paced.m200.warroom.p99_ms", 20)),
    }
    for i, row in enumerate(paced):
        if row.label in targets:
            text, check = targets[row.label]
            paced[i] = replace(row, target=text, check=check)


def _attach_burst_targets(burst: list[Row]) -> None:
    for i, row in enumerate(burst):
        m = row.label.split()[0][2:]
        if row.label.endswith("durable writes/s") and m in {"10", "50", "200"}:
            key = f"burst.m{m}.{{t}}.durable_per_s"
            check = _compared(key, "yjs", lambda ours, peer: ours >= 3 * peer)
            burst[i] = replace(row, target=">= 3x peer", check=check)
        elif row.label.endswith("CPU / delivery"):
            burst[i] = _capped(row.label, row.key, row.unit, "<= 25 us", 25)


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


def _line(
    label: str,
    unit: str,
    ours: str,
    floor: str,
    peer: str,
    by_floor: str,
    by_peer: str,
    target: str,
) -> str:
    """One line of the table up to its last column (met), header and rows alike."""
    return (
        f"{label:<38} {unit:>4} {ours:>9} {floor:>9} {peer:>9} "
        f"{by_floor:>8} {by_peer:>8}  {target:<32} "
    )


def render(settings: Settings, results: Results) -> str:
    """The table as fixed-width text; also records each target's verdict in the results."""
    header = _line("figure", "unit", "warroom", "floor", "peer", "wr/floor", "wr/peer", "target")
    header += "met"
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
            line = _line(row.label, row.unit, _fmt(ours), _fmt(floor), _fmt(peer),
                         _ratio(ours, floor), _ratio(ours, peer), row.target)  # fmt: skip
            lines.append(line + mark)
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
