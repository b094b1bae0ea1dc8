"""The generated client's typed results: `.data` read through the declared outputs and typed by
a generated TypedDict (checked by `mypy --strict`, which also refuses a wrong use), the raw
response still there, and upstream errors raised as `UpstreamError`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from capgen_runtime.client import UpstreamError

from tests.conftest import SEED_PROJECT, UPSTREAM_KEY
from tests.support.fake_upstream import Answer, FakeUpstream

pytestmark = pytest.mark.integration

USAGE = """
from typing import Any

from workers_ai_ai_inference.client import WorkersAiAiInferenceClient
from workers_ai_ai_inference.settings import load


async def answer(prompt: str) -> tuple[int, dict[str, Any] | None]:
    async with WorkersAiAiInferenceClient(load()) as client:
        result = await client.executeaimodel(
            account_id="acct", model="@cf/meta/llama-3.1-8b-instruct", body={"prompt": prompt}
        )
        return result.response.status_code, result.data["result"]
"""
WRONG = """
from workers_ai_ai_inference.client import WorkersAiAiInferenceClient


async def wrong(client: WorkersAiAiInferenceClient) -> int:
    result = await client.executeaimodel(account_id="a", model="m", body={})
    count: int = result.data["result"]
    return count + len(result.data["no_such_output"])
"""


def _mypy(source: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    module = tmp_path / "usage.py"
    module.write_text(source)
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(module)]
    env = {"MYPYPATH": str(SEED_PROJECT), "PATH": "/usr/bin:/bin"}
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)


def test_code_using_the_typed_results_passes_mypy_strict(tmp_path: Path) -> None:
    done = _mypy(USAGE, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_refuses_a_wrong_use_of_the_typed_results(tmp_path: Path) -> None:
    done = _mypy(WRONG, tmp_path)
    assert done.returncode == 1, done.stdout
    assert 'TypedDict "ExecuteaimodelResult" has no key "no_such_output"' in done.stdout
    assert 'Incompatible types in assignment (expression has type "dict[str, Any] | None"' in (
        done.stdout
    )


def _client(upstream: FakeUpstream):  # type: ignore[no-untyped-def]
    from workers_ai_ai_inference.client import WorkersAiAiInferenceClient
    from workers_ai_ai_inference.settings import load

    env = {
        "CLOUDFLARE_API_KEY": UPSTREAM_KEY,
        "WORKERS_AI_AI_INFERENCE_BASE_URL": f"{upstream.url}/client/v4",
    }
    return WorkersAiAiInferenceClient(load(env))


def test_data_is_the_declared_output_and_the_response_is_raw(upstream: FakeUpstream) -> None:
    body = {"result": {"response": "hi"}, "success": True, "errors": [], "messages": []}
    upstream.answer(Answer(200, body))

    async def call():  # type: ignore[no-untyped-def]
        async with _client(upstream) as client:
            return await client.executeaimodel(account_id="a", model="@cf/m", body={"prompt": "x"})

    result = anyio.run(call)
    # the seed's consumed output is `result`, mapped from `$.`: the whole body under that name
    assert result.data == {"result": body}
    assert result.response.status_code == 200
    assert result.response.json() == body
    (seen,) = upstream.requests
    assert seen.raw_path == "/client/v4/accounts/a/ai/run/@cf/m"


def test_an_upstream_error_is_raised_with_status_headers_and_body(upstream: FakeUpstream) -> None:
    upstream.answer(
        Answer(
            404,
            b'{"errors":[{"code":7003}]}',
            {"content-type": "application/json", "x-trace": "t-1"},
        )
    )

    async def call() -> UpstreamError:
        async with _client(upstream) as client:
            with pytest.raises(UpstreamError) as caught:
                await client.executeaimodel(account_id="a", model="@cf/m", body={})
            return caught.value

    error = anyio.run(call)
    assert error.status == 404
    assert error.headers["x-trace"] == "t-1"
    assert error.body == b'{"errors":[{"code":7003}]}'
