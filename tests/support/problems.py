"""Reading RFC 9457 problem responses as the RFC defines them (not as capgen writes them)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any


def problem_detail(response: Any, status: int) -> str:
    """The `detail` of a problem response with `status`, after checking the RFC's members:
    the media type, `type`, `title` (the status phrase for about:blank) and `status`."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"] == "application/problem+json", response.headers
    body = response.json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["title"] == HTTPStatus(status).phrase
    assert isinstance(body["detail"], str) and body["detail"]
    if "x-request-id" in response.headers:
        assert body["request_id"] == response.headers["x-request-id"]
    return str(body["detail"])
