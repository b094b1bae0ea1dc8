"""The seed's Swagger UI in a real headless Chromium (Debian's package), driven by Playwright.

The page loads without credentials and with no network beyond loopback (its scripts come from
the service), "Authorize" takes the inbound bearer token, and "Try it out" → "Execute" calls
the seed operation through the service against its embedded mock upstream: the page shows
200 and the mock's answer. The screenshot is kept in .cache/artifacts/.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from generator import pipeline
from tests.conftest import ROOT, SEED_SPEC
from tests.support.service import RunningService

pytestmark = pytest.mark.integration
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / ".cache" / "artifacts"
TOKEN = "docs-browser-token-5c1d"
# As the machine's own probe starts it: no sandbox as root, nothing reaching outside.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def docs_service(tmp_path_factory: pytest.TempPathFactory) -> RunningService:
    out = tmp_path_factory.mktemp("docs") / "out"
    result, written = pipeline.build(SEED_SPEC, out, pipeline.Options(module="docs_seed"))
    assert written is not None, [d.render() for d in result.diagnostics]
    assert result.package is not None
    env = {f"{result.package.env_prefix}_API_TOKEN": TOKEN}
    service = RunningService(out / "docs_seed", "docs_seed", env, ["--mock"])
    service.wait_ready()
    yield service  # type: ignore[misc]
    service.stop()


def test_the_docs_are_open_without_credentials_and_can_be_turned_off(
    docs_service: RunningService, tmp_path: Path
) -> None:
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/assets/swagger-ui-bundle.js"):
        assert httpx.get(docs_service.rest_url + path).status_code == 200, path
    page = httpx.get(docs_service.rest_url + "/docs").text
    assert "cdn." not in page and "/docs/assets/swagger-ui-bundle.js" in page
    operation = httpx.post(docs_service.rest_url + "/v1/accounts/a/ai/run/m", json={})
    assert operation.status_code == 401  # the operations are not
    result, written = pipeline.build(SEED_SPEC, tmp_path, pipeline.Options(module="no_docs"))
    assert written is not None and result.package is not None
    prefix = result.package.env_prefix
    env = {f"{prefix}_API_TOKEN": TOKEN, f"{prefix}_DOCS": "false"}
    service = RunningService(tmp_path / "no_docs", "no_docs", env, ["--mock"])
    try:
        service.wait_ready()
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert httpx.get(service.rest_url + path).status_code == 401, path
            authorized = {"Authorization": f"Bearer {TOKEN}"}
            assert httpx.get(service.rest_url + path, headers=authorized).status_code == 404
    finally:
        service.stop()


def test_swagger_ui_authorizes_and_tries_the_seed_operation(docs_service: RunningService) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: run tests/tools/install")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1800})
            page.goto(docs_service.rest_url + "/docs")
            page.wait_for_selector(".swagger-ui .info .title")
            assert "Workers AI" in page.inner_text(".swagger-ui .info .title")

            page.click("button.btn.authorize")
            page.fill(
                ".auth-container input[type=text], .auth-container input[type=password]", TOKEN
            )
            page.click(".auth-btn-wrapper button.authorize")
            page.click(".auth-btn-wrapper button.btn-done")

            page.click(".opblock-post .opblock-summary")
            model_row = page.inner_text("tr[data-param-name='model']")
            responses = page.inner_text(".opblock-post .responses-wrapper")
            page.click("button.try-out__btn")
            page.fill("tr[data-param-name='account_id'] input", "acct-1")
            page.fill("tr[data-param-name='model'] input", "@cf/meta/llama-3.1-8b-instruct")
            page.fill("textarea.body-param__text", '{"prompt": "Hello from Chromium"}')
            page.click("button.execute")

            page.wait_for_selector(".live-responses-table .response .response-col_status")
            status = page.inner_text(".live-responses-table .response .response-col_status")
            shown = page.inner_text(".live-responses-table .response")
            page.screenshot(path=str(ARTIFACTS / "swagger-try-it-out.png"), full_page=True)
        finally:
            browser.close()
    assert status.strip().startswith("200"), shown[:500]
    assert "mock answer" in shown and "Hello from Chromium" in shown, shown[:1500]
    # the spec's description of `model` and the path rule in words, not the rule's regex
    assert "The model identifier to execute" in model_row and "May hold /" in model_row
    assert "x00" not in model_row and "(?:" not in model_row, model_row
    assert "text/event-stream" in responses and "image/*" in responses, responses[:1500]
