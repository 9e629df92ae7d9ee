"""Scheduled announcements: post a message to each group on a cron schedule (group timezone)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from bot.actions import SendMessage
from bot.config_types import Cron, Duration, Language, template_checker
from bot.context import Context
from bot.events import EventKind
from bot.i18n import render
from campaigns.base import Campaign, CampaignConfig, ScheduleSpec, register

PLACEHOLDERS = frozenset({"group", "date"})
Template = Annotated[str, Field(min_length=1, max_length=4000), template_checker(PLACEHOLDERS)]


class AnnouncementConfig(CampaignConfig):
    type: Literal["announcement"]
    schedule: Cron
    text: Template
    texts: dict[Language, Template] = {}  # per-language variants; `text` is the fallback
    delete_after: Duration | None = None


@register
class AnnouncementCampaign(Campaign):
    type = "announcement"
    config_model = AnnouncementConfig
    config: AnnouncementConfig

    def schedules(self) -> list[ScheduleSpec]:
        return [ScheduleSpec(self.config.schedule)]

    async def handle(self, ctx: Context) -> None:
        event = ctx.event
        if event.kind is not EventKind.TIMER_FIRED or event.timer != self.name or ctx.chat_key is None:
            return
        template = self.config.texts.get(ctx.language, self.config.text)  # type: ignore[call-overload]
        text = render(template, {"group": ctx.group_title or ctx.chat_key, "date": ctx.local_day().isoformat()})
        after = self.config.delete_after.total_seconds() if self.config.delete_after else None
        ctx.emit(SendMessage(ctx.chat_key, text, delete_after=after, broadcast=True))
