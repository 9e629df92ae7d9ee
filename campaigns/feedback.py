"""Feedback rounds (``type = "feedback"``): an open question, free-text answers, a CSV export.

A round opens on the schedule with the question. Members who want to answer opt in: they
press "Give feedback" (where the platform has buttons) or send ``/feedback`` and then write
their answer as their next message within ``answer_window``, or they send it at once as
``/feedback TEXT``. One answer per member and round (a new one replaces the last). The
round closes after ``duration`` or at the next ``close_schedule`` fire, with a thank-you;
``hearth feedback export NAME`` writes every answer as CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from bot.actions import AnswerButton, Button, DeleteMessage, SendMessage
from bot.config_types import Cron, Duration, at_least
from bot.context import Context
from bot.events import EventKind
from campaigns.base import Campaign, CampaignConfig, CommandSpec, ScheduleSpec, register
from campaigns.choices import has_buttons
from campaigns.poll import closing_time, on_round_timer
from storage import poll_repo
from storage.poll_repo import Run

if TYPE_CHECKING:
    from bot.config import Config
    from storage.tx import Conn

DELETE = "delete"
CSV_HEADER = ("round", "chat", "question", "opened_at", "member", "name", "answered_at", "answer")


class FeedbackConfig(CampaignConfig):
    type: Literal["feedback"]
    schedule: Cron
    question: Annotated[str, Field(min_length=1, max_length=1000)]
    duration: Annotated[Duration, at_least(timedelta(minutes=1))] | None = None
    close_schedule: Cron | None = None
    answer_window: Annotated[Duration, at_least(timedelta(minutes=1))] = timedelta(minutes=10)
    max_length: int = Field(default=2000, ge=10, le=4000)
    delete_answers: bool = False  # remove answers from the group once recorded (where the bot can delete)


@register
class FeedbackCampaign(Campaign):
    type = "feedback"
    config_model = FeedbackConfig
    config: FeedbackConfig

    def __init__(self, name: str, config: FeedbackConfig) -> None:
        super().__init__(name, config)
        self.peers: list[FeedbackCampaign] = [self]

    def setup(self, config: Config, campaigns: Sequence[Campaign]) -> None:
        self.peers = [c for c in campaigns if isinstance(c, FeedbackCampaign)]

    def commands(self) -> list[CommandSpec]:
        return [CommandSpec("feedback", "feedback.cmd", "/feedback [TEXT]", shared=True)]

    def schedules(self) -> list[ScheduleSpec]:
        return [ScheduleSpec(self.config.schedule)]

    async def handle(self, ctx: Context) -> None:
        event = ctx.event
        if ctx.chat_key is None or (event.chat is not None and event.chat.type != "group"):
            return  # feedback rounds happen in groups
        if event.kind is EventKind.TIMER_FIRED:
            await on_round_timer(self, ctx)
        elif ctx.command is not None and ctx.command.name == "feedback":
            await self.on_command(ctx)
        elif event.kind is EventKind.BUTTON_CLICKED:
            await self.on_button(ctx)
        elif event.kind is EventKind.MESSAGE_CREATED and not event.edited:
            await self.on_message(ctx)

    # --- rounds -----------------------------------------------------------------------------

    async def open(self, ctx: Context) -> None:
        assert ctx.chat_key is not None
        for old in await poll_repo.open_runs(ctx.conn, ctx.chat_key, "feedback"):
            if old.campaign == self.name:
                await self.close(ctx, old)
        c = self.config
        closes = closing_time(c.duration, c.close_schedule, ctx.timezone.key, ctx.now)
        style = "buttons" if has_buttons(ctx) else "text"
        run_id = await poll_repo.create(
            ctx.conn,
            campaign=self.name,
            chat=ctx.chat_key,
            kind="feedback",
            question=c.question,
            options=[],
            style=style,
            opened_at=ctx.now,
            closes_at=closes,
            open_ref=ctx.event_ref,
        )
        await ctx.set_timer(f"close:{run_id}", closes, {"run": run_id, "what": "close"})
        local = closes.astimezone(ctx.timezone).strftime("%Y-%m-%d %H:%M")
        lines = [ctx.t("feedback.question", question=c.question), ctx.t(f"feedback.how.{style}", closes=local)]
        buttons = ((Button(ctx.t("feedback.button"), f"fb:{run_id}"),),) if style == "buttons" else ()
        ctx.emit(SendMessage(ctx.chat_key, "\n".join(lines), buttons))

    async def close(self, ctx: Context, run: Run) -> None:
        if not await poll_repo.close(ctx.conn, run.id, ctx.now):
            return
        await ctx.cancel_timer(f"close:{run.id}")
        count = await poll_repo.feedback_count(ctx.conn, run.id)
        ctx.emit(SendMessage(run.chat, ctx.t("feedback.closed", question=run.question, count=count)))

    async def _mine(self, ctx: Context) -> tuple[Run | None, bool]:
        """The open round a ``/feedback`` in this chat goes to, if it is this campaign's; and
        whether this campaign is the one to answer when there is none (the first live one)."""
        assert ctx.chat_key is not None
        live = [p.name for p in self.peers if p.applies_to(ctx.chat_key) and p.active_at(ctx.event.at)]
        at = ctx.event.at
        runs = [
            r
            for r in await poll_repo.open_runs(ctx.conn, ctx.chat_key, "feedback")
            if r.campaign in live and r.closes_at >= at
        ]
        if runs:
            return (runs[0] if runs[0].campaign == self.name else None), False
        return None, bool(live) and live[0] == self.name

    # --- answers ----------------------------------------------------------------------------

    async def on_command(self, ctx: Context) -> None:
        assert ctx.command is not None
        run, answer_for_all = await self._mine(ctx)
        if run is None:
            if answer_for_all:
                ctx.reply(ctx.t("feedback.none_open"))
            return
        parts = ctx.event.text.strip().split(maxsplit=1)  # the whole text: command args are capped
        text = parts[1].strip() if len(parts) > 1 else ""
        if text:
            await self.record(ctx, run, text)
        else:
            await self.opt_in(ctx, run)
            ctx.reply(ctx.t("feedback.write_now", name=ctx.member_name, minutes=self._minutes()))

    async def on_button(self, ctx: Context) -> None:
        data = ctx.event.button_data or ""
        if not data.startswith("fb:") or not data[3:].isdigit():
            return
        run = await poll_repo.get(ctx.conn, int(data[3:]))
        if run is None or run.campaign != self.name or run.chat != ctx.chat_key:
            return
        callback = ctx.event.callback_id
        if run.status != "open":
            if callback:
                ctx.emit(AnswerButton(callback, ctx.t("feedback.none_open")))
            return
        await self.opt_in(ctx, run)
        if callback:
            ctx.emit(AnswerButton(callback, ctx.t("feedback.write_now", name=ctx.member_name, minutes=self._minutes())))

    async def on_message(self, ctx: Context) -> None:
        """The next message of a member who opted in is their answer."""
        assert ctx.chat_key is not None
        member = ctx.member_key
        text = ctx.event.text.strip()
        if member is None or not text:
            return
        runs = [r.id for r in await poll_repo.open_runs(ctx.conn, ctx.chat_key, "feedback") if r.campaign == self.name]
        if not runs:
            return
        run_id = await poll_repo.waiting(ctx.conn, runs, member, ctx.event.at)
        run = await poll_repo.get(ctx.conn, run_id) if run_id is not None else None
        if run is not None:
            await self.record(ctx, run, text)

    def _minutes(self) -> int:
        return max(1, int(self.config.answer_window.total_seconds() // 60))

    async def opt_in(self, ctx: Context, run: Run) -> None:
        assert ctx.member_key is not None
        before = await poll_repo.feedback_of(ctx.conn, run.id, ctx.member_key)
        await poll_repo.save_feedback(
            ctx.conn,
            run_id=run.id,
            member=ctx.member_key,
            name=ctx.member_name,
            text=None,
            waiting_until=ctx.event.at + self.config.answer_window,
            at=None,
            exists=before is not None,
        )

    async def record(self, ctx: Context, run: Run, text: str) -> None:
        if ctx.member_key is None:
            return
        if len(text) > self.config.max_length:
            ctx.reply(ctx.t("feedback.too_long", limit=self.config.max_length))
            return
        before = await poll_repo.feedback_of(ctx.conn, run.id, ctx.member_key)
        await poll_repo.save_feedback(
            ctx.conn,
            run_id=run.id,
            member=ctx.member_key,
            name=ctx.member_name,
            text=text,
            waiting_until=None,
            at=ctx.event.at,
            exists=before is not None,
        )
        key = "feedback.replaced" if before is not None and before.text else "feedback.thanks"
        ctx.reply(ctx.t(key, name=ctx.member_name))
        if self.config.delete_answers and DELETE in ctx.features and ctx.event.message_id and ctx.chat_key:
            ctx.emit(DeleteMessage(ctx.chat_key, ctx.event.message_id))


# --- export -------------------------------------------------------------------------------------


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: no formula from a member's answer."""
    text = "" if value is None else value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def export_csv(conn: Conn, campaign: str) -> tuple[str, int]:
    """Every answer of the feedback campaign as CSV text (header first), and how many."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    rows = await poll_repo.feedback_rows(conn, campaign)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue(), len(rows)
