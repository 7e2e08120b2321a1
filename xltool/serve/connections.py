"""Bounds on the server's connections: how many, and how long a request may take to arrive.

uvicorn (0.55, h11) never times out a connection that sends no request, or half a request's headers,
or a body one byte a minute, and its ``limit_concurrency`` answers 503 only once a request arrives,
counting idle connections too: it never closes an idle socket. A thousand idle connections then
hold a thousand open files and the portal stops accepting anyone. :class:`Bounded` is mixed into
uvicorn's HTTP protocol (app.py) and adds, like nginx's ``client_header_timeout`` and
``client_body_timeout``:

- a request's line and headers must arrive within ``header_seconds`` of its first byte (or of the
  connection, for its first request);
- while its body arrives, no gap longer than ``body_idle_seconds`` (unless the server itself has
  paused reading);
- at most ``connections`` open connections: one more closes the connection that has waited
  longest for a request (idle or trickling its headers), never one being answered; when every
  connection is busy, the new one gets a 503 and is closed.

Between requests uvicorn's own ``timeout_keep_alive`` applies. No third-party import here: the
mixin uses only the protocol's ``connections``, ``cycle``, ``flow`` and ``transport``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

BUSY_TEXT = "服务器繁忙（同时连接过多），请稍后再试。".encode()
BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 5\r\n"
    b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(BUSY_TEXT), BUSY_TEXT)
)


@dataclass(frozen=True)
class Limits:
    connections: int = 500
    header_seconds: float = 20.0
    body_idle_seconds: float = 30.0
    keep_alive_seconds: float = 5.0


class Bounded:
    """Mixin before uvicorn's H11Protocol (see the module docstring); ``limits`` is set by a subclass."""

    limits: Limits
    connections: set[Any]
    cycle: Any
    flow: Any
    transport: asyncio.Transport
    _timer: asyncio.TimerHandle | None = None
    _since: float = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # type: ignore[misc]
        self._since = _now()
        if len(self.connections) > self.limits.connections and not self._make_room():
            transport.write(BUSY)
            transport.close()
            return
        self._arm(self.limits.header_seconds)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # type: ignore[misc]
        self._watch()

    def on_response_complete(self) -> None:
        self._cancel()
        self._since = _now()
        super().on_response_complete()  # type: ignore[misc]
        if not self.waiting:  # a pipelined request was already waiting
            self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)  # type: ignore[misc]

    @property
    def waiting(self) -> bool:
        """No request in progress: idle, or its line and headers not complete yet."""
        return self.cycle is None or bool(self.cycle.response_complete)

    def _watch(self) -> None:
        if self.waiting:
            if self._timer is None:  # from the first byte of the request, not re-armed by each byte
                self._arm(self.limits.header_seconds)
        elif self.cycle.more_body:
            self._arm(self.limits.body_idle_seconds)  # re-armed at each arrival
        else:
            self._cancel()  # the request is in; the answer may take its time

    def _arm(self, seconds: float) -> None:
        self._cancel()
        self._timer = asyncio.get_running_loop().call_later(seconds, self._expired)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self) -> None:
        self._timer = None
        if not self.waiting and self.cycle.more_body and self.flow.read_paused:  # we stopped reading, not them
            self._arm(self.limits.body_idle_seconds)
            return
        if not self.transport.is_closing():
            self.transport.close()

    def _make_room(self) -> bool:
        """Close the connection that has waited longest for a request; False when none is waiting."""
        waiting = [
            c
            for c in self.connections
            if c is not self and isinstance(c, Bounded) and c.waiting and not c.transport.is_closing()
        ]
        if not waiting:
            return False
        oldest = min(waiting, key=lambda c: c._since)
        oldest._cancel()
        oldest.transport.close()
        return True


def _now() -> float:
    return asyncio.get_running_loop().time()
