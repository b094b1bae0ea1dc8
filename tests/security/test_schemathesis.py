"""schemathesis, a tool nobody here wrote, against 17 generated REST services (the seed, and
corpus specs of eleven providers).

Each package is built, served by uvicorn on loopback with its embedded mock upstream (so no
upstream fault can be blamed) and its inbound bearer token, and driven by `schemathesis run
--checks all` from its own OpenAPI document: every check passes, among them that no request
gets a 5xx, that answers match their documented status, media type and schema, that invalid
data is refused and valid data accepted, and that the documented authentication is enforced.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from generator import pipeline
from tests.conftest import ROOT, SEED_SPEC
from tests.support.service import RunningService

pytestmark = pytest.mark.integration
SAMPLE = ROOT / "tests" / "data" / "corpus"
SPECS = [
    SEED_SPEC,
    ROOT / "tests" / "snapshots" / "cases" / "odd-names" / "spec.yaml",
    ROOT / "tests" / "snapshots" / "cases" / "query-apikey" / "spec.yaml",
    *sorted((ROOT / "tests" / "data" / "specs").glob("*.yaml")),
    SAMPLE / "cloudflare" / "kv-metadata.yaml",
    *(
        sorted((SAMPLE / "others" / provider).glob("*.yaml"))[0]
        for provider in (
            "github",
            "hubspot",
            "slack",
            "spotify",
            "twilio",
            "snowflake",
            "fhir",
            "terraform",
            "mastercard",
            "dynatrace",
        )
    ),
]
TOKEN = "schemathesis-token"


def _schemathesis() -> str:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("schemathesis is not installed: pip install -e './runtime' -e '.[test]'")
    return found


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_every_schemathesis_check_passes(spec: Path, tmp_path: Path) -> None:
    module = f"st_{spec.stem.replace('-', '_')}"
    result, written = pipeline.build(spec, tmp_path / "out", pipeline.Options(module=module))
    assert written is not None, [d.render() for d in result.diagnostics]
    assert result.package is not None and result.package.rest, "the spec must expose REST"
    env = {f"{result.package.env_prefix}_API_TOKEN": TOKEN, "PYTHONHASHSEED": "0"}
    service = RunningService(tmp_path / "out" / module, module, env, ["--mock"])
    try:
        service.wait_ready()
        document = httpx.get(f"{service.rest_url}/openapi.json", timeout=10)
        assert document.status_code == 200, document.text
        schema = tmp_path / "openapi.json"
        schema.write_bytes(document.content)
        command = [
            _schemathesis(), "run", str(schema), "--url", service.rest_url,
            "--checks", "all", "--max-examples", "12", "-H", f"Authorization: Bearer {TOKEN}",
            "--generation-deterministic", "--workers", "1", "--no-color",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
        assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    finally:
        service.stop()
