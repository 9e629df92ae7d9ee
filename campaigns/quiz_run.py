"""The question flow of a quiz run: ask, take answers, hint at half time, close, finish, prizes.

Timers drive the flow (``r{run}:q{n}:hint|end|ask``); every timer re-checks that the run
is still at that question, so a late or stale timer does nothing. Answers count only while
the question is open and only within its time limit (by the message's own time), edited
messages never; a member answers a multiple-choice question once, and guesses a free answer
at most ``attempts`` times.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.actions import AnswerButton, Buttons, SendDirect, SendMessage
from bot.context import Context
from campaigns.answer_match import matches
from campaigns.choices import has_buttons, numbered, pick
from campaigns.coupon_delivery import claim_code
from campaigns.quiz_bank import Question
from storage import quiz_repo
from storage.quiz_repo import Run, Score

if TYPE_CHECKING:
    from campaigns.quiz import QuizConfig

DIRECT_MESSAGES = "direct_messages"


class QuizFlow:
    """Mixed into :class:`campaigns.quiz.QuizCampaign` (which holds config, bank and pools)."""

    name: str
    config: QuizConfig
    bank: dict[str, Question]
    pools: dict[str, Any]

    # --- helpers ----------------------------------------------------------------------------

    @staticmethod
    def post(ctx: Context, text: str, buttons: Buttons = ()) -> None:
        assert ctx.chat_key is not None
        ctx.emit(SendMessage(ctx.chat_key, text, buttons))

    @staticmethod
    def ack(ctx: Context, key: str) -> None:
        if ctx.event.callback_id:
            ctx.emit(AnswerButton(ctx.event.callback_id, ctx.t(key)))

    def limit(self, question: Question) -> timedelta:
        return question.time_limit or self.config.time_limit

    def current(self, run: Run) -> Question | None:
        if 0 <= run.position < len(run.plan):
            return self.bank.get(run.plan[run.position][0])
        return None

    async def _open_run(self, ctx: Context) -> Run | None:
        """This quiz's run in the event's chat, when a question is open."""
        assert ctx.chat_key is not None
        run = await quiz_repo.running(ctx.conn, ctx.chat_key)
        if run is None or run.campaign != self.name or run.phase != "asking":
            return None
        return run

    # --- asking -----------------------------------------------------------------------------

    async def ask(self, ctx: Context, run: Run, position: int) -> None:
        """Post question ``position`` (skipping any no longer in the bank) and set its timers."""
        while position < len(run.plan) and run.plan[position][0] not in self.bank:
            position += 1
        if position >= len(run.plan):
            await self.finish(ctx, run)
            return
        assert ctx.chat_key is not None
        key, cycle = run.plan[position]
        question = self.bank[key]
        now = ctx.now
        await quiz_repo.mark_asked(
            ctx.conn, campaign=self.name, chat=ctx.chat_key, question=key, cycle=cycle, run_id=run.id, at=now
        )
        await quiz_repo.change(ctx.conn, run.id, position=position, phase="asking", asked_at=now)
        limit = self.limit(question)
        data = {"run": run.id, "pos": position}
        await ctx.set_timer(f"r{run.id}:q{position}:end", now + limit, {**data, "what": "end"})
        if question.hint:
            await ctx.set_timer(f"r{run.id}:q{position}:hint", now + limit / 2, {**data, "what": "hint"})
        seconds = int(limit.total_seconds())
        lines = [ctx.t("quiz.question", number=position + 1, count=len(run.plan), text=question.text)]
        buttons: Buttons = ()
        if question.is_choice:
            choices, buttons = numbered(ctx, question.choices, "quiz.choice", f"quiz:{run.id}:{position}")
            how = "quiz.how.buttons" if has_buttons(ctx) else "quiz.how.numbers"
            lines += [*choices, ctx.t(how, seconds=seconds)]
        else:
            lines.append(ctx.t("quiz.how.free", seconds=seconds))
        self.post(ctx, "\n".join(lines), buttons)

    async def on_timer(self, ctx: Context) -> None:
        data = ctx.event.data or {}
        try:
            run_id, position, what = int(data["run"]), int(data["pos"]), str(data["what"])
        except (KeyError, TypeError, ValueError):
            return
        run = await quiz_repo.get(ctx.conn, run_id)
        if run is None or run.campaign != self.name or run.status != "running" or run.position != position:
            return
        if what == "ask" and run.phase == "between":
            await self.ask(ctx, run, position)
        elif what == "hint" and run.phase == "asking":
            question = self.current(run)
            if question is not None and question.hint:
                self.post(ctx, ctx.t("quiz.hint", hint=question.hint))
        elif what == "end" and run.phase == "asking":
            await self.close(ctx, run, None)

    # --- answers ----------------------------------------------------------------------------

    async def on_message(self, ctx: Context) -> None:
        run = await self._open_run(ctx)
        question = self.current(run) if run else None
        if run is None or question is None:
            return
        text = ctx.event.text
        if question.is_choice:
            choice = pick(text, question.choices, self.config.fold_accents)
            if choice is not None:
                await self.answer(ctx, run, question, choice + 1 == question.correct, button=False)
            return
        typos = question.typos if question.typos is not None else self.config.typos
        correct = matches(text, question.answers, typos, self.config.fold_accents)
        await self.answer(ctx, run, question, correct, button=False)

    async def on_button(self, ctx: Context) -> None:
        parts = (ctx.event.button_data or "").split(":")
        if len(parts) != 4 or parts[0] != "quiz":
            return
        try:
            run_id, position, choice = int(parts[1]), int(parts[2]), int(parts[3])
        except ValueError:
            return
        run = await quiz_repo.get(ctx.conn, run_id)
        if run is None or run.campaign != self.name or run.chat != ctx.chat_key:
            return
        question = self.current(run)
        is_open = run.status == "running" and run.phase == "asking" and run.position == position
        if not is_open or question is None or not question.is_choice or not 1 <= choice <= len(question.choices):
            self.ack(ctx, "quiz.button.closed")
            return
        await self.answer(ctx, run, question, choice == question.correct, button=True)

    async def answer(self, ctx: Context, run: Run, question: Question, correct: bool, button: bool) -> None:
        """Count one answer of the event's member to the open question, if it may count."""
        member = ctx.member_key
        if member is None or run.asked_at is None:
            return
        elapsed = ctx.event.at - run.asked_at
        limit = self.limit(question)
        if elapsed < timedelta(0) or elapsed > limit:  # before the question, or after its time
            if button:
                self.ack(ctx, "quiz.button.closed")
            return
        prev = await quiz_repo.answer_of(ctx.conn, run.id, run.position, member)
        attempts = self.config.attempts
        if prev is not None and (question.is_choice or prev.correct or (attempts and prev.attempts >= attempts)):
            if button:
                self.ack(ctx, "quiz.button.already")
            return
        points = 0
        if correct:
            points = question.points if question.points is not None else self.config.points
            if self.config.scoring == "all" and self.config.speed_bonus:
                points += round(self.config.speed_bonus * (1 - elapsed / limit))
        await quiz_repo.record_answer(
            ctx.conn,
            run_id=run.id,
            position=run.position,
            member=member,
            first=prev is None,
            correct=correct,
            points=points,
            at=ctx.event.at,
        )
        if points:
            await ctx.award(points, "quiz")
        first = self.config.scoring == "first"
        if button:
            self.ack(
                ctx, ("quiz.button.right" if correct else "quiz.button.wrong") if first else "quiz.button.recorded"
            )
        if correct and first:
            await self.close(ctx, run, (ctx.member_name, points))

    # --- closing ----------------------------------------------------------------------------

    async def _cancel(self, ctx: Context, run: Run) -> None:
        for what in ("end", "hint", "ask"):
            await ctx.cancel_timer(f"r{run.id}:q{run.position}:{what}")

    async def close(self, ctx: Context, run: Run, winner: tuple[str, int] | None) -> None:
        """End the open question: the answer, who got it, the explanation; then go on."""
        question = self.current(run)
        await self._cancel(ctx, run)
        if question is not None:
            if winner is not None:
                lines = [ctx.t("quiz.won", name=winner[0], answer=question.solution, points=winner[1])]
            else:
                lines = [ctx.t("quiz.timeout", answer=question.solution)]
                right = await quiz_repo.correct_answers(ctx.conn, run.id, run.position)
                items = ", ".join(ctx.t("quiz.correct_item", name=s.name, points=s.points) for s in right)
                lines.append(ctx.t("quiz.correct_list", names=items) if right else ctx.t("quiz.nobody"))
            if question.explanation:
                lines.append(ctx.t("quiz.explanation", text=question.explanation))
            self.post(ctx, "\n".join(lines))
        following = run.position + 1
        if following >= len(run.plan):
            await self.finish(ctx, run)
            return
        await quiz_repo.change(ctx.conn, run.id, phase="between", position=following)
        gap = self.config.gap
        if gap:
            data = {"run": run.id, "pos": following, "what": "ask"}
            await ctx.set_timer(f"r{run.id}:q{following}:ask", ctx.now + gap, data)
        else:
            await self.ask(ctx, replace(run, phase="between", position=following), following)

    async def stop(self, ctx: Context, run: Run) -> None:
        """``/quiz stop``: end the run now; the standings so far are posted, no prizes."""
        await self._cancel(ctx, run)
        await self.finish(ctx, run, stopped=True)

    async def finish(self, ctx: Context, run: Run, stopped: bool = False) -> None:
        await quiz_repo.change(
            ctx.conn, run.id, status="stopped" if stopped else "finished", phase="done", ended_at=ctx.now
        )
        scores = await quiz_repo.run_scores(ctx.conn, run.id)
        lines = [ctx.t("quiz.stopped", name=self.name)] if stopped else []
        if scores:
            lines.append(ctx.t("quiz.results.header", name=self.name))
            shown = scores[: self.config.leaderboard_size]
            lines += [ctx.t("quiz.rank", rank=i, name=s.name, points=s.points) for i, s in enumerate(shown, 1)]
        else:
            lines.append(ctx.t("quiz.results.empty", name=self.name))
        if not stopped:
            lines += await self.grant_prizes(ctx, run, scores)
        self.post(ctx, "\n".join(lines))

    # --- prizes -----------------------------------------------------------------------------

    async def grant_prizes(self, ctx: Context, run: Run, scores: list[Score]) -> list[str]:
        """Prizes to the top of the run, each recorded once (unique per run and rank/member)."""
        lines: list[str] = []
        for prize in sorted(self.config.prizes, key=lambda p: p.rank):
            if prize.rank > len(scores) or await quiz_repo.prize_given(ctx.conn, run.id, prize.rank):
                continue
            winner = scores[prize.rank - 1]
            code = None
            if prize.coupon is not None:
                code, line = await self._coupon(ctx, prize.coupon, prize.rank, winner)
                lines.append(line)
            await quiz_repo.add_prize(
                ctx.conn,
                run_id=run.id,
                member=winner.member,
                rank=prize.rank,
                points=prize.points,
                coupon=code,
                at=ctx.now,
            )
            if prize.points:
                await ctx.award(prize.points, f"quiz_prize_{prize.rank}", member=winner.member)
                lines.append(ctx.t("quiz.prize.points", name=winner.name, points=prize.points, rank=prize.rank))
        return lines

    async def _coupon(self, ctx: Context, pool: str, rank: int, winner: Score) -> tuple[str | None, str]:
        """Claim a code of ``pool`` for the winner: sent privately where the platform can."""
        got = await claim_code(ctx, pool, self.pools[pool], winner.member, self.name, ctx.now)
        if got is None:
            return None, ctx.t("quiz.prize.coupon_none", name=winner.name, rank=rank)
        if DIRECT_MESSAGES in ctx.features:
            ctx.emit(SendDirect(winner.member, ctx.t("quiz.prize.code", quiz=self.name, rank=rank, code=got.code)))
            return got.code, ctx.t("quiz.prize.coupon_sent", name=winner.name, rank=rank)
        return got.code, ctx.t("quiz.prize.coupon_admin", name=winner.name, rank=rank)
