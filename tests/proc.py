"""Helpers for the end-to-end tests that run ``hearth`` as a real process.

:class:`Hearth` starts ``hearth ...`` with the current interpreter, reads its stdout on a
thread (so a full pipe never blocks it), keeps stderr in a file for failure messages and
always ends the process on :meth:`Hearth.close`. :func:`sandbox_config` writes a config for
a sandbox on a free port with SQLite in a temp folder.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

STARTUP_TIMEOUT = 60.0
URL_LINE = re.compile(r"Hearth sandbox chat: open (http://\S+) ")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sandbox_config(folder: Path, extra_sandbox: str = "", extra: str = "", port: int = 0) -> Path:
    """Write ``hearth.toml`` (sandbox on ``port``, SQLite ``hearth.db``, a daily check-in) into ``folder``."""
    db = folder / "hearth.db"
    path = folder / "hearth.toml"
    path.write_text(
        f"""
[bot]
database = "sqlite+aiosqlite:///{db.as_posix()}"
log_level = "INFO"

[platforms.sandbox]
host = "127.0.0.1"
port = {port}
{extra_sandbox}

[campaigns.daily]
type = "checkin"
aliases = ["签到"]
points = 10
{extra}
""",
        encoding="utf-8",
    )
    return path


def hearth_command(*args: str) -> list[str]:
    """``hearth ARGS``: the installed console script beside this interpreter, else ``python -m bot``."""
    script = Path(sys.executable).parent / "hearth"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script), *args]
    return [sys.executable, "-m", "bot", *args]


class Hearth:
    """One ``hearth`` process; use as a context manager or call :meth:`close`."""

    def __init__(self, *args: str, cwd: Path, env: dict[str, str] | None = None) -> None:
        self.args = args
        self.stderr_path = cwd / f"hearth-{os.getpid()}-{time.monotonic_ns()}.stderr"
        self._stderr = self.stderr_path.open("wb")
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stdout: list[str] = []
        self.proc = subprocess.Popen(
            hearth_command(*args),
            cwd=cwd,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            encoding="utf-8",
        )
        self._reader = threading.Thread(target=self._read, daemon=True, name="hearth-stdout")
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.stdout.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def stderr_tail(self, chars: int = 3000) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")[-chars:]

    def wait_for_url(self, timeout: float = STARTUP_TIMEOUT) -> str:
        """The sandbox URL ``hearth run`` prints once it is serving."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"hearth printed no URL within {timeout:.0f}s; stderr:\n{self.stderr_tail()}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(
                    f"hearth exited ({self.proc.wait()}) before printing a URL; stderr:\n{self.stderr_tail()}"
                )
            found = URL_LINE.search(line)
            if found:
                return found.group(1)

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout: float = STARTUP_TIMEOUT) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"hearth did not exit within {timeout:.0f}s; stderr:\n{self.stderr_tail()}") from None

    def close(self) -> None:
        """End the process whatever state it is in (TERM, then KILL), and release its pipes."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(15)
        self._reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._stderr.close()

    def __enter__(self) -> Hearth:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def run_hearth(*args: str, cwd: Path, timeout: float = STARTUP_TIMEOUT) -> subprocess.CompletedProcess[str]:
    """Run a short ``hearth`` command to its end."""
    return subprocess.run(
        hearth_command(*args), cwd=cwd, capture_output=True, text=True, encoding="utf-8", timeout=timeout, check=False
    )


def query(db: Path, sql: str, *params: Any) -> list[tuple]:
    """Read the (WAL-mode) SQLite file a running or dead Hearth wrote; read-only."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def scalar(db: Path, sql: str, *params: Any) -> Any:
    return query(db, sql, *params)[0][0]


def wait_until(check: Callable[[], bool], timeout: float, what: str, every: float = 0.1) -> None:
    """Poll ``check`` (for state that no event announces, such as rows in another process's DB)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


def ws_url(url: str) -> str:
    return url.replace("http://", "ws://", 1).rstrip("/") + "/ws"


async def next_frame(
    ws: aiohttp.ClientWebSocketResponse, match: Callable[[dict], bool], within: float = STARTUP_TIMEOUT
) -> dict:
    """The next JSON frame on ``ws`` that ``match`` accepts (others are skipped), within ``within`` s."""
    async with asyncio.timeout(within):
        while True:
            msg = await ws.receive()
            if msg.type != aiohttp.WSMsgType.TEXT:
                raise AssertionError(f"the WebSocket ended: {msg.type.name} {msg.data!r}")
            frame = json.loads(msg.data)
            if match(frame):
                return frame


def is_bot_message(frame: dict) -> bool:
    return frame.get("op") == "message" and frame.get("sender") == "bot"
