"""capgen's benchmarks: generation speed, runtime overhead, MCP call rate, start-up.

`python bench/run.py [--only generation|runtime|mcp|startup] [--quick]` (or `nox -s bench`).
Everything runs on loopback, with warm-ups, bounded request counts and medians of several
runs; the figures go to bench/RESULTS.md as ratios measured in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `bench`, run as a script

from bench.building import generation
from bench.harness import LARGEST, ROOT
from bench.serving_runs import mcp_rate, runtime, services, streaming
from bench.startup import startup


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in (
        "black",
        "pyyaml",
        "jinja2",
        "pydantic",
        "fastapi",
        "uvicorn",
        "httpx",
        "mcp",
        "fastmcp",
    ):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": platform.platform(),
        "versions": versions,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only",
        choices=["generation", "runtime", "streaming", "mcp", "startup"],
        action="append",
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer runs (a smoke test of the benchmarks)"
    )
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args()
    parts = set(args.only or ["generation", "runtime", "streaming", "mcp", "startup"])
    if not LARGEST.exists():
        print(
            f"the shared corpus is needed (set CAPGEN_CORPUS): {LARGEST} not found", file=sys.stderr
        )
        return 2
    figures: dict[str, Any] = {"machine": machine(), "quick": args.quick}
    with tempfile.TemporaryDirectory(prefix="capgen-bench-") as temp:
        work = Path(temp)
        if "generation" in parts:
            figures["generation"] = generation(work, args.quick)
        if parts & {"runtime", "streaming", "mcp"}:
            for served in services(work):
                if "runtime" in parts:
                    figures["runtime"] = runtime(served, args.quick)
                if "streaming" in parts:
                    figures["streaming"] = streaming(served, args.quick)
                if "mcp" in parts:
                    figures["mcp"] = mcp_rate(served, args.quick)
        if "startup" in parts:
            figures["startup"] = startup(work, args.quick)
    from bench.report import write_results

    print(json.dumps(figures, indent=2))
    write_results(figures, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
