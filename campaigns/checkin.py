"""Daily check-in (签到 / 打卡): once per member per group-local day, streaks, rewards.

The day boundary is midnight in the group's timezone (DST-safe: days are calendar dates in
that zone, never 24-hour spans). A streak continues while no more than ``grace_days`` days
were missed; ``streak_rewards`` pay a bonus on reaching N days (or every N days with
``repeat``). ``/me`` shows points and streaks, ``/top`` the group's leaderboard.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Literal

from pydantic import Field

from bot import i18n
from bot.config_types import Alias, Points, Strict
from bot.context import Context
from campaigns.base import Campaign, CampaignConfig, CommandSpec, register
from storage import repo, streaks


class StreakReward(Strict):
    days: int = Field(ge=1, le=3650)
    points: Points = 0
    repeat: bool = False  # pay again every `days` days of the same streak


class CheckinConfig(CampaignConfig):
    type: Literal["checkin"]
    aliases: list[Alias] = []  # each checked alone, so an error names the element
    points: Points = 10
    grace_days: int = Field(default=0, ge=0, le=30)
    streak_rewards: list[StreakReward] = []
    leaderboard_size: int = Field(default=10, ge=1, le=50)


def next_midnight(day: date, tz: object) -> datetime:
    """The start of the day after ``day`` in ``tz`` (an aware datetime)."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)  # type: ignore[arg-type]


@register
class CheckinCampaign(Campaign):
    type = "checkin"
    config_model = CheckinConfig
    config: CheckinConfig

    def commands(self) -> list[CommandSpec]:
        return [
            CommandSpec("checkin", "cmd.checkin", "/checkin"),
            CommandSpec("me", "cmd.me", "/me", private=True),
            CommandSpec("top", "cmd.top", "/top"),
            CommandSpec("leaderboard", "cmd.top", "/leaderboard"),  # the name admins look for
        ]

    def aliases(self) -> dict[str, str]:
        return {alias: "checkin" for alias in self.config.aliases}

    async def handle(self, ctx: Context) -> None:
        command = ctx.command
        if command is None or ctx.member_key is None:
            return
        if ctx.chat_key is None or (ctx.event.chat and ctx.event.chat.type != "group"):
            ctx.reply(ctx.t("checkin.group_only"))
            return
        if command.name == "checkin":
            await self.check_in(ctx)
        elif command.name == "me":
            await self.show_me(ctx)
        elif command.name in ("top", "leaderboard"):
            await self.show_top(ctx)

    def _streak_on(self, day: date, prev_day: date, prev_streak: int) -> int:
        """The streak a check-in on ``day`` makes after one on ``prev_day`` (``grace_days`` missed days forgiven)."""
        return prev_streak + 1 if (day - prev_day).days <= 1 + self.config.grace_days else 1

    def _since(self, day: date) -> date:
        """A check-in before this day neither blocks one on ``day`` nor continues its streak."""
        return day - timedelta(days=1 + self.config.grace_days)

    async def prefetch(self, contexts: Sequence[Context]) -> None:
        """Read the state a batch's check-ins and /me need in a few queries, not per event."""
        pairs: set[tuple[str, str]] = set()
        asked: set[tuple[str, str]] = set()
        days: list[date] = []
        for ctx in contexts:
            name = ctx.command.name if ctx.command else None
            chat, member = ctx.chat_key, ctx.member_key
            if name in ("checkin", "me") and chat and member:
                pairs.add((chat, member))
                days.append(ctx.local_day())
                if name == "me":
                    asked.add((chat, member))
        if not pairs:
            return
        conn = contexts[0].conn
        await repo.prefetch_checkins(conn, self.name, pairs, self._since(min(days)))
        await repo.prefetch_points(conn, ((member, chat) for chat, member in pairs))
        await repo.prefetch_best_streaks(conn, self.name, asked)

    async def check_in(self, ctx: Context) -> None:
        chat, member = ctx.chat_key, ctx.member_key
        assert chat and member
        day = ctx.local_day()
        last = await repo.last_checkin(ctx.conn, self.name, chat, member, self._since(day))
        if last is not None and last.day >= day:
            wait = (next_midnight(day, ctx.timezone) - ctx.event.at).total_seconds()
            ctx.reply(ctx.t("checkin.already", name=ctx.member_name, wait=i18n.duration(ctx.language, wait)))
            return
        streak = self._streak_on(day, last.day, last.streak) if last else 1
        await repo.add_checkin(
            ctx.conn,
            campaign=self.name,
            chat=chat,
            member=member,
            day=day,
            at=ctx.event.at,
            streak=streak,
            event_ref=ctx.event_ref,
        )
        await ctx.award(self.config.points, "checkin")
        bonus_lines = []
        for reward in self.config.streak_rewards:
            hit = streak % reward.days == 0 if reward.repeat else streak == reward.days
            if hit and reward.points:
                await ctx.award(reward.points, f"streak_{reward.days}")
                bonus_lines.append(ctx.t("checkin.reward", days=streak, points=reward.points))
        total = await repo.points_of(ctx.conn, member, chat)
        text = ctx.t("checkin.ok", name=ctx.member_name, points=self.config.points, streak=streak, total=total)
        ctx.reply("\n".join([text, *bonus_lines]))

    async def current_streak(self, ctx: Context) -> int:
        assert ctx.chat_key and ctx.member_key
        day = ctx.local_day()
        last = await repo.last_checkin(ctx.conn, self.name, ctx.chat_key, ctx.member_key, self._since(day))
        if last is None or (day - last.day).days > 1 + self.config.grace_days:
            return 0
        return last.streak

    async def show_me(self, ctx: Context) -> None:
        assert ctx.chat_key and ctx.member_key
        points = await repo.points_of(ctx.conn, ctx.member_key, ctx.chat_key)
        best = await repo.best_streak(ctx.conn, self.name, ctx.chat_key, ctx.member_key)
        streak = await self.current_streak(ctx)
        ctx.reply(ctx.t("checkin.me", name=ctx.member_name, points=points, streak=streak, best=best))

    async def show_top(self, ctx: Context) -> None:
        assert ctx.chat_key
        rows = await repo.leaderboard(ctx.conn, ctx.chat_key, self.config.leaderboard_size)
        if not rows:
            ctx.reply(ctx.t("checkin.top.empty"))
            return
        lines = [ctx.t("checkin.top.header")]
        lines += [ctx.t("checkin.top.row", rank=i, name=r.name, points=r.points) for i, r in enumerate(rows, 1)]
        ctx.reply("\n".join(lines))

    async def repair(self, ctx: Context, member: str, day: date) -> int:
        """Restore ``day``'s check-in that an outage prevented, re-chaining the streaks after it.

        Pays the day's points (not streak bonuses, which are never paid twice), names the admin's
        event in the check-in and ledger rows, and returns the member's latest streak. Raises
        ``ValueError`` when the member already checked in that day.
        """
        assert ctx.chat_key
        chat = ctx.chat_key
        if any(r.day == day for r in await streaks.from_day(ctx.conn, self.name, chat, member, day)):
            raise ValueError("already checked in that day")
        prev = await streaks.before(ctx.conn, self.name, chat, member, day)
        streak = self._streak_on(day, prev.day, prev.streak) if prev else 1
        await repo.add_checkin(
            ctx.conn,
            campaign=self.name,
            chat=chat,
            member=member,
            day=day,
            at=ctx.event.at,
            streak=streak,
            event_ref=ctx.event_ref,
        )
        await repo.add_points(
            ctx.conn,
            member=member,
            chat=chat,
            campaign=self.name,
            points=self.config.points,
            reason="checkin_repair",
            event_ref=ctx.event_ref,
            at=ctx.event.at,
        )
        last_day, last = day, streak
        for row in await streaks.from_day(ctx.conn, self.name, chat, member, day + timedelta(days=1)):
            chained = self._streak_on(row.day, last_day, last)
            if chained != row.streak:
                await streaks.set_streak(ctx.conn, row.id, chained)
            last_day, last = row.day, chained
        return last
