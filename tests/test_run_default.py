"""``hearth run`` with no config: the embedded default (sandbox + SQLite in the cwd), as a newcomer runs it."""

from __future__ import annotations

import errno
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest

from tests.proc import Hearth, is_bot_message, next_frame, run_hearth, sandbox_config, ws_url

DEFAULT_PORT = 8080


@pytest.fixture
def port_8080_taken() -> Iterator[None]:
    """Hold 127.0.0.1:8080 (unless something else already does), as on a busy CI machine."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        holder.bind(("127.0.0.1", DEFAULT_PORT))
        holder.listen()
    except OSError as err:
        if err.errno != errno.EADDRINUSE:
            raise
    try:
        yield
    finally:
        holder.close()


async def test_default_run_serves_the_sandbox_answers_and_stops_cleanly(tmp_path: Path, port_8080_taken: None) -> None:
    with Hearth("run", cwd=tmp_path) as hearth:
        url = hearth.wait_for_url()
        address = urlsplit(url)
        assert address.hostname == "127.0.0.1"
        assert address.port not in (None, 0, DEFAULT_PORT)  # the default port was busy: a free one instead
        assert "in use" in hearth.stderr_tail()  # ... and the log says so
        assert (tmp_path / "hearth.db").is_file()  # SQLite lands in the working directory

        async with aiohttp.ClientSession() as http, http.ws_connect(ws_url(url)) as ws:
            await ws.send_json({"op": "say", "chat": "g1", "user": "alice", "text": "/checkin"})
            reply = await next_frame(ws, is_bot_message)
        assert "alice checked in" in reply["text"] and "+10" in reply["text"]

        hearth.signal(signal.SIGTERM)
        assert hearth.wait() == 0
    assert "Traceback" not in hearth.stderr_tail(100_000)


def test_an_explicitly_configured_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        config = sandbox_config(tmp_path, port=port)
        done = run_hearth("run", "--config", str(config), cwd=tmp_path)
    assert done.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in done.stderr
    assert "Traceback" not in done.stderr
    assert "Hearth sandbox chat" not in done.stdout


def test_sigint_also_stops_cleanly(tmp_path: Path) -> None:
    config = sandbox_config(tmp_path)
    with Hearth("run", "--config", str(config), cwd=tmp_path) as hearth:
        hearth.wait_for_url()
        hearth.signal(signal.SIGINT)
        assert hearth.wait() == 0
