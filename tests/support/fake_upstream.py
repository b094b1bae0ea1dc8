"""A real HTTP server on loopback that records what it receives and answers as scripted.

By default it answers like Cloudflare's v4 API (Workers AI): `{result, success, errors,
messages}`. Tests push scripted answers (status, body, headers, delay, dropped connection).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import h11

DROP = "drop"  # close the connection without answering
TRUNCATE = "truncate"  # announce a body, send half of it, close


@dataclass
class Recorded:
    method: str
    path: str
    raw_path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    body: bytes | str | Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    action: str | None = None
    repeat: int = 1


class FakeUpstream:
    """An HTTP/1.1 server (asyncio + h11) in a background thread, so faults can be real:
    dropped connections, truncated bodies, slow answers."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.script: list[Answer] = []
        self.lock = threading.Lock()
        self.port = 0
        self.responder: Callable[[Recorded], Answer] | None = None  # replaces the default answer
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, *answers: Answer) -> None:
        with self.lock:
            self.script.extend(answers)

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.script.clear()
            self.responder = None

    def _next(self) -> Answer | None:
        with self.lock:
            if not self.script:
                return None
            answer = self.script[0]
            answer.repeat -= 1
            if answer.repeat <= 0:
                self.script.pop(0)
            return answer

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                request, body = await self._read_request(conn, reader)
                if request is None:
                    return
                recorded = self._record(request, body)
                answer = self._next() or (self.responder or self._default)(recorded)
                if answer.delay:
                    await asyncio.sleep(answer.delay)
                if answer.action == DROP:
                    return
                await self._respond(conn, writer, answer)
                if answer.action == TRUNCATE or conn.our_state is h11.MUST_CLOSE:
                    return
                conn.start_next_cycle()
        except (h11.ProtocolError, ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    async def _read_request(
        self, conn: h11.Connection, reader: asyncio.StreamReader
    ) -> tuple[h11.Request | None, bytes]:
        request = None
        body = b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(65536)
                conn.receive_data(data)
                if not data and request is None:
                    return None, b""
                continue
            if isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return request, body
            elif isinstance(event, h11.ConnectionClosed):
                return None, b""

    def _record(self, request: h11.Request, body: bytes) -> Recorded:
        target = request.target.decode("latin-1")
        raw_path, _, query = target.partition("?")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in request.headers}
        recorded = Recorded(
            request.method.decode(), unquote(raw_path), raw_path, query, headers, body
        )
        with self.lock:
            self.requests.append(recorded)
        return recorded

    @staticmethod
    async def _respond(conn: h11.Connection, writer: asyncio.StreamWriter, answer: Answer) -> None:
        payload = answer.body
        headers = {k.lower(): v for k, v in answer.headers.items()}
        if payload is None:
            payload = b""
        elif not isinstance(payload, (bytes, str)):
            payload = json.dumps(payload)
            headers.setdefault("content-type", "application/json")
        data = payload.encode() if isinstance(payload, str) else payload
        headers["content-length"] = str(len(data))
        writer.write(
            conn.send(h11.Response(status_code=answer.status, headers=list(headers.items())))
        )
        if answer.action == TRUNCATE:
            writer.write(data[: len(data) // 2])
            await writer.drain()
            return
        writer.write(conn.send(h11.Data(data=data)))
        writer.write(conn.send(h11.EndOfMessage()))
        await writer.drain()

    @staticmethod
    def _default(request: Recorded) -> Answer:
        if request.headers.get("authorization") != "Bearer test-upstream-key":
            error = {"code": 10000, "message": "Authentication error"}
            return Answer(
                401, {"result": None, "success": False, "errors": [error], "messages": []}
            )
        result = {"response": "Hello from the fake Workers AI."}
        return Answer(200, {"result": result, "success": True, "errors": [], "messages": []})

    def start(self) -> None:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._server = loop.run_until_complete(
                asyncio.start_server(self._connection, "127.0.0.1", 0)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake upstream did not start")

    def stop(self) -> None:
        loop = self._loop
        if loop is not None and self._server is not None:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)

    async def _shutdown(self) -> None:
        assert self._server is not None
        self._server.close()
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
