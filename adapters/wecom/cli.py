"""``hearth wecom ...``: join ways, broadcasts, the welcome template and group figures.

* ``join-way create --campaign NAME --referrer MEMBER|LABEL [--group wecom:ID]... [--out FILE]``
  makes a QR join way for the campaign's WeCom groups, prints its URL and saves the PNG;
* ``join-way list`` / ``join-way delete STATE|CONFIG_ID`` / ``join-way prune`` (delete those
  of campaigns that ended, were disabled or are gone from the config);
* ``broadcasts``: staff-confirmed broadcasts and whether they were sent;
* ``welcome sync``: the group welcome template from each welcome campaign's text;
* ``groups``: group size, joins and leaves per day.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.base import PermanentError, TemporaryError
from adapters.wecom import welcome
from adapters.wecom.api import WeComClient
from adapters.wecom.broadcast import Broadcasts
from adapters.wecom.joinways import JoinWays, NoJoinWay, check_referrer, plan
from adapters.wecom.store import WeComStore
from storage import db as storage_db

Job = Callable[[Any, AsyncEngine, WeComClient, argparse.Namespace], Awaitable[int]]
STATUS = {"pending": "waiting for the owner", "sent": "sent", "not_sent": "not sent", "over_cap": "not queued (cap)"}


def _run(job: Job) -> Callable[[argparse.Namespace], int]:
    def command(args: argparse.Namespace) -> int:
        from bot.config import load

        config = load(args.config) if args.config else None
        settings = config.platforms.wecom if config is not None else None
        if settings is None:
            print("hearth wecom: the config has no [platforms.wecom] table (give --config)", file=sys.stderr)
            return 2
        return asyncio.run(_with(job, config, settings, args))

    return command


async def _with(job: Job, config: Any, settings: Any, args: argparse.Namespace) -> int:
    db = storage_db.create_engine(config.bot.database)
    client = WeComClient(settings.api_base, settings.corp_id, settings.secret.get_secret_value())
    try:
        await storage_db.upgrade(db)
        return await job(config, db, client, args)
    except (PermanentError, TemporaryError, ValueError) as err:
        print(f"hearth wecom: {err}", file=sys.stderr)
        return 1
    finally:
        await client.close()
        await db.dispose()


def _now() -> datetime:
    return datetime.now(UTC)


async def create(config: Any, db: AsyncEngine, client: WeComClient, args: argparse.Namespace) -> int:
    try:
        chats, ends = plan(config, args.campaign, _now(), args.group or ())
    except NoJoinWay as err:
        print(f"hearth wecom: {err}", file=sys.stderr)
        return 2
    referrer = check_referrer(args.referrer)
    way = await JoinWays(db, client).create(args.campaign, referrer, chats, _now(), ends)
    out = Path(args.out or f"joinway-{args.campaign}-{way.state}.png")
    if way.qr_code:
        png = await client.download(way.qr_code)
        await asyncio.to_thread(out.write_bytes, png)
    print(f"join way {way.state} for campaign {args.campaign}, referrer {referrer}")
    print(f"QR code: {way.qr_code or '(WeCom returned none)'}")
    if way.qr_code:
        print(f"saved: {out}")
    return 0


async def listing(config: Any, db: AsyncEngine, client: WeComClient, args: argparse.Namespace) -> int:
    ways = await JoinWays(db, client).all(include_deleted=args.all)
    if not ways:
        print("no join ways")
    for w in ways:
        gone = f", deleted {w.deleted_at:%Y-%m-%d}" if w.deleted_at else ""
        ends = f", ends {w.ends_at:%Y-%m-%d}" if w.ends_at else ""
        where = ",".join(w.chat_ids)
        print(f"{w.state}  {w.campaign}  referrer {w.referrer}  joins {w.joins}  groups {where}{ends}{gone}")
        print(f"    {w.qr_code}")
    return 0


async def delete(config: Any, db: AsyncEngine, client: WeComClient, args: argparse.Namespace) -> int:
    ways = JoinWays(db, client)
    way = await ways.find(args.ident)
    if way is None or way.deleted_at is not None:
        print(f"hearth wecom: no live join way {args.ident!r}", file=sys.stderr)
        return 1
    await ways.delete(way, _now())
    print(f"deleted join way {way.state} ({way.campaign}, referrer {way.referrer})")
    return 0


def ended_campaigns(config: Any, now: datetime, names: set[str]) -> frozenset[str]:
    """Of ``names``, the campaigns that ended, are disabled or no longer configured."""
    out = set()
    for name in names:
        c = config.campaigns.get(name)
        if c is None or not c.enabled or (c.ends is not None and c.ends <= now):
            out.add(name)
    return frozenset(out)


async def prune(config: Any, db: AsyncEngine, client: WeComClient, args: argparse.Namespace) -> int:
    ways = JoinWays(db, client)
    now = _now()
    ended = ended_campaigns(config, now, {w.campaign for w in await ways.all()})
    gone = await ways.prune(now, ended)
    for w in gone:
        print(f"deleted join way {w.state} ({w.campaign}, referrer {w.referrer})")
    print(f"{len(gone)} join way(s) of ended campaigns deleted")
    return 0


async def broadcasts(config: Any, db: AsyncEngine, client: WeComClient, args: argparse.Namespace) -> int:
    rows = await Broadcasts(db, client, WeComStore(db), [], None).recent(args.limit)
    if not rows:
        print("no WeCom broadcasts yet")
    for b in rows:
        text = b.text.replace("\n", " ")
        print(f"{b.created_at:%Y-%m-%d %H:%M} wecom:{b.chat_id} by {b.sender or '?'}: {STATUS.get(b.status, b.status)}")
        print(f"    {text[:70]}{'…' if len(text) > 70 else ''}")
        if b.status in ("over_cap", "not_sent"):
            print(f"    {b.detail}")
    return 0


async def welcome_sync(config: Any, db: AsyncEngine, client: WeComClient, args: argparse.Namespace) -> int:
    done = await welcome.sync(db, client, config)
    if not done:
        print("no welcome campaign covers WeCom groups")
    for o in done:
        print(f"{o.campaign}: welcome template {o.template_id} {o.action}")
    if any(o.action == "created" for o in done):
        print("staff attach it in WeCom: 客户联系 → 入群欢迎语 (group welcome) of their customer groups")
    return 0


async def groups(config: Any, db: AsyncEngine, client: WeComClient, args: argparse.Namespace) -> int:
    rows = await WeComStore(db).days(_now() - timedelta(days=args.days))
    if not rows:
        print("no WeCom group figures yet (they are recorded by `hearth run`)")
    for chat, day, members, joins, leaves in rows:
        print(f"{day} wecom:{chat}  members {members}  joins {joins}  leaves {leaves}")
    return 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("wecom", help="WeCom customer groups: join ways, broadcasts, welcome template")
    wsub = p.add_subparsers(dest="wecom_command", required=True)
    jw = wsub.add_parser("join-way", help="QR join ways that attribute joins to a referrer")
    jsub = jw.add_subparsers(dest="join_way_command", required=True)
    c = jsub.add_parser("create", help="make a per-referrer QR code, print its URL and save the PNG")
    c.add_argument("--campaign", required=True)
    c.add_argument("--referrer", required=True, help="member key (wecom:wmXXXX) or a label (poster-shop1)")
    c.add_argument("--group", action="append", help="wecom:CHAT_ID (default: the campaign's wecom groups)")
    c.add_argument("--out", help="where to save the PNG")
    c.set_defaults(func=_run(create))
    ls = jsub.add_parser("list", help="join ways Hearth made, with their joins")
    ls.add_argument("--all", action="store_true", help="deleted ones too")
    ls.set_defaults(func=_run(listing))
    d = jsub.add_parser("delete", help="delete a join way (by state or config id)")
    d.add_argument("ident")
    d.set_defaults(func=_run(delete))
    pr = jsub.add_parser("prune", help="delete the join ways of ended campaigns")
    pr.set_defaults(func=_run(prune))
    b = wsub.add_parser("broadcasts", help="staff-confirmed broadcasts: pending, sent, not sent")
    b.add_argument("--limit", "-n", type=int, default=20)
    b.set_defaults(func=_run(broadcasts))
    w = wsub.add_parser("welcome", help="the group welcome template from welcome campaigns")
    wsub2 = w.add_subparsers(dest="welcome_command", required=True)
    ws = wsub2.add_parser("sync", help="create or update the template from the campaign's text")
    ws.set_defaults(func=_run(welcome_sync))
    g = wsub.add_parser("groups", help="group size, joins and leaves per day")
    g.add_argument("--days", type=int, default=7)
    g.set_defaults(func=_run(groups))
    for parser in (c, ls, d, pr, b, ws, g):
        parser.add_argument("--config", "-c")
