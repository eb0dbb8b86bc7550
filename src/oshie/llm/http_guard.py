"""The limits that keep `oshie serve` responsive whatever its clients send.

- `bind(host, port)`: the listening socket, bound before the model loads and before the
  server says it is serving, so a port in use or out of range is a clear `UsageError`.
- `read_body(request, limit, deadline)`: the request body, at most `limit` bytes (413 above,
  decided from Content-Length or while streaming) and within `deadline` seconds (408).
- `HeaderTimeoutProtocol`: uvicorn's h11 protocol, plus a timer that closes a connection
  whose request line and headers have not all arrived `header_timeout` seconds after it
  opened or after its previous response (slow-header clients would otherwise be kept
  forever: uvicorn only times out idle keep-alive connections).
"""

from __future__ import annotations

import asyncio
import errno
import socket
from typing import Any

from oshie.errors import UsageError
from oshie.llm.openai_request import BadRequest

MAX_BODY_BYTES = 4 << 20
BODY_DEADLINE_S = 30.0
HEADER_TIMEOUT_S = 10.0
_DRAIN_CAP = 64 << 20  # read and drop this much of a too-large body so the client sees the 413


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port); port 0 picks a free one."""
    if not 0 <= port <= 65535:
        raise UsageError(f"port {port} is out of range", field="port", hint="use 1 to 65535")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"cannot resolve host '{host}' ({exc.strerror})", field="host") from exc
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(
                f"port {port} on {host} is already in use",
                field="port", hint="stop the other server or pass another --port",
            ) from exc
        if exc.errno == errno.EACCES:
            raise UsageError(
                f"no permission to listen on port {port}", field="port",
                hint="ports below 1024 need privileges; use e.g. --port 8000",
            ) from exc
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}", field="host") from exc
    sock.set_inheritable(True)
    return sock


async def read_body(request: Any, limit: int = MAX_BODY_BYTES, deadline: float = BODY_DEADLINE_S) -> bytes:
    """The whole body of a Starlette request, refused past `limit` bytes or `deadline` s."""
    try:
        return await asyncio.wait_for(_read_limited(request, limit), deadline)
    except TimeoutError as exc:
        raise BadRequest(f"the request body did not arrive within {deadline:g} s", 408) from exc


async def _read_limited(request: Any, limit: int) -> bytes:
    too_large = BadRequest(
        f"the request body is larger than {limit // (1 << 20)} MiB "
        f"({limit} bytes); send a shorter prompt", 413,
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        await _drain(request, 0)
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            await _drain(request, size)
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def _drain(request: Any, seen: int) -> None:
    """Read and drop the rest of a refused body (up to a cap), so the client, which sends
    its whole body before reading the answer, receives the 413 instead of a reset."""
    try:
        async for chunk in request.stream():
            seen += len(chunk)
            if seen > _DRAIN_CAP:
                return
    except Exception:  # the client went away: nothing left to tell it
        return


def header_timeout_protocol(timeout: float = HEADER_TIMEOUT_S) -> type:
    """uvicorn's h11 protocol class with a header timeout (imported lazily with uvicorn)."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderTimeoutProtocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:  # request line and headers are in
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._header_timer = self.loop.call_later(timeout, self._too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _too_slow(self) -> None:
            self._header_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

    return HeaderTimeoutProtocol
