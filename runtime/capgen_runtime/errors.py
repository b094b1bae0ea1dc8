"""Failures the adapters turn into HTTP statuses and MCP errors.

Messages are written here, never copied from lower layers, so they cannot carry secrets,
upstream URLs with keys in their query, or stack traces.
"""

from __future__ import annotations


class CapabilityError(Exception):
    """Base class: `status` is the REST status; `invalid_params` marks MCP -32602 errors."""

    status = 500
    invalid_params = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(CapabilityError):
    """The caller's input cannot make a valid upstream request."""

    status = 400
    invalid_params = True


class InvalidInput(InvalidRequest):
    """Inputs that break the contract: missing, or not of their declared schema (REST 422).
    `errors` names each offending input."""

    status = 422

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class NoHandler(CapabilityError):
    """Nothing in the spec answers this request (SEMANTICS §7.2)."""

    status = 404

    def __init__(self) -> None:
        super().__init__("Unable to handle the request. Please check the capability specification.")


class UnsupportedMediaType(InvalidRequest):
    status = 415


class UpstreamUnavailable(CapabilityError):
    """The upstream could not be reached, dropped the connection, or answered unusably."""

    status = 502


class UpstreamTimeout(CapabilityError):
    status = 504


class UpstreamThrottled(CapabilityError):
    """The upstream kept answering 429/503 after the allowed retries."""

    status = 503


class NotSupported(CapabilityError):
    status = 501


class MappingFailed(CapabilityError):
    """The output parameters cannot be applied (SEMANTICS §7.4: a 500)."""

    status = 500
