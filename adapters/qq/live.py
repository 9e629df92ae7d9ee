"""``hearth check --live`` for QQ: what the database says about each group the bot has seen.

Per group: whether the bot is in it and whether its owner allows proactive messages (so
scheduled announcements can be posted there), from ``GROUP_ADD_ROBOT`` / ``GROUP_DEL_ROBOT`` /
``GROUP_MSG_RECEIVE`` / ``GROUP_MSG_REJECT`` and refusals by the platform; and who holds the
gateway connection.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.qq_models import QQGateway, QQGroup

_PROACTIVE = {
    True: "proactive messages allowed: scheduled announcements are posted",
    False: "proactive messages NOT allowed: scheduled announcements cannot be posted (recorded as undeliverable)",
    None: "proactive messages: not told yet (the first scheduled post will find out)",
}


async def live_lines(conn: AsyncConnection, app_id: str) -> list[str]:
    g = QQGroup.__table__.c
    rows = (
        await conn.execute(
            select(g.group_openid, g.present, g.proactive, g.changed_at)
            .where(g.self_id == app_id)
            .order_by(g.group_openid)
        )
    ).all()
    lines = [f"bot {app_id}: {len(rows)} group(s) seen"]
    for r in rows:
        where = "bot removed" if r.present is False else _PROACTIVE[r.proactive]
        lines.append(f"  qq:{r.group_openid}: {where} (since {r.changed_at:%Y-%m-%d %H:%M} UTC)")
    gw = QQGateway.__table__.c
    lease = (await conn.execute(select(gw.owner, gw.lease_until).where(gw.self_id == app_id))).first()
    if lease is not None:
        lines.append(f"gateway connection: held by {lease.owner} until {lease.lease_until:%Y-%m-%d %H:%M:%S} UTC")
    return lines
