"""A consumed operation's answer (`Result`): its decoded data, typed by the generated package,
and the HTTP response itself."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import httpx

from .. import formats
from ..expr import mapping
from ..model import Operation

T = TypeVar("T")
_UNREAD = object()


class UpstreamError(Exception):
    """The upstream answered an error status (4xx or 5xx, after the allowed retries)."""

    def __init__(self, status: int, headers: httpx.Headers, body: bytes) -> None:
        super().__init__(f"upstream answered {status}")
        self.status = status
        self.headers = headers
        self.body = body


class UndecodableBody(ValueError):
    """`.data` of a body that is not in the operation's declared format (an image, a stream):
    read `.response` instead."""


class Result(Generic[T]):
    """One call's answer: `data` (decoded on first use), `status` and the raw `response`."""

    __slots__ = ("_data", "_operation", "response")

    def __init__(self, operation: Operation, response: httpx.Response) -> None:
        self._operation = operation
        self._data: Any = _UNREAD
        self.response = response

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def data(self) -> T:
        """The body in the declared format; with named outputs, each of them by name."""
        if self._data is _UNREAD:
            self._data = _decode(self._operation, self.response)
        result: T = self._data
        return result


def _decode(operation: Operation, response: httpx.Response) -> Any:
    if operation.output_format.lower() in formats.PASSTHROUGH:
        return response.content
    try:
        tree = formats.decode(response.content, operation.output_format, operation.output_selector)
    except (formats.FormatError, formats.UnsupportedFormat) as exc:
        raise UndecodableBody(
            f"the body ({response.headers.get('content-type', 'no type')}) is not "
            f"{operation.output_format}: read .response"
        ) from exc
    named = [output for output in operation.outputs if output.name]
    if not named:
        return tree
    return {output.name: mapping.resolve(output, tree) for output in named}
