"""Turn the benchmark figures into bench/RESULTS.md: each target met, or by how much it is missed."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _verdict(ok: bool, text: str) -> str:
    return f"met ({text})" if ok else f"**missed** ({text})"


def _ratio(value: float, limit: float) -> str:
    return _verdict(value <= limit, f"{value:.1f}×")


def _seconds(value: float, limit: float) -> str:
    return _verdict(value <= limit, f"{value:.1f} s")


def write_results(figures: dict[str, Any], path: Path) -> None:
    m = figures["machine"]
    lines = [
        "# Benchmark results",
        "",
        "Produced by `nox -s bench` (`python bench/run.py`); every figure below comes from one run",
        f"on this machine{' (quick mode: fewer repetitions)' if figures.get('quick') else ''}.",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} cores; Python {m['python']}; {m['system']}",
        "- " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        "",
    ]
    if "generation" in figures:
        lines += _generation(figures["generation"])
    if "runtime" in figures:
        lines += _runtime(figures["runtime"])
    if "streaming" in figures:
        lines += _streaming(figures["streaming"])
    if "mcp" in figures:
        lines += _mcp(figures["mcp"])
    if "startup" in figures:
        lines += _startup(figures["startup"])
    path.write_text("\n".join(lines) + "\n")


def _generation(g: dict[str, float]) -> list[str]:
    parse = g["parse"]
    ratio = {
        k: g[k] / parse
        for k in ("build_cold", "build_warm", "rebuild_unchanged", "check_unchanged")
    }
    return [
        "## Generation",
        "",
        "`cloudflare-accounts.yaml` (740 operations, 1.1 MiB) against PyYAML's C loader parsing it; each",
        "`capgen` figure is a whole command (a new Python process, imports included).",
        "",
        "| measure | seconds | × parse |",
        "|---|---:|---:|",
        f"| parse with `yaml.CSafeLoader` | {parse:.2f} | 1.0 |",
        f"| `capgen build`, cold (no formatting cache) | {g['build_cold']:.2f} | {ratio['build_cold']:.1f} |",
        f"| `capgen build`, warm cache, new output folder | {g['build_warm']:.2f} | {ratio['build_warm']:.1f} |",
        f"| `capgen build` again, output current, no cache | {g['rebuild_unchanged']:.2f} | {ratio['rebuild_unchanged']:.1f} |",
        f"| `capgen check`, nothing changed, no cache | {g['check_unchanged']:.2f} | {ratio['check_unchanged']:.1f} |",
        f"| black alone, confirming the package's {g['black_lines']:,.0f} lines (CPU seconds, one core) | {g['black_cpu']:.2f} | {g['black_cpu'] / parse:.1f} |",
        "",
        "| whole Cloudflare corpus (72 specs, 3,122 operations) | seconds |",
        "|---|---:|",
        f"| `capgen build`, cold (no formatting cache) | {g['corpus_cold']:.1f} |",
        f"| `capgen build`, warm cache | {g['corpus_warm']:.1f} |",
        f"| `capgen check`, nothing changed, no cache | {g['corpus_check']:.1f} |",
        "",
        "Targets:",
        "",
        f"- largest spec ≤ 4× its parse time: warm build {_ratio(ratio['build_warm'], 4)}; check of current"
        f" output {_ratio(ratio['check_unchanged'], 4)}; rebuild of current output"
        f" {_ratio(ratio['rebuild_unchanged'], 4)}; cold build {_ratio(ratio['build_cold'], 4)}.",
        f"- whole corpus ≤ 15 s: warm {_seconds(g['corpus_warm'], 15)}; check {_seconds(g['corpus_check'], 15)};"
        f" cold {_seconds(g['corpus_cold'], 15)}.",
        "",
    ] + (_COLD_MISS if ratio["build_cold"] > 4 or g["corpus_cold"] > 15 else [])


_COLD_MISS = [
    "Why cold builds miss: black's time grows with every line it reads, even lines already in its",
    "layout, and the 740-operation package is about 47,000 lines of Python (a typed client method,",
    "an operation descriptor, a REST route and an MCP tool per operation). capgen keeps black's",
    "output but pays for it once: formatted text is cached by the hash of black's input (version,",
    "mode, source), the manifest of each package records those hashes so `check` and rebuilds on a",
    "clean clone reuse the committed files without running black, templates emit black's own layout",
    "so black only confirms it, large jobs are spread over the cores, and OpenAPI parameters and MCP",
    "input schemas are built at run time from the input descriptors instead of being emitted twice.",
    'What remains cold is black\'s floor on the code itself: the row "black alone" above is what',
    "black needs just to confirm those files, before capgen reads a byte of the spec.",
    "",
]


def _streaming(s: dict[str, Any]) -> list[str]:
    ratio = s["generated"]["ttfb_ms"] / s["direct"]["ttfb_ms"]
    overhead = s["generated"]["ttfb_ms"] - s["direct"]["ttfb_ms"]
    return [
        "## Streamed answers (server-sent events through the REST adapter)",
        "",
        f"The upstream sends its first event after {s['upstream_first_event_ms']:.0f} ms (a model's",
        "time to its first token), then 21 events 10 ms apart; medians of interleaved calls.",
        "",
        "| path | time to first byte | time to last byte |",
        "|---|---:|---:|",
        *(
            f"| {name} | {s[name]['ttfb_ms']:.1f} ms | {s[name]['total_ms']:.1f} ms |"
            for name in ("direct", "generated")
        ),
        "",
        f"- Time to first byte ≤ 1.2× calling the upstream directly: "
        f"{_ratio(ratio, 1.2)} ({overhead:+.1f} ms added by the adapter)",
        "",
    ]


def _runtime(r: dict[str, Any]) -> list[str]:
    direct, hand, gen = r["direct"], r["handwritten"], r["generated"]
    ratio = gen["rps"] / hand["rps"]
    capacity = hand["cpu_ms"] / gen["cpu_ms"]
    return [
        "## REST runtime overhead",
        "",
        "The seed operation (`POST /v1/accounts/{id}/ai/run/{model}`, JSON body passed through),",
        "closed-loop load with 16 connections on loopback, runs interleaved across the targets, median",
        "run reported. The generated service runs with `--no-auth --log-level warning`; the",
        "hand-written baseline (FastAPI + httpx) and the upstream are served the same way (uvicorn,",
        "TCP_NODELAY sockets, access log off). Load generator, upstream and server share the 2 cores,",
        "so the server's CPU time per request is given too: it is the capacity figure the shared",
        "cores do not blur.",
        "",
        "| target | requests/s | p50 ms | p99 ms | added p50 ms | added p99 ms | server CPU ms/request |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| upstream directly | {direct['rps']:.0f} | {direct['p50_ms']:.2f} | {direct['p99_ms']:.2f} | – | – | – |",
        f"| hand-written passthrough | {hand['rps']:.0f} | {hand['p50_ms']:.2f} | {hand['p99_ms']:.2f} | {hand['p50_ms'] - direct['p50_ms']:.2f} | {hand['p99_ms'] - direct['p99_ms']:.2f} | {hand['cpu_ms']:.2f} |",
        f"| generated REST adapter | {gen['rps']:.0f} | {gen['p50_ms']:.2f} | {gen['p99_ms']:.2f} | {gen['p50_ms'] - direct['p50_ms']:.2f} | {gen['p99_ms'] - direct['p99_ms']:.2f} | {gen['cpu_ms']:.2f} |",
        "",
        f"Target ≥ 1.0× the hand-written passthrough: throughput {_verdict(ratio >= 1.0, format(ratio, '.2f') + '×')};"
        f" CPU per request {_verdict(capacity >= 1.0, format(capacity, '.2f') + '×')}.",
        "Both use httpx with a connection pool; the generated client's pool answers httpcore's",
        'per-request question "did the server close this idle connection?" with one poll() on a',
        "socket it keeps, where httpx's default pool rebuilds anyio's socket attributes (a",
        "getpeername() call included) for every idle connection, twice per request.",
        "",
    ]


def _mcp(r: dict[str, Any]) -> list[str]:
    gen = r["generated"]
    lines = [
        "## MCP tool calls",
        "",
        f"The seed tool over streamable HTTP with the MCP SDK's own client ({r['sessions']} concurrent sessions ×",
        f"{r['calls']} calls, runs interleaved, median run), same upstream; the FastMCP peer serves an",
        "equivalent OpenAPI document through `FastMCP.from_openapi`, on the same uvicorn settings.",
        "",
        "| server | calls/s | p50 ms | server CPU ms/call |",
        "|---|---:|---:|---:|",
        f"| generated MCP server | {gen['calls_per_s']:.0f} | {gen['p50_ms']:.1f} | {gen['cpu_ms']:.2f} |",
    ]
    if "fastmcp" in r:
        peer = r["fastmcp"]
        ratio = gen["calls_per_s"] / peer["calls_per_s"]
        capacity = peer["cpu_ms"] / gen["cpu_ms"]
        lines += [
            f"| FastMCP `from_openapi` | {peer['calls_per_s']:.0f} | {peer['p50_ms']:.1f} | {peer['cpu_ms']:.2f} |",
            "",
            f"Target ≥ 1.5× FastMCP: calls per second {_verdict(ratio >= 1.5, format(ratio, '.2f') + '×')};"
            f" calls per server CPU-second {_verdict(capacity >= 1.5, format(capacity, '.2f') + '×')}.",
            "The SDK client driving the load runs on the same two cores, so throughput understates the",
            "servers' difference; the CPU figures compare the servers alone.",
        ]
    else:
        lines += ["", "FastMCP was not installed, so the peer was not measured."]
    return [*lines, ""]


def _startup(s: dict[str, float]) -> list[str]:
    return [
        "## Start-up",
        "",
        "The generated `cloudflare-accounts` package (740 operations, REST and MCP adapters) from",
        "process start until it has answered a first real request through to the upstream; peak",
        "RSS (VmHWM) at that moment; median of the runs.",
        "",
        "| measure | value | target |",
        "|---|---:|---|",
        f"| time to first answer | {s['first_answer_s']:.2f} s | ≤ 1.5 s: {_seconds(s['first_answer_s'], 1.5)} |",
        f"| peak RSS | {s['peak_rss_mb']:.0f} MB | ≤ 150 MB: {_verdict(s['peak_rss_mb'] <= 150, str(round(s['peak_rss_mb'])) + ' MB')} |",
        f"| time until the MCP adapter answers too | {s['all_ready_s']:.2f} s | – |",
        f"| peak RSS with both adapters loaded | {s['all_ready_rss_mb']:.0f} MB | ≤ 150 MB: {_verdict(s['all_ready_rss_mb'] <= 150, str(round(s['all_ready_rss_mb'])) + ' MB')} |",
        "",
        "The REST adapter starts answering while the MCP SDK, the heaviest import, loads in a",
        "thread; operations are routed by one segment-matching route instead of 740 FastAPI routes.",
        "",
    ]
