"""One WebSocket to a bridge: API calls matched to their answers by ``echo``, with timeouts.

Reverse and forward mode share this: the server or the client owns the socket's lifetime and
feeds every API answer it reads to :meth:`Connection.resolve`. Each connection has its own
pending calls; when the socket goes, they all fail at once (an answer can no longer come).
Every call has a timeout, because some implementations never answer (LLOneBot drops
``echo`` on a parameter error, Lagrange ignores bad JSON).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any, Protocol

from adapters.onebot.errors import result

_ids = itertools.count(1)


class Socket(Protocol):
    """What aiohttp's server and client WebSockets have in common, as used here."""

    @property
    def closed(self) -> bool: ...

    async def send_str(self, data: str, compress: int | None = None) -> None: ...

    async def close(self, *, code: int = ..., message: bytes = ...) -> bool: ...


class Connection:
    """A live socket of one account; ``role`` is ``universal``, ``api`` or ``event``."""

    def __init__(self, socket: Socket, self_id: str, role: str = "universal") -> None:
        self.socket = socket
        self.self_id = self_id
        self.role = role
        self.serial = next(_ids)
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._seq = itertools.count(1)

    def __repr__(self) -> str:
        return f"Connection(self_id={self.self_id}, role={self.role}, serial={self.serial})"

    @property
    def can_call(self) -> bool:
        return self.role != "event" and not self.socket.closed

    async def call(self, action: str, params: dict[str, Any], wait: float) -> Any:
        """Send one request and wait for its answer's ``data``.

        Raises ``ConnectionError`` when the socket is or goes away, ``TimeoutError`` when no
        answer comes within ``wait`` seconds, :class:`~adapters.onebot.errors.ActionFailed` when it failed.
        """
        if self.socket.closed:
            raise ConnectionError("the bridge is not connected")
        echo = f"h{self.serial}.{next(self._seq)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[echo] = future
        try:
            frame = json.dumps({"action": action, "params": params, "echo": echo}, ensure_ascii=False)
            try:
                await self.socket.send_str(frame)
            except (ConnectionError, RuntimeError) as err:  # aiohttp: closing transport
                raise ConnectionError(f"the bridge connection broke: {type(err).__name__}") from None
            answer = await asyncio.wait_for(future, wait)
        finally:
            self._pending.pop(echo, None)
        return result(action, answer)

    def resolve(self, frame: dict[str, Any]) -> bool:
        """Hand an API answer to its caller; False when nobody waits for it (late, unknown)."""
        echo = frame.get("echo")
        future = self._pending.get(echo) if isinstance(echo, str) else None
        if future is None or future.done():
            return False
        future.set_result(frame)
        return True

    def fail_all(self) -> None:
        """The socket is gone: every waiting call fails now rather than at its timeout."""
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionError("the bridge disconnected before answering"))
        self._pending.clear()

    @property
    def waiting(self) -> int:
        return len(self._pending)
