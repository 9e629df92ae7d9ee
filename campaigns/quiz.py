"""Quizzes (``type = "quiz"``): questions in the chat, on a schedule or started by an admin.

A run asks ``per_run`` questions from the bank (none repeats in a group until the bank is
used up), one at a time: each has a time limit, with its hint posted at half time. Scoring
``first``: the first correct answer wins the question and closes it. Scoring ``all``:
everyone correct within the time scores, plus a speed bonus that shrinks to zero over the
time limit. Multiple-choice questions take one answer per member, by button where the
platform has buttons and by number ("2") everywhere. Edited messages never count.

Commands (shared by every quiz campaign of a group): ``/quiz top [season]`` for everyone,
``/quiz start NAME`` and ``/quiz stop`` for admins. The question flow lives in
:mod:`campaigns.quiz_run`, banks in :mod:`campaigns.quiz_bank`, matching in
:mod:`campaigns.answer_match`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, WrapValidator, field_validator

from bot.config_errors import ConfigError, Problem
from bot.config_types import Cron, Duration, Points, Strict, at_least
from bot.context import Context
from bot.events import EventKind
from campaigns.base import Campaign, CampaignConfig, CommandSpec, ScheduleSpec, register
from campaigns.quiz_bank import Question, bank_path, check_inline, read_bank
from campaigns.quiz_run import QuizFlow
from storage import quiz_repo

if TYPE_CHECKING:
    from bot.config import Config

TOP_USAGE = "/quiz top [NAME] [season]"


class Prize(Strict):
    rank: int = Field(ge=1, le=100)
    points: Points = 0
    coupon: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,60}$")] | None = None  # a [coupons.<pool>]


class QuizConfig(CampaignConfig):
    type: Literal["quiz"]
    questions: Annotated[list[Question], WrapValidator(check_inline)]  # or a bank file path
    schedule: Cron | None = None
    per_run: int = Field(default=5, ge=1, le=100)
    time_limit: Annotated[Duration, at_least(timedelta(seconds=5))] = timedelta(seconds=60)
    gap: Duration = timedelta(seconds=5)
    scoring: Literal["first", "all"] = "first"
    points: Points = 10
    speed_bonus: Points = 0
    attempts: int = Field(default=3, ge=0, le=100)  # free-answer guesses per member and question; 0 = any
    typos: int = Field(default=0, ge=0, le=5)
    fold_accents: bool = True
    shuffle: bool = True
    season: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$")] = "month"
    leaderboard_size: int = Field(default=10, ge=1, le=50)
    prizes: list[Prize] = []

    @field_validator("time_limit")
    @classmethod
    def _limit(cls, value: timedelta) -> timedelta:
        if value > timedelta(hours=1):
            raise ValueError("must be at most 1h")
        return value

    @field_validator("gap")
    @classmethod
    def _gap(cls, value: timedelta) -> timedelta:
        if value > timedelta(minutes=10):
            raise ValueError("must be at most 10m")
        return value

    @field_validator("prizes")
    @classmethod
    def _prizes(cls, value: list[Prize]) -> list[Prize]:
        ranks = [p.rank for p in value]
        if len(set(ranks)) != len(ranks):
            raise ValueError("each rank may have one prize")
        for prize in value:
            if not prize.points and prize.coupon is None:
                raise ValueError(f"the prize for rank {prize.rank} gives nothing; set points or coupon")
        return value


def season_of(setting: str, day: date) -> str:
    """The season label of ``day``: by calendar month, quarter or year, or a fixed label."""
    if setting == "month":
        return f"{day:%Y-%m}"
    if setting == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if setting == "year":
        return str(day.year)
    return setting


@register
class QuizCampaign(QuizFlow, Campaign):
    type = "quiz"
    config_model = QuizConfig
    config: QuizConfig

    def __init__(self, name: str, config: QuizConfig) -> None:
        super().__init__(name, config)
        self.peers: list[QuizCampaign] = [self]
        self.bank: dict[str, Question] = {}
        self.order: list[str] = []
        self.pools: dict[str, object] = {}
        if not isinstance(config.questions, str):
            self._use(config.questions)

    def _use(self, questions: Sequence[Question]) -> None:
        self.bank = {q.key: q for q in questions}
        self.order = [q.key for q in questions]

    # --- setup and checks -----------------------------------------------------------------

    def setup(self, config: Config, campaigns: Sequence[Campaign]) -> None:
        self.peers = [c for c in campaigns if isinstance(c, QuizCampaign)]
        self.pools = dict(getattr(config, "coupons", None) or {})
        ref = self.config.questions
        if isinstance(ref, str):
            path = bank_path(config.source, ref)
            try:
                questions, problems = read_bank(path, str(path))
            except OSError as err:
                problem = Problem(config.source, None, f"campaigns.{self.name}.questions", f"cannot read {ref}: {err}")
                raise ConfigError([problem]) from None
            if problems:
                raise ConfigError(problems)
            self._use(questions)

    @classmethod
    def config_problems(cls, name: str, config: Config) -> Sequence[object]:
        quiz = config.campaigns[name]
        found: list[object] = []
        pools = getattr(config, "coupons", None)
        for i, prize in enumerate(quiz.prizes):
            if prize.coupon is not None and (pools is None or prize.coupon not in pools):
                where = ("campaigns", name, "prizes", i, "coupon")
                found.append((where, f"no coupon pool {prize.coupon!r}; add [coupons.{prize.coupon}]"))
        if isinstance(quiz.questions, str):
            path = bank_path(config.source, quiz.questions)
            try:
                found += read_bank(path, str(path))[1]
            except OSError as err:
                found.append((("campaigns", name, "questions"), f"cannot read {quiz.questions}: {err.strerror}"))
        return found

    # --- what the engine asks -------------------------------------------------------------

    def commands(self) -> list[CommandSpec]:
        return [  # the member's spec last: a gate that reads one spec per command sees it
            CommandSpec("quiz", "quiz.cmd.start", "/quiz start NAME", admin=True, subcommands=("start",), shared=True),
            CommandSpec("quiz", "quiz.cmd.stop", "/quiz stop", admin=True, subcommands=("stop",), shared=True),
            CommandSpec("quiz", "quiz.cmd.top", "/quiz top [NAME] [season]", subcommands=("top",), shared=True),
        ]

    def schedules(self) -> list[ScheduleSpec]:
        return [ScheduleSpec(self.config.schedule)] if self.config.schedule else []

    async def handle(self, ctx: Context) -> None:
        event = ctx.event
        if ctx.chat_key is None or (event.chat is not None and event.chat.type != "group"):
            return  # quizzes and feedback rounds happen in groups
        if event.kind is EventKind.TIMER_FIRED:
            if event.data is None:
                await self.start(ctx, by=None)
            else:
                await self.on_timer(ctx)
        elif ctx.command is not None:
            if ctx.command.name == "quiz":
                await self.on_command(ctx)
        elif event.kind is EventKind.BUTTON_CLICKED:
            await self.on_button(ctx)
        elif event.kind is EventKind.MESSAGE_CREATED and not event.edited:
            await self.on_message(ctx)

    # --- commands -------------------------------------------------------------------------

    def live_peers(self, ctx: Context) -> list[QuizCampaign]:
        """The quiz campaigns the engine calls for this event, in the order it calls them."""
        return [p for p in self.peers if p.applies_to(ctx.chat_key) and p.active_at(ctx.event.at)]

    async def running_here(self, ctx: Context) -> quiz_repo.Run | None:
        """The run going on in the chat. A run whose quiz can no longer finish it (switched
        off or gone from the config: its timers will not come) is closed on the way."""
        assert ctx.chat_key is not None
        run = await quiz_repo.running(ctx.conn, ctx.chat_key)
        if run is not None and not any(p.name == run.campaign and p.config.enabled for p in self.peers):
            await quiz_repo.change(ctx.conn, run.id, status="stopped", phase="done", ended_at=ctx.now)
            return None
        return run

    async def on_command(self, ctx: Context) -> None:
        assert ctx.command is not None and ctx.chat_key is not None
        args = ctx.command.args
        sub = args[0].lower() if args else ""
        peers = self.live_peers(ctx)
        leader = bool(peers) and peers[0] is self  # answers for all of them where one answer is due
        if sub == "top":
            rest = list(args[1:])
            named = next((p for p in peers if rest and p.name.casefold() == rest[0].casefold()), None)
            if named is not None:  # one quiz's leaderboard, else all the group's quizzes together
                rest.pop(0)
            if leader and len(rest) > 1:  # a season is one word: "2026-05", "2026-Q2", "spring"
                ctx.reply(ctx.t("usage", usage=TOP_USAGE))
            elif leader:
                await self.show_top(ctx, [p.name for p in peers] if named is None else [named.name], rest, named)
        elif sub in ("start", "stop") and not ctx.is_admin:
            if leader:
                ctx.reply(ctx.t("admin.only"))
        elif sub == "start":
            wanted = args[1] if len(args) > 1 else (peers[0].name if len(peers) == 1 else "")
            target = next((p for p in peers if p.name.casefold() == wanted.casefold()), None)
            if target is self:
                await self.start(ctx, by=ctx.member_key)
            elif target is None and leader:
                if wanted:
                    ctx.reply(ctx.t("quiz.unknown", name=wanted, known=", ".join(p.name for p in peers)))
                else:
                    ctx.reply(ctx.t("usage", usage="/quiz start " + " | ".join(p.name for p in peers)))
        elif sub == "stop":
            run = await self.running_here(ctx)
            if run is not None and run.campaign == self.name:
                await self.stop(ctx, run)
            elif leader and (run is None or run.campaign not in {p.name for p in peers}):
                ctx.reply(ctx.t("quiz.none_running"))
        elif leader:
            usage = TOP_USAGE + (" · /quiz start NAME · /quiz stop" if ctx.is_admin else "")
            ctx.reply(ctx.t("usage", usage=usage))

    async def show_top(self, ctx: Context, campaigns: list[str], season: list[str], quiz: QuizCampaign | None) -> None:
        """The season's standings: of one quiz, or of all the group's quizzes together."""
        assert ctx.chat_key is not None
        c = (quiz or self).config
        label = (season[0] if season else season_of(c.season, ctx.local_day()))[:40]
        rows = await quiz_repo.season_scores(ctx.conn, ctx.chat_key, campaigns, label, c.leaderboard_size)
        one = "_one" if quiz is not None else ""
        name = quiz.name if quiz is not None else ""
        if not rows:
            ctx.reply(ctx.t(f"quiz.top.empty{one}", season=label, quiz=name))
            return
        lines = [ctx.t(f"quiz.top.header{one}", season=label, quiz=name)]
        lines += [ctx.t("quiz.rank", rank=i, name=r.name, points=r.points) for i, r in enumerate(rows, 1)]
        ctx.reply("\n".join(lines))

    # --- starting -------------------------------------------------------------------------

    async def start(self, ctx: Context, by: str | None) -> None:
        """Start a run in the event's chat, unless a quiz is already running there."""
        assert ctx.chat_key is not None
        busy = await self.running_here(ctx)
        if busy is not None:
            if by is not None:
                ctx.reply(ctx.t("quiz.busy", name=busy.campaign))
            return
        plan = await self.plan(ctx)
        if not plan:
            return
        season = season_of(self.config.season, ctx.local_day(ctx.now))
        run_id = await quiz_repo.create(
            ctx.conn, campaign=self.name, chat=ctx.chat_key, season=season, plan=plan, at=ctx.now, by=by
        )
        rules = ctx.t(f"quiz.rules.{self.config.scoring}")
        seconds = int(self.config.time_limit.total_seconds())
        self.post(ctx, ctx.t("quiz.intro", name=self.name, count=len(plan), seconds=seconds, rules=rules))
        run = await quiz_repo.get(ctx.conn, run_id)
        assert run is not None
        await self.ask(ctx, run, 0)

    async def plan(self, ctx: Context) -> list[tuple[str, int]]:
        """The questions of a new run: unasked ones of the current cycle first, then a new cycle."""
        assert ctx.chat_key is not None
        cycle, asked = await quiz_repo.history(ctx.conn, self.name, ctx.chat_key)
        rng = random.Random(f"{self.name}:{ctx.chat_key}:{ctx.event_ref}")  # replays plan alike
        fresh = [k for k in self.order if k not in asked]
        if self.config.shuffle:
            rng.shuffle(fresh)
        plan = [(k, cycle) for k in fresh[: self.config.per_run]]
        if len(plan) < self.config.per_run:
            taken = {k for k, _ in plan}
            more = [k for k in self.order if k not in taken]
            if self.config.shuffle:
                rng.shuffle(more)
            plan += [(k, cycle + 1) for k in more[: self.config.per_run - len(plan)]]
        return plan
