"""``hearth feedback export NAME``: the answers a feedback campaign collected, as CSV.

Exit codes: 0 done, 2 nothing done because of a problem (printed as ``file: what``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.config import Config, default_config, load
from storage import db as storage_db


def _config(args: argparse.Namespace) -> Config:
    return load(args.config) if args.config else default_config()


def cmd_export(args: argparse.Namespace) -> int:
    from campaigns.feedback import export_csv

    config = _config(args)
    campaign = config.campaigns.get(args.name)
    if campaign is None or campaign.type != "feedback":
        known = ", ".join(n for n, c in config.campaigns.items() if c.type == "feedback") or "none"
        print(
            f"{config.source}: campaigns: no feedback campaign {args.name!r} (feedback campaigns: {known})",
            file=sys.stderr,
        )
        return 2

    async def go() -> tuple[str, int]:
        engine = storage_db.create_engine(config.bot.database)
        try:
            await storage_db.upgrade(engine)
            async with engine.connect() as conn:
                return await export_csv(conn, args.name)
        finally:
            await engine.dispose()

    text, count = asyncio.run(go())
    if args.output:
        try:  # with a byte-order mark, so spreadsheets read Chinese and Russian text right
            Path(args.output).write_text(text, encoding="utf-8-sig", newline="")
        except OSError as err:
            print(f"{args.output}: cannot write: {err.strerror}", file=sys.stderr)
            return 2
        print(f"exported {count} answer(s) of {args.name} to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    feedback = sub.add_parser("feedback", help="answers collected by feedback campaigns")
    commands = feedback.add_subparsers(dest="feedback_command", required=True)
    export = commands.add_parser("export", help="write every answer of a feedback campaign as CSV")
    export.add_argument("name", help="the feedback campaign's name")
    export.add_argument("--config", "-c")
    export.add_argument("--output", "-o", help="a file to write (default: standard output)")
    export.set_defaults(func=cmd_export)
