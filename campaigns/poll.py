"""Polls (``type = "poll"``): a question with options, opened on a schedule, results at close.

The poll takes the best form the platform offers: its own native poll where it has
``polls`` (votes arrive as ``poll.answered``), buttons where it has ``buttons``, and
numbered replies ("2") everywhere else. One vote per member; with ``changeable = true`` a
member may change (or, on a native poll, retract) it until the poll closes. It closes after
``duration`` or at the next ``close_schedule`` fire, and the results are posted then.

Native polls: an adapter with the ``polls`` feature returns the platform's poll id as the
``message_id`` of the ``SendPoll`` it performed and reports votes with that ``poll_id``; the
poll is found through the outbox row of that send.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator

from bot.actions import AnswerButton, SendMessage, SendPoll
from bot.config_types import Cron, Duration, at_least
from bot.context import Context
from bot.events import EventKind
from campaigns.answer_match import normalize
from campaigns.base import Campaign, CampaignConfig, ScheduleSpec, register
from campaigns.choices import has_buttons, numbered, pick
from storage import poll_repo, quiz_repo
from storage.poll_repo import Run

if TYPE_CHECKING:
    from campaigns.feedback import FeedbackCampaign

POLLS = "polls"
BAR = 10


class PollConfig(CampaignConfig):
    type: Literal["poll"]
    schedule: Cron
    question: Annotated[str, Field(min_length=1, max_length=300)]
    options: list[Annotated[str, Field(min_length=1, max_length=100)]]
    duration: Annotated[Duration, at_least(timedelta(minutes=1))] | None = None
    close_schedule: Cron | None = None
    changeable: bool = False
    native: bool = True  # use the platform's own polls where it has them

    @field_validator("options")
    @classmethod
    def _options(cls, value: list[str]) -> list[str]:
        if not 2 <= len(value) <= 10:
            raise ValueError("give 2 to 10 options")
        seen: set[str] = set()
        for option in value:
            if normalize(option) in seen:
                raise ValueError(f"option {option!r} is listed twice")
            seen.add(normalize(option))
        return value


def closing_time(duration: timedelta | None, close_schedule: str | None, timezone: str, now: datetime) -> datetime:
    """When a round opened ``now`` closes: after ``duration`` or at the next ``close_schedule``
    fire, whichever comes first; in a day when neither is set."""
    ends = [now + duration] if duration else []
    if close_schedule:
        from bot.scheduler import next_fires

        ends += next_fires(close_schedule, timezone, now + timedelta(seconds=1), 1)
    return min(ends) if ends else now + timedelta(days=1)


async def on_round_timer(campaign: PollCampaign | FeedbackCampaign, ctx: Context) -> None:
    """A round's timers: the schedule's fire opens a round, a ``close`` timer closes the one it names."""
    data = ctx.event.data
    if data is None:
        await campaign.open(ctx)
    elif data.get("what") == "close":
        run = await poll_repo.get(ctx.conn, int(data.get("run", 0)))
        if run is not None and run.campaign == campaign.name:
            await campaign.close(ctx, run)


def results(ctx: Context, run: Run, counts: dict[int, int]) -> str:
    """The results message: each option with its votes, share and a bar, most votes first."""
    total = sum(counts.values())
    lines = [ctx.t("poll.results", question=run.question)]
    order = sorted(range(len(run.options)), key=lambda i: (-counts.get(i, 0), i))
    for i in order:
        votes = counts.get(i, 0)
        share = round(100 * votes / total) if total else 0
        bar = "█" * round(BAR * votes / total) if total else ""
        lines.append(ctx.t("poll.result_row", option=run.options[i], votes=votes, share=share, bar=bar).rstrip())
    lines.append(ctx.t("poll.total", votes=total))
    return "\n".join(lines)


@register
class PollCampaign(Campaign):
    type = "poll"
    config_model = PollConfig
    config: PollConfig

    def schedules(self) -> list[ScheduleSpec]:
        return [ScheduleSpec(self.config.schedule)]

    async def handle(self, ctx: Context) -> None:
        event = ctx.event
        if event.kind is EventKind.TIMER_FIRED:
            await on_round_timer(self, ctx)
        elif event.kind is EventKind.POLL_ANSWERED and event.poll_id:
            run = await poll_repo.by_native_poll(ctx.conn, event.platform, event.poll_id)
            if run is not None and run.campaign == self.name:
                option = event.option_ids[0] if event.option_ids else None
                await self.vote(ctx, run, option, "native")
        elif event.chat is not None and event.chat.type != "group":
            return  # votes by button or number happen in groups
        elif event.kind is EventKind.BUTTON_CLICKED:
            await self.on_button(ctx)
        elif event.kind is EventKind.MESSAGE_CREATED and not event.edited and ctx.command is None:
            await self.on_message(ctx)

    # --- opening and closing ----------------------------------------------------------------

    async def open(self, ctx: Context) -> None:
        chat = ctx.chat_key
        if chat is None:
            return
        for old in await poll_repo.open_runs(ctx.conn, chat, "poll"):
            if old.campaign == self.name:  # the next round begins: the last one closes first
                await self.close(ctx, old)
        c = self.config
        style = "native" if c.native and POLLS in ctx.features else "buttons" if has_buttons(ctx) else "numbers"
        closes = closing_time(c.duration, c.close_schedule, ctx.timezone.key, ctx.now)
        run_id = await poll_repo.create(
            ctx.conn,
            campaign=self.name,
            chat=chat,
            kind="poll",
            question=c.question,
            options=list(c.options),
            style=style,
            opened_at=ctx.now,
            closes_at=closes,
            open_ref=ctx.event_ref,
        )
        await ctx.set_timer(f"close:{run_id}", closes, {"run": run_id, "what": "close"})
        if style == "native":
            ctx.emit(SendPoll(chat, c.question, tuple(c.options), anonymous=False))
            return
        local = closes.astimezone(ctx.timezone).strftime("%Y-%m-%d %H:%M")
        lines = [ctx.t("poll.question", question=c.question)]
        options, buttons = numbered(ctx, c.options, "poll.option", f"poll:{run_id}")
        lines += [*options, ctx.t(f"poll.how.{style}", closes=local)]
        ctx.emit(SendMessage(chat, "\n".join(lines), buttons))

    async def close(self, ctx: Context, run: Run) -> None:
        if not await poll_repo.close(ctx.conn, run.id, ctx.now):
            return
        await ctx.cancel_timer(f"close:{run.id}")
        counts = await poll_repo.tally(ctx.conn, run.id)
        ctx.emit(SendMessage(run.chat, results(ctx, run, counts)))

    # --- votes ------------------------------------------------------------------------------

    async def on_button(self, ctx: Context) -> None:
        parts = (ctx.event.button_data or "").split(":")
        if len(parts) != 3 or parts[0] != "poll":
            return
        try:
            run_id, number = int(parts[1]), int(parts[2])
        except ValueError:
            return
        run = await poll_repo.get(ctx.conn, run_id)
        if run is None or run.campaign != self.name or run.chat != ctx.chat_key:
            return
        if not 1 <= number <= len(run.options):
            return
        await self.vote(ctx, run, number - 1, "button")

    async def on_message(self, ctx: Context) -> None:
        """A bare number (or an option's exact text) votes in the newest numbered poll of the chat."""
        chat = ctx.chat_key
        text = ctx.event.text.strip()
        if chat is None or not text or len(text) > 100:
            return
        runs = [r for r in await poll_repo.open_runs(ctx.conn, chat, "poll") if r.closes_at >= ctx.event.at]
        if not runs or runs[0].campaign != self.name or runs[0].style != "numbers":
            return
        option = pick(text, runs[0].options)
        if option is None or await quiz_repo.running(ctx.conn, chat) is not None:  # a quiz takes numbers first
            return
        await self.vote(ctx, runs[0], option, "text")

    async def vote(self, ctx: Context, run: Run, option: int | None, via: str) -> None:
        """One vote per member; changed (or, natively, retracted) only when ``changeable``."""
        member = ctx.member_key
        if member is None or run.status != "open" or ctx.event.at > run.closes_at:
            self._tell(ctx, via, "poll.closed")
            return
        if option is not None and not 0 <= option < len(run.options):
            return
        before = await poll_repo.vote_of(ctx.conn, run.id, member)
        at = ctx.event.at
        if option is None:  # a native poll's vote withdrawn
            if before is not None and self.config.changeable:
                await poll_repo.drop_vote(ctx.conn, run.id, member)
            return
        choice = run.options[option]
        if before is None:
            await poll_repo.add_vote(ctx.conn, run.id, member, option, at)
            self._tell(ctx, via, "poll.voted", option=choice)
        elif before == option:
            self._tell(ctx, via, "poll.same", option=choice)
        elif self.config.changeable:
            await poll_repo.change_vote(ctx.conn, run.id, member, option, at)
            self._tell(ctx, via, "poll.changed", option=choice)
        else:
            self._tell(ctx, via, "poll.final", option=run.options[before])

    def _tell(self, ctx: Context, via: str, key: str, **values: object) -> None:
        """Acknowledge a vote: privately on a button, in the chat for a typed number."""
        text = ctx.t(key, name=ctx.member_name, **values)
        if via == "button" and ctx.event.callback_id:
            ctx.emit(AnswerButton(ctx.event.callback_id, text))
        elif via == "text":
            ctx.reply(text)
