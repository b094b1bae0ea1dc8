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
    return (
        [
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
            *_clean_clone(g, parse),
            f"| black alone, confirming the package's {g['black_lines']:,.0f} lines (CPU seconds, one core) | {g['black_cpu']:.2f} | {g['black_cpu'] / parse:.1f} |",
            "",
            "| whole Cloudflare corpus (72 specs, 3,122 operations) | seconds |",
            "|---|---:|",
            f"| `capgen build`, cold (no formatting cache) | {g['corpus_cold']:.1f} |",
            f"| `capgen build`, warm cache | {g['corpus_warm']:.1f} |",
            f"| `capgen check`, nothing changed, no cache | {g['corpus_check']:.1f} |",
            "",
            *_peers(g),
            "Targets:",
            "",
            f"- cold build ≤ 4× the parse: {_ratio(ratio['build_cold'], 4)}.",
            f"- warm build and `check` ≤ 2.5× the parse: warm build {_ratio(ratio['build_warm'], 2.5)}; check of current"
            f" output {_ratio(ratio['check_unchanged'], 2.5)}; rebuild of current output"
            f" {_ratio(ratio['rebuild_unchanged'], 2.5)}"
            + (
                f"; check of a clean clone {_ratio(g['check_clean_clone'] / parse, 2.5)}."
                if "check_clean_clone" in g
                else "."
            ),
            *_beats(g),
            f"- whole corpus ≤ 15 s: warm {_seconds(g['corpus_warm'], 15)}; check {_seconds(g['corpus_check'], 15)};"
            f" cold {_seconds(g['corpus_cold'], 15)}.",
            "",
        ]
        + _INCREMENTAL
        + (_COLD_MISS if ratio["build_cold"] > 4 or g["corpus_cold"] > 15 else [])
    )


def _clean_clone(g: dict[str, Any], parse: float) -> list[str]:
    if "check_clean_clone" not in g:
        return []
    seconds = g["check_clean_clone"]
    return [
        f"| `capgen check` of a clean clone (no `.capgen-stamp.json`, no cache) | {seconds:.2f}"
        f" | {seconds / parse:.1f} |"
    ]


_INCREMENTAL = [
    "An unchanged `build` or `check` answers from the stamp capgen writes beside each package (the",
    "key of its inputs: spec and imported bytes, options, capgen itself; see CONTRIBUTING.md,",
    '"Incremental builds"), as make does; a clean clone has no stamp and runs the whole pipeline',
    "(the row above), which is what a downstream CI's `capgen check` pays.",
    "",
]


_COLD_MISS = [
    "Why a cold build misses: the bytes are black's layout, written by ruff's formatter (byte-identical",
    "to black 26.10.1 on every file of the shared corpus, which the test suite proves by running black",
    "itself; `--formatter black` still runs black). What remains is the new Python process importing",
    "capgen and Jinja, reading the spec a second time with line positions for diagnostics, building",
    "the IR and rendering over 50,000 lines for a 740-operation spec.",
    "",
]


def _peers(g: dict[str, Any]) -> list[str]:
    found = g.get("peers") or {}
    lines = [
        "The generator peers, on the same work: the spec's consumed API converted to an equivalent",
        "OpenAPI 3.0 document (`bench/to_openapi.py`, 740 operations), generated into a new folder",
        "(a whole command each, as for capgen):",
        "",
        "| generator | seconds | × parse | × capgen cold |",
        "|---|---:|---:|---:|",
        f"| capgen (client, REST adapter, MCP server, black's layout via ruff's formatter) | {g['build_cold']:.2f} | {g['build_cold'] / g['parse']:.1f} | 1.0 |",
    ]
    for name, seconds in found.items():
        what = (
            "Python client, formatted with ruff"
            if name == "openapi-python-client"
            else "TypeScript MCP server, unformatted, not compiled"
        )
        lines.append(
            f"| {name} ({what}) | {seconds:.2f} | {seconds / g['parse']:.1f} | {seconds / g['build_cold']:.2f} |"
        )
    if not found:
        lines.append("| (no peer installed) | – | – | – |")
    sizes = g.get("tools_list_bytes") or {}
    if sizes:
        lines += [
            "",
            "What the 740-operation package's `tools/list` costs an agent, in bytes of JSON:",
            "",
            "| listing | bytes |",
            "|---|---:|",
        ]
        lines += [f"| {mode} | {size:,} |" for mode, size in sizes.items()]
        discovery = sizes.get("discovery mode")
        if discovery is not None:
            lines += [
                "",
                f"- discovery mode under 5 KB whatever the spec's size: {_verdict(discovery < 5000, format(discovery, ',') + ' bytes')}.",
            ]
    return [*lines, ""]


def _beats(g: dict[str, Any]) -> list[str]:
    found = g.get("peers") or {}
    return [
        f"- capgen's cold build beats {name}: {_verdict(g['build_cold'] < seconds, format(g['build_cold'] / seconds, '.2f') + '× its time')}."
        for name, seconds in found.items()
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


_FLOOR_LABELS = {
    "floor aiohttp": "raw ASGI app + aiohttp client (the floor)",
    "floor httpx-aiohttp": "raw ASGI app + httpx over `httpx-aiohttp`",
    "floor httpx2": "raw ASGI app + httpx2",
    "floor httpx": "raw ASGI app + httpx 0.28",
}


def _runtime(r: dict[str, Any]) -> list[str]:
    direct, hand, gen = r["direct"], r["handwritten"], r["generated"]
    lines = [
        "## REST proxy path",
        "",
        "The seed operation (`POST /v1/accounts/{id}/ai/run/{model}`, JSON body passed through) against",
        "a local upstream, closed-loop load over 16 keep-alive connections, runs interleaved, median",
        "run reported. Every server runs the same stack: uvicorn with uvloop and httptools, TCP_NODELAY",
        "sockets, uvicorn's access log off; the generated service at its default settings (bearer",
        "auth, the info-level request log, metrics, the contract check). Load generator, upstream",
        "and servers share the 2 cores, so the server's CPU time per request is the capacity figure.",
        "",
        "| server | requests/s | p50 ms | p99 ms | server CPU ms/request | CPU × floor |",
        "|---|---:|---:|---:|---:|---:|",
        f"| upstream directly | {direct['rps']:.0f} | {direct['p50_ms']:.2f} | {direct['p99_ms']:.2f} | – | – |",
    ]
    floor = r.get("floor aiohttp")
    for name, label in (
        *_FLOOR_LABELS.items(),
        ("handwritten", "hand-written FastAPI + httpx 0.28"),
        ("generated", "**generated REST adapter**"),
    ):
        if name not in r:
            continue
        row = r[name]
        versus = f"{row['cpu_ms'] / floor['cpu_ms']:.2f}" if floor else "–"
        lines.append(
            f"| {label} | {row['rps']:.0f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | {row['cpu_ms']:.2f} | {versus} |"
        )
    throughput = gen["rps"] / hand["rps"]
    capacity = hand["cpu_ms"] / gen["cpu_ms"]
    lines += [""]
    if floor:
        cpu_floor = gen["cpu_ms"] / floor["cpu_ms"]
        lines.append(
            f"- Server CPU per request ≤ 2.0× the raw-ASGI + aiohttp floor: {_ratio(cpu_floor, 2.0)}."
        )
    lines += [
        f"- Throughput ≥ 3× the hand-written FastAPI + httpx passthrough: {_verdict(throughput >= 3, format(throughput, '.2f') + '×')}"
        f" (per server CPU-second: {capacity:.2f}×).",
        "",
        "The generated client is httpx's (requests, responses, auth flows, errors) over aiohttp's",
        "connection pool (`upstream/transport.py`); a request httpx would send unchanged skips httpx's",
        "request objects (`upstream/direct.py`), which is where most of the hand-written passthrough's",
        "time goes (compare the floor rows).",
        "What the generated service does beyond the floor, per request: FastAPI's request object, the",
        "inbound credential check, the JSON Schema contract check of the body, building the upstream",
        "request from the spec (templates, binds, path safety), redaction of bound secrets from the",
        "answer, the request log line and metrics. Where the CPU ratio misses, that work is the gap.",
        "",
    ]
    return lines


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
            f"Target ≥ 5× FastMCP in calls per server CPU-second: {_verdict(capacity >= 5, format(capacity, '.2f') + '×')}"
            f" (calls per second: {ratio:.2f}×).",
            "The SDK client driving the load runs on the same two cores, so throughput understates the",
            "servers' difference; the CPU figures compare the servers alone.",
            *(
                []
                if capacity >= 5
                else [
                    "Where 5× is missed: a plain call already skips the SDK's per-request runner (its",
                    "result still passes the SDK's own serializer and per-revision sieve); what remains is",
                    "the app's middleware (request log, metrics, host and credential checks), capgen's own",
                    "tool work (argument check, request building, the result with structuredContent),",
                    "each session's handshake through the SDK, and the upstream call itself, whose",
                    "system calls on loopback take a large share of the server's CPU at this load.",
                ]
            ),
        ]
    else:
        lines += ["", "FastMCP was not installed, so the peer was not measured."]
    return [*lines, ""]


def _startup(s: dict[str, Any]) -> list[str]:
    shared = s.get("bench_env", s)
    where = (
        "in an environment holding the runtime's requirements and nothing else (as the "
        "package's Dockerfile installs them; the runtime on the path, byte-compiled)"
        if s.get("deployed")
        else "in the bench's own environment (an environment of the runtime's requirements "
        "alone could not be made)"
    )
    return [
        "## Start-up",
        "",
        "The generated `cloudflare-accounts` package (740 operations, REST and MCP adapters) from",
        "process start until it has answered a first real request through to the upstream; peak",
        "RSS (VmHWM) at that moment; median of the runs. The package and the runtime are",
        f"byte-compiled first, as `pip install` leaves them; run {where}.",
        "",
        "| measure | value | target |",
        "|---|---:|---|",
        f"| time to first answer | {s['first_answer_s']:.2f} s | ≤ 1.0 s: {_seconds(s['first_answer_s'], 1.0)} |",
        f"| peak RSS | {s['peak_rss_mb']:.0f} MB | ≤ 100 MB: {_verdict(s['peak_rss_mb'] <= 100, str(round(s['peak_rss_mb'])) + ' MB')} |",
        f"| time until the MCP adapter answers too | {s['all_ready_s']:.2f} s | – |",
        f"| peak RSS with both adapters loaded | {s['all_ready_rss_mb']:.0f} MB | – |",
        f"| time to first answer in the bench's environment (with the peers' packages) | {shared['first_answer_s']:.2f} s | – |",
        f"| peak RSS there | {shared['peak_rss_mb']:.0f} MB | – |",
        *(
            [
                f"| server CPU per `tools/list` of the 740 tools (after the first) | {s['tools_list_cpu_ms']:.2f} ms | ≤ 1 ms: {_verdict(s['tools_list_cpu_ms'] <= 1.0, format(s['tools_list_cpu_ms'], '.2f') + ' ms')} |"
            ]
            if "tools_list_cpu_ms" in s
            else []
        ),
        "",
        "The bench's own environment also holds the peers (FastMCP, openapi-python-client) and",
        "what they require; FastAPI, httpx and uvicorn import some of it whenever it is",
        "installed (email-validator, rich and pygments, watchfiles), which a deployed package",
        "does not pay. The REST adapter answers first; the MCP adapter, whose SDK is the heaviest",
        "import, is built once the first answer is out (or a request for it arrives), with the",
        "collector held until both are built; each operation is a FastAPI route, found through a",
        "dispatch index by its path segments.",
        *(
            []
            if s["first_answer_s"] <= 1.0 and s["peak_rss_mb"] <= 100
            else [
                "Where a target is missed, the imports are the cost: FastAPI 0.165 imports",
                "OpenTelemetry for its native telemetry, and the aiohttp wire (with uvloop and",
                "httptools, now the default server stack) adds its C extensions and their",
                "memory; the 740 operations' descriptors themselves load in a fraction of it.",
            ]
        ),
        "",
    ]
