"""A throwaway PostgreSQL server for the tests, started from the installed binaries.

The server is pytest-postgresql's :class:`PostgreSQLExecutor` (``pg_ctl initdb`` + ``pg_ctl
start``, stopped and deleted at the end of the session); each test gets a fresh database
from its :class:`DatabaseJanitor`. Without PostgreSQL installed the tests that need it are
skipped with the reason; ``.ci/run`` installs it, so CI always runs them.

PostgreSQL refuses to run as root, and tests run as root in containers and CI. Then the
server runs as an unprivileged system user (``postgres``, which the Debian package creates,
else ``nobody``): the executor's ``pg_ctl`` is a two-line wrapper that ``runuser``\\ s to it,
so ``initdb``, ``start``, ``status`` and ``stop`` all run as that user. Each session's files
live in ``$TMPDIR/hearth-pg-*/``: root's wrapper and ``owner.pid`` at the top (which that
user may pass through but not change), and ``server/`` (data directory, socket, log) owned by
that user. (The ``postgresql_proc`` factory cannot be used as is for this: it puts the data
directory under pytest's own ``0700`` temporary tree, which no other user may enter.) As any
other user, ``pg_ctl`` runs directly. A session killed before its teardown leaves its server
running; the next session stops it (``owner.pid`` names a process that is gone).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import port_for
import pytest

SERVER_USERS = ("postgres", "nobody")
PREFIX = "hearth-pg-"  # temporary directory of each session's server


def find_pg_ctl() -> str | None:
    """``pg_ctl`` on PATH, else the newest ``/usr/lib/postgresql/*/bin/pg_ctl`` (Debian's place)."""
    found = shutil.which("pg_ctl")
    if found:
        return found
    candidates = glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")
    candidates.sort(key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return candidates[-1] if candidates else None


def _server_user() -> pwd.struct_passwd | None:
    for name in SERVER_USERS:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    return None


def _pg_ctl_for(pg_ctl: str, home: Path) -> str:
    """The ``pg_ctl`` the executor runs: the real one, or as root a wrapper running it as an
    unprivileged user who then owns ``home/server`` (data directory, socket, log)."""
    server = home / "server"
    server.mkdir(mode=0o700)
    if os.geteuid() != 0:
        return pg_ctl
    account = _server_user()
    if account is None:
        pytest.skip("running as root and no unprivileged user (postgres, nobody) to run PostgreSQL as")
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("running as root and `runuser` (util-linux) is missing: cannot start PostgreSQL as another user")
    os.chown(server, account.pw_uid, account.pw_gid)
    home.chmod(0o711)  # the server user may pass through to server/, not change the wrapper
    wrapper = home / "pg_ctl"
    wrapper.write_text(f'#!/bin/sh\nexec {runuser} -u {account.pw_name} -- {pg_ctl} "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_stale_servers() -> None:
    """Stop and delete servers left behind by test sessions that were killed (SIGKILL, a CI
    timeout) before their teardown ran: each server's directory names its session's pid."""
    for home in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            owner = int((home / "owner.pid").read_text())
        except (OSError, ValueError):
            continue
        if _alive(owner):
            continue
        pg_ctl = home / "pg_ctl" if (home / "pg_ctl").exists() else find_pg_ctl()
        if pg_ctl and (home / "server" / "data").exists():
            stop = [str(pg_ctl), "stop", "-D", str(home / "server" / "data"), "-m", "immediate"]
            subprocess.run(stop, capture_output=True, timeout=60, check=False)
        shutil.rmtree(home, ignore_errors=True)


class Server:
    """A running PostgreSQL; :meth:`database` hands out fresh databases on it."""

    def __init__(self, executor: object, host: str, port: int, user: str) -> None:
        self.executor = executor
        self.host, self.port, self.user = host, port, user

    def url(self, dbname: str) -> str:
        return f"postgresql+asyncpg://{self.user}@{self.host}:{self.port}/{dbname}"

    def database(self) -> Iterator[str]:
        """Create a database for one test; yields its SQLAlchemy URL and drops it afterwards."""
        from pytest_postgresql.janitor import DatabaseJanitor

        name = f"hearth_{uuid.uuid4().hex[:12]}"
        with DatabaseJanitor(user=self.user, host=self.host, port=self.port, dbname=name):
            yield self.url(name)


def start_server() -> Iterator[Server]:
    """Start PostgreSQL for the session (or skip); stop it and delete its files at the end."""
    pg_ctl = find_pg_ctl()
    if pg_ctl is None:
        pytest.skip("PostgreSQL is not installed (no pg_ctl on PATH or in /usr/lib/postgresql/*/bin)")
    from pytest_postgresql.executors import PostgreSQLExecutor

    reap_stale_servers()
    home = Path(tempfile.mkdtemp(prefix=PREFIX))
    (home / "owner.pid").write_text(str(os.getpid()))
    executable = _pg_ctl_for(pg_ctl, home)
    server = home / "server"
    host, port = "127.0.0.1", port_for.select_random()
    executor = PostgreSQLExecutor(
        executable=executable,
        host=host,
        port=port,
        datadir=str(server / "data"),
        unixsocketdir=str(server),
        logfile=str(server / "server.log"),
        startparams="-w",
        dbname="postgres",
        user="postgres",  # the database superuser's role name (initdb --username)
        options="",
        postgres_options="-c fsync=off -c full_page_writes=off",
    )
    try:
        executor.start()
        executor.wait_for_postgres()
        yield Server(executor, host, port, "postgres")
    finally:
        try:
            executor.stop()
        finally:
            shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    """One throwaway PostgreSQL server for the whole session (skips when none is installed)."""
    yield from start_server()


@pytest.fixture
def pg_url(pg_server: Server) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, as a ``postgresql+asyncpg://`` URL."""
    yield from pg_server.database()
