"""``hearth run`` that cannot start says why in one line (``hearth: error: ...``), exits 1, shows
no traceback and no secret. (A rejected Telegram token: tests/telegram/test_run_process.py.)"""

from __future__ import annotations

from pathlib import Path

from bot import logs
from bot.config import parse
from tests.proc import free_port, run_hearth

PASSWORD = "Pg-pass-w0rd!"


def test_an_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "hearth.toml"
    url = f"postgresql+asyncpg://hearth:{PASSWORD}@127.0.0.1:{port}/hearth"
    config.write_text(f'[bot]\ndatabase = "{url}"\n[platforms.sandbox]\nport = 0\n', encoding="utf-8")
    done = run_hearth("run", "--config", str(config), cwd=tmp_path)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith(
        f"hearth: error: cannot use the database postgresql+asyncpg://hearth:***@127.0.0.1:{port}"
    )
    assert "Traceback" not in done.stderr
    assert PASSWORD not in done.stderr + done.stdout
    assert "Hearth sandbox chat" not in done.stdout


def test_an_unusable_sqlite_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file where a folder should be", encoding="utf-8")
    config = tmp_path / "hearth.toml"
    db = tmp_path / "taken" / "hearth.db"
    text = f'[bot]\ndatabase = "sqlite+aiosqlite:///{db}"\n[platforms.sandbox]\nport = 0\n'
    config.write_text(text, encoding="utf-8")
    done = run_hearth("run", "--config", str(config), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("hearth: error: ")
    assert "Traceback" not in done.stderr


def test_log_scrubbing_covers_database_passwords_however_short() -> None:
    config = parse('[bot]\ndatabase = "postgresql+asyncpg://u:pw@db/h"\n[platforms.sandbox]\n', "x.toml")
    line = "connect to postgresql+asyncpg://u:pw@db/h failed"
    assert logs.scrub(line, logs.secrets_in(config)) == "connect to postgresql+asyncpg://u:***@db/h failed"
    long = parse(f'[bot]\ndatabase = "postgresql+asyncpg://u:{PASSWORD}@db/h"\n[platforms.sandbox]\n', "x.toml")
    assert PASSWORD in logs.secrets_in(long)  # also when a driver quotes it alone
    assert logs.scrub(f"auth with {PASSWORD} refused", logs.secrets_in(long)) == "auth with *** refused"


def test_reports_on_an_unreachable_database_are_one_line_too(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "hearth.toml"
    url = f"postgresql+asyncpg://hearth:{PASSWORD}@127.0.0.1:{port}/hearth"
    config.write_text(f'[bot]\ndatabase = "{url}"\n[platforms.sandbox]\n', encoding="utf-8")
    for command in ("stats", "audit", "coupons"):
        args = (command, "status") if command == "coupons" else (command,)
        done = run_hearth(*args, "--config", str(config), cwd=tmp_path)
        assert done.returncode == 1, command
        assert done.stderr.strip().splitlines()[-1].startswith("hearth: error: "), command
        assert "Traceback" not in done.stderr and PASSWORD not in done.stderr + done.stdout


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`hearth check | head -1`: the reader is gone before Hearth writes; no traceback, exit 0."""
    import os
    import subprocess

    from tests.proc import hearth_command

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has already gone away
    try:
        done = subprocess.run(
            hearth_command("check"), cwd=tmp_path, stdout=write_end, stderr=subprocess.PIPE, timeout=60, check=False
        )
    finally:
        os.close(write_end)
    assert done.returncode == 0
    assert b"Traceback" not in done.stderr and b"BrokenPipe" not in done.stderr
