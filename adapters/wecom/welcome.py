"""The group welcome template (入群欢迎语) made from a welcome campaign's text.

An app cannot post into a customer group, so on WeCom a welcome campaign's text becomes the
corp's group welcome template (``group_welcome_template/add``, later ``edit`` when the text
changed); staff attach it to their groups in the WeCom client, and WeCom greets each
newcomer with it. ``{name}`` becomes WeCom's ``%NICKNAME%`` (the newcomer's nickname);
``{group}`` the group's name when the campaign covers one synced group; ``{count}`` and
``{inviter}`` are not known to a template and are dropped. The template id and the text last
sent are kept in ``adapter_state`` (``wecom:welcome:<campaign>``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.wecom.api import WeComClient
from adapters.wecom.store import WeComStore
from bot import i18n
from storage.models import AdapterState
from storage.sql import upsert

state_t = AdapterState.__table__
NICKNAME = "%NICKNAME%"


@dataclass(frozen=True, slots=True)
class Outcome:
    campaign: str
    template_id: str
    action: str  # created, updated, unchanged


def wanted(config: Any) -> dict[str, tuple[str, list[str]]]:
    """campaign -> (template text in the bot's language, its wecom chat ids) for every enabled
    welcome campaign that covers WeCom groups."""
    out: dict[str, tuple[str, list[str]]] = {}
    language = config.bot.language
    for name, c in config.campaigns.items():
        if c.type != "welcome" or not c.enabled:
            continue
        groups = c.groups
        chats = [g.partition(":")[2] for g in groups or [] if g.startswith("wecom:")]
        if groups is not None and not chats:
            continue
        text = c.texts.get(language) or c.text or i18n.t(language, "welcome.default")
        out[name] = (text, chats)
    return out


def template_text(text: str, group: str) -> str:
    rendered = i18n.render(text, {"name": NICKNAME, "group": group, "count": "", "inviter": ""})
    return re.sub(r"[ \t]{2,}", " ", rendered).strip()[:4000]


async def _remembered(db: AsyncEngine, campaign: str) -> dict[str, str] | None:
    async with db.connect() as conn:
        q = select(state_t.c.value).where(state_t.c.key == f"wecom:welcome:{campaign}")
        value = (await conn.execute(q)).scalar_one_or_none()
    return json.loads(value) if value else None


async def sync(db: AsyncEngine, client: WeComClient, config: Any) -> list[Outcome]:
    """Create or update the welcome template of each welcome campaign on WeCom groups."""
    store = WeComStore(db)
    out: list[Outcome] = []
    for campaign, (text, chats) in wanted(config).items():
        info = await store.group(chats[0]) if len(chats) == 1 else None
        body = template_text(text, info[0] if info else config.bot.name)
        known = await _remembered(db, campaign)
        if known is not None and known.get("text") == body:
            out.append(Outcome(campaign, known["template_id"], "unchanged"))
            continue
        if known is not None:
            await client.edit_welcome(known["template_id"], body)
            template_id, action = known["template_id"], "updated"
        else:
            template_id, action = await client.add_welcome(body), "created"
        value = json.dumps({"template_id": template_id, "text": body}, ensure_ascii=False)
        async with db.begin() as conn:
            row = dict(key=f"wecom:welcome:{campaign}", value=value)
            await upsert(conn, state_t, [row], ["key"], {"value": value})
        out.append(Outcome(campaign, template_id, action))
    return out
