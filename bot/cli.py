"""The ``hearth`` command: run, check, simulate, db upgrade, stats."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot.config import Config, ConfigError, default_config, load


def _config(path: str | None) -> Config:
    return load(path) if path else default_config()


def _fail(err: ConfigError) -> int:
    for problem in err.problems:
        print(problem, file=sys.stderr)
    print(f"hearth: {len(err.problems)} problem(s) in the config", file=sys.stderr)
    return 2


async def _run(config: Config) -> None:
    from bot.app import App

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):  # before start: a stop during start-up is clean too
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    app = App(config)
    try:
        await app.start()
    except BaseException:
        with contextlib.suppress(Exception):  # what did start is stopped; the cause is reported
            await app.stop(send_timeout=0)
        raise
    sandbox = app.adapters.get("sandbox")
    if sandbox is not None:
        print(f"Hearth sandbox chat: open {sandbox.url} in your browser (Ctrl+C to stop)", flush=True)
    try:
        await stop.wait()
    finally:
        await app.stop()


def cmd_run(args: argparse.Namespace) -> int:
    from bot import logs

    config = _config(args.config)
    secrets = logs.secrets_in(config)
    logs.setup(config.bot.log_level, secrets=secrets)
    try:
        asyncio.run(_run(config))
    except Exception as err:  # port taken, token rejected, database unreachable: one line, no traceback
        print(f"hearth: error: {logs.scrub(_reason(err), secrets)}", file=sys.stderr)
        return 1
    return 0


def _reason(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return str(err) or type(err).__name__


def cmd_check(args: argparse.Namespace) -> int:
    config = _config(args.config)  # first: a broken config is reported without loading the engine

    from bot.check_report import report

    print(report(config))
    if getattr(args, "live", False):  # what the database says (e.g. QQ groups' permissions)
        from bot.check_live import live_report

        print(asyncio.run(live_report(config)))
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from bot.simulate import ScriptError, simulate

    config = _config(args.config)
    try:
        text = Path(args.script).read_text(encoding="utf-8")
    except OSError as err:
        print(f"{args.script}: cannot read: {err.strerror}", file=sys.stderr)
        return 2
    try:
        for line in asyncio.run(simulate(config, text, args.script, as_json=args.json)):
            print(line)
    except ScriptError as err:
        print(str(err), file=sys.stderr)
        return 2
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot import logs
    from bot.app import StartError
    from bot.db_errors import unusable
    from storage import db

    config = _config(args.config)

    async def go() -> None:
        engine = db.create_engine(config.bot.database)
        try:
            await db.upgrade(engine)
        except Exception as err:
            raise StartError(unusable(engine.url, err)) from None
        finally:
            await engine.dispose()

    try:
        asyncio.run(go())
    except StartError as err:
        print(f"hearth: error: {logs.scrub(str(err), logs.secrets_in(config))}", file=sys.stderr)
        return 1
    print("database is up to date")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from bot.stats import summary

    config = _config(args.config)
    print(asyncio.run(summary(config)))
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from bot.audit_report import report

    config = _config(args.config)
    print(asyncio.run(report(config, args.limit, args.chat)))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hearth", description="Community-marketing bot for chat groups.")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bot (no --config: the sandbox web chat with SQLite)")
    run.add_argument("--config", "-c")
    run.set_defaults(func=cmd_run)
    check = sub.add_parser("check", help="validate a config and show campaigns and next fires")
    check.add_argument("--config", "-c")
    check.add_argument("--live", action="store_true", help="also show stored per-chat state (permissions)")
    check.set_defaults(func=cmd_check)
    sim = sub.add_parser("simulate", help="rehearse a campaign against a scripted conversation")
    sim.add_argument("--config", "-c")
    sim.add_argument("--script", "-s", required=True)
    sim.add_argument("--json", action="store_true", help="one JSON object per action, then a summary")
    sim.set_defaults(func=cmd_simulate)
    dbp = sub.add_parser("db", help="database maintenance")
    dbsub = dbp.add_subparsers(dest="db_command", required=True)
    up = dbsub.add_parser("upgrade", help="apply pending migrations")
    up.add_argument("--config", "-c")
    up.set_defaults(func=cmd_db_upgrade)
    stats = sub.add_parser("stats", help="counts of events, outbox and failures")
    stats.add_argument("--config", "-c")
    stats.set_defaults(func=cmd_stats)
    aud = sub.add_parser("audit", help="the admin commands run in the chats, newest first")
    aud.add_argument("--config", "-c")
    aud.add_argument("--limit", "-n", type=int, default=50, help="how many entries (default 50)")
    aud.add_argument("--chat", help="only this chat, e.g. telegram:-100123")
    aud.set_defaults(func=cmd_audit)
    from bot import coupons_cli

    coupons_cli.add_parser(sub)  # hearth coupons import|export|generate|status
    from bot import feedback_cli

    feedback_cli.add_parser(sub)  # hearth feedback export NAME
    from adapters.wecom import cli as wecom_cli

    wecom_cli.add_parser(sub)  # hearth wecom join-way|broadcasts|welcome|groups
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as err:
        return _fail(err)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`hearth check | head`): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (SQLAlchemyError, OSError) as err:  # e.g. `hearth stats` with the database unreachable
        from bot import logs

        print(f"hearth: error: {logs.scrub(_reason(getattr(err, 'orig', None) or err))}", file=sys.stderr)
        return 1
