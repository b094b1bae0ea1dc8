"""The benchmark upstream: answers every request like Workers AI, as fast as uvicorn allows.

`python bench/upstream.py PORT`
"""

from __future__ import annotations

import sys

from serving import serve

BODY = b'{"result":{"response":"Hello from the benchmark upstream."},"success":true,"errors":[],"messages":[]}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


if __name__ == "__main__":
    serve(app, int(sys.argv[1]))
