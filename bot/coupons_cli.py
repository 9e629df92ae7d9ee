"""``hearth coupons import|export|generate|status``: the coupon pools from the command line.

Exit codes: 0 done, 2 nothing done because of a problem (each printed as ``file:line: what``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from bot import coupon_ops
from bot.config import Config, default_config, load
from storage import db as storage_db

T = TypeVar("T")


def _config(args: argparse.Namespace) -> Config:
    return load(args.config) if args.config else default_config()


def _with_db(config: Config, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    async def go() -> T:
        engine = storage_db.create_engine(config.bot.database)
        try:
            await storage_db.upgrade(engine)
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _known_pool(config: Config, pool: str) -> bool:
    if pool in config.coupons:
        return True
    known = ", ".join(config.coupons) or "none"
    problem = f"pool {pool!r} is not defined (known: {known}); add a [coupons.{pool}] table"
    print(f"{config.source}: coupons: {problem}", file=sys.stderr)
    return False


def cmd_import(args: argparse.Namespace) -> int:
    config = _config(args)
    if not _known_pool(config, args.pool):
        return 2
    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except OSError as err:
        print(f"{args.file}: cannot read: {err.strerror}", file=sys.stderr)
        return 2
    except UnicodeDecodeError:
        print(f"{args.file}: not UTF-8 text", file=sys.stderr)
        return 2
    now = datetime.now(UTC)
    report = _with_db(config, lambda db: coupon_ops.import_csv(db, config, args.pool, text, now, args.dry_run))
    for line in report.lines(args.file):
        print(line, file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 2


def cmd_export(args: argparse.Namespace) -> int:
    config = _config(args)
    now = datetime.now(UTC)
    text = _with_db(config, lambda db: coupon_ops.export_csv(db, now, args.pool, args.all))
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"{args.out}: {text.count(chr(10)) - 1} coupon(s) written")
    else:
        sys.stdout.write(text)
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    config = _config(args)
    if not _known_pool(config, args.pool):
        return 2
    if not 1 <= args.count <= 1_000_000:
        print("hearth: COUNT must be between 1 and 1000000", file=sys.stderr)
        return 2
    now = datetime.now(UTC)
    made = _with_db(config, lambda db: coupon_ops.generate(db, config, args.pool, args.count, now))
    print(f"pool {args.pool}: {made} code(s) generated")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    config = _config(args)
    now = datetime.now(UTC)
    for line in _with_db(config, lambda db: coupon_ops.status(db, config, now)):
        print(line)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``hearth coupons ...`` on the main parser's subcommands."""
    p = sub.add_parser("coupons", help="coupon pools: import, export, generate, status")
    csub = p.add_subparsers(dest="coupons_command", required=True)
    imp = csub.add_parser("import", help="add codes from a CSV file (all or nothing)")
    imp.add_argument("pool")
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true", help="check the file, import nothing")
    imp.set_defaults(func=cmd_import)
    exp = csub.add_parser("export", help="CSV of given, redeemed, expired and voided coupons")
    exp.add_argument("--pool")
    exp.add_argument("--all", action="store_true", help="include codes not given out yet")
    exp.add_argument("--out", "-o", help="write to this file instead of standard output")
    exp.set_defaults(func=cmd_export)
    gen = csub.add_parser("generate", help="add COUNT random codes (>= 64 bits each) to a pool")
    gen.add_argument("pool")
    gen.add_argument("count", type=int)
    gen.set_defaults(func=cmd_generate)
    st = csub.add_parser("status", help="per pool: available, given, redeemed, expired, owed")
    st.set_defaults(func=cmd_status)
    for parser in (imp, exp, gen, st):
        parser.add_argument("--config", "-c")
