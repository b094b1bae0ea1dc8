"""What an exposed unit answers (`Answer`), before an adapter shapes it for its protocol, and
how an upstream answer becomes one (SEMANTICS §7.4)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from .. import formats
from ..errors import MappingFailed, UpstreamThrottled, UpstreamUnavailable
from ..expr import mapping
from ..jsontext import compact
from ..model import Operation, Output
from ..upstream.answers import answer_header
from ..upstream.client import parse_retry_after
from ..upstream.result import Result
from ..upstream.stream import OpenStream

MAX_RETRY_AFTER = 3600  # seconds: the longest wait an upstream's Retry-After can ask of callers


@dataclass(slots=True)
class Answer:
    """What an endpoint produced, before an adapter shapes it for its protocol."""

    status: int
    content: bytes = b""
    media_type: str | None = None
    value: Any = mapping.NOT_MAPPED  # the JSON value when the content was built by capgen
    headers: dict[str, str] = field(default_factory=dict)
    mock: bool = False
    stream: OpenStream | None = None  # a body still arriving (REST relays it as it comes)

    @property
    def is_error(self) -> bool:
        return self.status >= 400

    @property
    def text(self) -> str:
        """The body as text for MCP: compact JSON for built values, the raw body otherwise."""
        if self.value is not mapping.NOT_MAPPED and self.mock:  # mocks are indented
            return compact(self.value)
        # built values' content is that compact JSON already (`json_answer`)
        return self.content.decode("utf-8", errors="replace")


def from_response(
    response: httpx.Response, outputs: Sequence[Output], operation: Operation
) -> Answer:
    """SEMANTICS §7.4: the upstream status, with the mapped JSON or the raw body; an error
    status (≥ 400) always with the raw body, whatever the declared format (DEV-25).

    Where the outputs take the whole body (`$.`) and it is not of the declared format (a PNG,
    audio, a server-sent-event stream), it goes to the caller byte for byte with its media
    type; mapped outputs of such a body are a 502, as they cannot be applied."""
    output_format = operation.output_format
    status, headers = gateway_status(response)
    media_type = answer_header(response, "content-type")
    raw = Answer(status, response.content, media_type, headers=headers)
    if not outputs or output_format.lower() in formats.PASSTHROUGH or status >= 400:
        return raw  # DEV-25: an error answer is the upstream's own, never decoded nor mapped
    try:
        tree = formats.decode(response.content, output_format, operation.output_selector)
    except formats.UnsupportedFormat as exc:
        raise MappingFailed(f"Failed to map output parameters: {exc}") from None
    except formats.FormatError:
        if maps_whole_body(outputs):
            return raw  # the body is the product (an image, audio, an event stream): as sent
        raise UpstreamUnavailable(
            f"upstream answered with a body that is not valid {output_format}"
        ) from None
    value = mapping.select(outputs, tree)
    if value is mapping.NOT_MAPPED:
        return raw
    return json_answer(status, value, headers)


def maps_whole_body(outputs: Sequence[Output]) -> bool:
    """Every output is the whole upstream body (`$.`), untransformed (worked out once for an
    endpoint's outputs: a tuple, as the descriptors hold them)."""
    if type(outputs) is not tuple:
        return _whole(outputs)
    known = _WHOLE.get(id(outputs))
    if known is not None and known[0] is outputs:
        return known[1]
    whole = _whole(outputs)
    if len(_WHOLE) < _REMEMBERED:
        _WHOLE[id(outputs)] = (outputs, whole)  # held: the id stays this tuple's
    return whole


_WHOLE: dict[int, tuple[tuple[Output, ...], bool]] = {}
_REMEMBERED = 4096


def _whole(outputs: Sequence[Output]) -> bool:
    return bool(outputs) and all(
        (o.mapping or "").strip() in ("$", "$.") and not o.properties and o.value is None
        for o in outputs
    )


def gateway_status(response: httpx.Response) -> tuple[int, dict[str, str]]:
    """Upstream 4xx keep their status; throttling and upstream failures become gateway statuses
    (429 and 503 → 503 with Retry-After, 504 → 504, other 5xx → 502). The upstream body is
    kept either way, and X-Upstream-Status says what the upstream answered. Retry-After is
    passed on as whole seconds up to `MAX_RETRY_AFTER`; one that does not parse is dropped."""
    status = response.status_code
    if status != 429 and status < 500:
        return status, {}
    headers = {"X-Upstream-Status": str(status)}
    if status in (429, 503):
        retry_after = parse_retry_after(answer_header(response, "retry-after"))
        if retry_after is not None:  # whole seconds, at most an hour; a date becomes a delay
            headers["Retry-After"] = str(math.ceil(min(retry_after, MAX_RETRY_AFTER)))
        return UpstreamThrottled.status, headers
    return (504 if status == 504 else 502), headers


def json_answer(status: int, value: Any, headers: dict[str, str] | None = None) -> Answer:
    content = compact(value).encode()
    return Answer(status, content, "application/json", value=value, headers=headers or {})


def mock_answer(outputs: Sequence[Output], params: Mapping[str, Any]) -> Answer:
    value = mapping.mock(outputs, [params])
    if not value:
        return Answer(204, mock=True)
    content = json.dumps(value, indent=2, ensure_ascii=False).encode()
    return Answer(200, content, "application/json", value=value, mock=True)


def as_answer(value: Any) -> Answer:
    """What a service method returned, as an answer: an `Answer` as it is, a consumed
    operation's `Result` as the upstream's answer, anything else as a JSON 200."""
    if isinstance(value, Answer):
        return value
    if isinstance(value, Result):
        response = value.response
        status, headers = gateway_status(response)
        return Answer(
            status, response.content, answer_header(response, "content-type"), headers=headers
        )
    return json_answer(200, value)
