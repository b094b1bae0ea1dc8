"""RFC 9457 problem details: the body of every error the service itself answers over HTTP
(SEMANTICS DEV-19). An upstream's own error keeps its status, body and content type.

The detail is always a message written by capgen (errors.py, security.py), never text taken
from an exception of a lower layer, so it cannot carry a secret or a stack trace.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from http import HTTPStatus
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

request_id: ContextVar[str] = ContextVar("request_id", default="-")  # of the request answered
MEDIA_TYPE = "application/problem+json"

# The problem object as the OpenAPI document describes it (components/schemas/Problem).
SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string", "description": "always about:blank: the status says it all"},
        "title": {"type": "string", "description": "the status's phrase"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "what went wrong, for a person"},
        "request_id": {"type": "string", "description": "also in the X-Request-ID header"},
        "errors": {
            "type": "array",
            "description": "each offending input (422)",
            "items": {"type": "string"},
        },
    },
    "required": ["type", "title", "status", "detail"],
}


def phrase(status: int) -> str:
    """The status's reason phrase (a problem's `title`)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_body(status: int, detail: str, errors: list[str] | None = None) -> bytes:
    """The JSON of a problem; `request_id` ties it to the service's log line."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": phrase(status),
        "status": status,
        "detail": detail,
        "request_id": request_id.get(),
    }
    if errors:
        body["errors"] = errors
    return json.dumps(body, ensure_ascii=False).encode()


def problem(
    status: int,
    detail: str,
    headers: dict[str, str] | None = None,
    errors: list[str] | None = None,
) -> Response:
    return Response(problem_body(status, detail, errors), status, headers, MEDIA_TYPE)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (an unknown path, a method a route lacks) as problems."""
    status = getattr(exc, "status_code", 500)
    return problem(status, phrase(status), getattr(exc, "headers", None))


async def internal_error(request: Request, exc: Exception) -> Response:
    """What a failure nothing else caught answers: a problem that says nothing of the cause."""
    return problem(500, "the service failed to answer this request")


def install_problem_handlers(app: Starlette) -> None:
    """Every error `app` answers by itself becomes a problem (none costs a request anything)."""
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, internal_error)
