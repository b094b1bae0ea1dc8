"""The generated seed service over REST, against a recording fake upstream."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import INBOUND_TOKEN, UPSTREAM_KEY
from tests.support.fake_upstream import DROP, Answer, FakeUpstream
from tests.support.problems import problem_detail
from tests.support.service import RunningService, raw_request

pytestmark = pytest.mark.integration

MODEL = "@cf/meta/llama-3.1-8b-instruct"
AUTH = {"Authorization": f"Bearer {INBOUND_TOKEN}"}
BODY = {"messages": [{"role": "user", "content": "Hello"}]}


def post(service: RunningService, path: str, **kwargs: object) -> httpx.Response:
    headers = {**AUTH, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    return httpx.post(service.rest_url + path, headers=headers, timeout=10, **kwargs)  # type: ignore[arg-type]


def test_model_with_slashes_reaches_upstream_unencoded(
    seed_service: RunningService, upstream: FakeUpstream
) -> None:
    response = post(seed_service, f"/v1/accounts/abc123/ai/run/{MODEL}", json=BODY)
    assert response.status_code == 200
    assert response.json() == {
        "result": {"response": "Hello from the fake Workers AI."},
        "success": True,
        "errors": [],
        "messages": [],
    }
    (seen,) = upstream.requests
    assert seen.method == "POST"
    assert seen.raw_path == f"/client/v4/accounts/abc123/ai/run/{MODEL}"
    assert seen.headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert seen.headers["content-type"] == "application/json"
    assert seen.json() == BODY


def test_percent_encoded_model_is_decoded_then_sent_with_slashes(
    seed_service: RunningService, upstream: FakeUpstream
) -> None:
    response = post(
        seed_service, "/v1/accounts/abc123/ai/run/@cf%2Fmeta%2Fllama-3.1-8b-instruct", json=BODY
    )
    assert response.status_code == 200
    assert upstream.requests[0].raw_path == f"/client/v4/accounts/abc123/ai/run/{MODEL}"


def test_upstream_400_keeps_status_and_body(
    seed_service: RunningService, upstream: FakeUpstream
) -> None:
    error = {
        "result": None,
        "success": False,
        "errors": [{"code": 5007, "message": "No such model"}],
        "messages": [],
    }
    upstream.answer(Answer(400, error))
    response = post(seed_service, "/v1/accounts/abc123/ai/run/@cf/nope", json=BODY)
    assert response.status_code == 400
    assert response.json() == error


def test_upstream_500_is_a_bad_gateway_with_the_upstream_body(
    seed_service: RunningService, upstream: FakeUpstream
) -> None:
    error = {
        "success": False,
        "errors": [{"code": 3043, "message": "AiError: Unknown internal error"}],
    }
    upstream.answer(Answer(500, error))
    response = post(seed_service, f"/v1/accounts/abc123/ai/run/{MODEL}", json=BODY)
    assert response.status_code == 502
    assert response.headers["x-upstream-status"] == "500"
    assert response.json() == error
    assert len(upstream.requests) == 1  # POST is not idempotent: never retried


def test_upstream_dropping_the_connection_gives_502(
    seed_service: RunningService, upstream: FakeUpstream
) -> None:
    upstream.answer(Answer(action=DROP, repeat=5))
    response = post(seed_service, f"/v1/accounts/abc123/ai/run/{MODEL}", json=BODY)
    assert response.status_code == 502
    assert UPSTREAM_KEY not in response.text


def test_upstream_too_slow_gives_504(seed_service: RunningService, upstream: FakeUpstream) -> None:
    upstream.answer(Answer(200, {"result": {}}, delay=3.5))
    response = post(seed_service, f"/v1/accounts/abc123/ai/run/{MODEL}", json=BODY)
    assert response.status_code == 504
    assert "did not answer in time" in response.text


@pytest.mark.parametrize(
    "model", ["@cf/../../zones", "@cf/%2e%2e/zones", "..", "@cf/./x", "a%2F..%2Fb"]
)
def test_dot_segments_in_model_are_rejected_before_any_upstream_call(
    seed_service: RunningService, upstream: FakeUpstream, model: str
) -> None:
    status, text = raw_request(
        seed_service.rest_port, "POST", f"/v1/accounts/abc/ai/run/{model}", b"{}"
    )
    assert status == 400
    assert "model" in text
    assert upstream.requests == []


def test_missing_account_id_is_a_404_route_miss(
    seed_service: RunningService, upstream: FakeUpstream
) -> None:
    response = post(seed_service, f"/v1/accounts//ai/run/{MODEL}", json=BODY)
    assert response.status_code in (400, 404)
    assert upstream.requests == []


def test_wrong_method_is_a_405_naming_the_allowed_one(
    seed_service: RunningService, upstream: FakeUpstream
) -> None:
    response = httpx.get(seed_service.rest_url + f"/v1/accounts/abc/ai/run/{MODEL}", headers=AUTH)
    assert problem_detail(response, 405) == "GET is not allowed here; use POST"
    assert response.headers["allow"] == "POST"
    unknown = httpx.get(seed_service.rest_url + "/v1/nothing/here", headers=AUTH)
    assert problem_detail(unknown, 404) == (
        "Unable to handle the request. Please check the capability specification."
    )
    assert upstream.requests == []


def test_requests_without_the_inbound_token_are_refused(
    seed_service: RunningService, upstream: FakeUpstream
) -> None:
    response = httpx.post(seed_service.rest_url + f"/v1/accounts/abc/ai/run/{MODEL}", json=BODY)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert upstream.requests == []


def test_openapi_describes_the_route(seed_service: RunningService) -> None:
    document = httpx.get(seed_service.rest_url + "/openapi.json", headers=AUTH).json()
    operation = document["paths"]["/v1/accounts/{account_id}/ai/run/{model}"]["post"]
    assert [p["name"] for p in operation["parameters"]] == ["account_id", "model"]
    assert operation["requestBody"]["required"] is True
