"""Binary answers on MCP (ikanos beta1 on): which consumed operation's answer an exposed unit
gives, the media type it advertises (`outputMediaType`), and the most bytes it may carry
(`maxBinarySize`: the operation's, else the adapter's, else 10 MiB).

A binary answer larger than its limit is refused whole, with a message saying both sizes:
never cut, since a cut image or archive is corrupt and nothing on the wire would say so."""

from __future__ import annotations

from dataclasses import dataclass

from ..engine import Answer
from ..expr.mapping import NOT_MAPPED
from ..formats import media_type
from ..model import Endpoint, McpAdapter, Operation

DEFAULT_MAX_BINARY_SIZE = 10 * 1024 * 1024  # the spec's default `maxBinarySize`: 10MiB


@dataclass(frozen=True, slots=True)
class BinaryRule:
    """How one tool or resource answers raw bytes."""

    limit: int = DEFAULT_MAX_BINARY_SIZE
    media_type: str | None = None  # the advertised `outputMediaType`, if the spec gives one
    raw: bool = False  # the operation reads its answer as `outputRawFormat: binary`

    def is_binary(self, answer: Answer) -> bool:
        """Raw bytes to send as a blob: unmapped, and read as binary or not of a text type."""
        if answer.value is not NOT_MAPPED or not answer.content or answer.is_error:
            return False
        return self.raw or not is_text(media_type(answer.media_type))

    def advertised(self, answer: Answer) -> str:
        """The media type the answer is sent with: `outputMediaType`, else the upstream's."""
        return self.media_type or media_type(answer.media_type)

    def refusal(self, size: int) -> str | None:
        """Why a binary answer of `size` bytes cannot be sent (it is over the limit), or None."""
        if size <= self.limit:
            return None
        return (
            f"the upstream's binary answer is {size} bytes, more than this server's "
            f"maxBinarySize of {self.limit} bytes: it is not sent"
        )


def binary_rule(
    endpoint: Endpoint | None, adapter: McpAdapter, *, forced: bool = False
) -> BinaryRule:
    """The rule of a tool's or a resource's endpoint; `forced`: a resource declared `binary`."""
    operation = answering_operation(endpoint)
    limit = adapter.max_binary_size
    if operation is not None and operation.max_binary_size is not None:
        limit = operation.max_binary_size
    advertised = endpoint.media_type if endpoint is not None else None
    if advertised is None and endpoint is not None and endpoint.function is not None:
        advertised = endpoint.function.media_type
    if advertised is None and operation is not None:
        advertised = operation.media_type
    return BinaryRule(
        limit=DEFAULT_MAX_BINARY_SIZE if limit is None else limit,
        media_type=advertised,
        raw=forced or (operation is not None and operation.output_format.lower() == "binary"),
    )


def answering_operation(endpoint: Endpoint | None) -> Operation | None:
    """The consumed operation whose answer is the endpoint's: its call, its aggregate
    function's, or the last call step's when no mappings build the result."""
    if endpoint is None:
        return None
    if endpoint.call is not None:
        return endpoint.call.operation
    if endpoint.function is not None:
        return answering_operation(endpoint.function)
    if endpoint.mappings:
        return None
    calls = [s.call.operation for s in endpoint.steps if s.kind == "call" and s.call]
    return calls[-1] if calls else None


def is_text(media: str) -> bool:
    return (
        not media
        or media.startswith("text/")
        or media.endswith(("json", "+xml", "/xml", "yaml", "ndjson"))
        or media in ("application/x-www-form-urlencoded", "application/javascript")
    )
