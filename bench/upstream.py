"""The benchmark upstream: answers every request like Workers AI, as fast as uvicorn allows.

A body with `"stream": true` gets a server-sent-event stream instead: the first event after
`FIRST_EVENT_S` (a model's time to its first token), then one every `GAP_S`.

`python bench/upstream.py PORT`
"""

from __future__ import annotations

import asyncio
import sys

from serving import serve

BODY = b'{"result":{"response":"Hello from the benchmark upstream."},"success":true,"errors":[],"messages":[]}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
STREAM_HEADERS = [(b"content-type", b"text/event-stream")]
FIRST_EVENT_S = 0.05
GAP_S = 0.01
EVENTS = [f'data: {{"response":"token{i} "}}\n\n'.encode() for i in range(20)] + [
    b"data: [DONE]\n\n"
]


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if b'"stream":true' in body.replace(b" ", b""):
        await send({"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS})
        await asyncio.sleep(FIRST_EVENT_S)
        for event in EVENTS:
            await send({"type": "http.response.body", "body": event, "more_body": True})
            await asyncio.sleep(GAP_S)
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


if __name__ == "__main__":
    serve(app, int(sys.argv[1]))
