"""Welcome newcomers (``type = "welcome"``): batched welcomes, an optional gate, onboarding DMs.

Joins are collected for ``batch_window`` (a one-off timer per chat), then greeted in one
message naming up to ``batch_names`` of them ("…and 27 more"), so a raid or a big event
gets one welcome instead of hundreds. With ``[campaigns.X.verify]`` newcomers are first
muted and asked to accept the rules or answer a sum (:mod:`campaigns.verification`); the
challenge is batched the same way, and the welcome comes only after they pass. Welcome and
challenge messages can delete themselves (``delete_after``). With ``[[campaigns.X.onboarding]]``
steps, members who opt in get direct messages over their first days
(:mod:`campaigns.onboarding`).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field, field_validator

from bot.actions import AnswerButton, Button, Buttons, SendMessage
from bot.config_types import Duration, Language, template_checker
from bot.context import Context
from bot.events import EventKind
from bot.i18n import render
from campaigns.base import Campaign, CampaignConfig, CommandSpec, register
from campaigns.choices import has_buttons
from campaigns.onboarding import DIRECT_MESSAGES, Onboarding, OnboardingStep
from campaigns.verification import Gate, VerifyConfig, typed_number
from storage import welcome as store
from storage.welcome import Queued

PLACEHOLDERS = frozenset({"name", "group", "count", "inviter"})
Template = Annotated[str, Field(min_length=1, max_length=4000), template_checker(PLACEHOLDERS)]


class WelcomeConfig(CampaignConfig):
    type: Literal["welcome"]
    text: Template | None = None  # default: the locale's welcome
    texts: dict[Language, Template] = {}  # per-language variants
    rules_url: str | None = Field(default=None, pattern=r"^https?://\S+$", max_length=500)
    introduce: bool = False  # an "introduce yourself" button
    batch_window: Duration = timedelta(seconds=10)  # joins within it share one message (0: none)
    batch_names: int = Field(default=10, ge=1, le=50)  # names a batched message shows
    delete_after: Duration | None = None
    verify: VerifyConfig | None = None
    onboarding: list[OnboardingStep] = []

    @field_validator("batch_window")
    @classmethod
    def _window(cls, value: timedelta) -> timedelta:
        if value > timedelta(minutes=10):
            raise ValueError("at most 10m: newcomers should not wait longer for their welcome")
        return value

    @field_validator("onboarding")
    @classmethod
    def _days(cls, steps: list[OnboardingStep]) -> list[OnboardingStep]:
        days = [s.day for s in steps]
        if days != sorted(set(days)):
            raise ValueError("onboarding steps need increasing days, each day once (e.g. 0, 1, 3)")
        return steps


def button_prefix(name: str) -> str:
    """Button data of this campaign start with it (platforms allow 64 bytes of data)."""
    return f"w:{name}" if len(name) <= 40 else "w:" + hashlib.sha1(name.encode()).hexdigest()[:16]


@register
class WelcomeCampaign(Campaign):
    type = "welcome"
    config_model = WelcomeConfig
    config: WelcomeConfig

    def __init__(self, name: str, config: WelcomeConfig) -> None:  # type: ignore[override]
        super().__init__(name, config)
        self.data = button_prefix(name)
        self.gate = Gate(name, config.verify, self.data) if config.verify else None
        self.onboarding = Onboarding(name, config.onboarding) if config.onboarding else None

    def commands(self) -> list[CommandSpec]:
        out = []
        if self.gate is not None and self.gate.config.mode == "rules":
            out.append(CommandSpec("agree", "cmd.agree", "/agree"))
        if self.onboarding is not None:
            out.append(CommandSpec("onboarding", "cmd.onboarding", "/onboarding on|off"))
        return out

    async def handle(self, ctx: Context) -> None:
        event = ctx.event
        if event.kind is EventKind.TIMER_FIRED:
            await self._timer(ctx)
            return
        if ctx.member_key is None or ctx.chat_key is None:
            return
        if ctx.command is not None:
            await self._command(ctx)
        elif event.chat is None or event.chat.type != "group":
            return
        elif event.kind is EventKind.MEMBER_JOINED:
            await self._joined(ctx)
        elif event.kind is EventKind.MEMBER_LEFT:
            await self._left(ctx)
        elif event.kind is EventKind.BUTTON_CLICKED:
            await self._button(ctx)
        elif event.kind is EventKind.MESSAGE_CREATED and self.gate and self.gate.config.mode == "challenge":
            number = typed_number(event.text)
            if number is not None:
                await self._typed_answer(ctx, number)

    # --- members coming and going ------------------------------------------------------------

    async def _joined(self, ctx: Context) -> None:
        invite = ctx.event.invite
        inviter = await store.member_name(ctx.conn, invite.creator) if invite and invite.creator else None
        if self.gate is not None:
            await self.gate.on_join(ctx, ctx.member_name)
            await self._enqueue(ctx, "challenge", inviter)
        else:
            await self._enqueue(ctx, "welcome", inviter)

    async def _left(self, ctx: Context) -> None:
        assert ctx.chat_key and ctx.member_key
        if self.gate is not None:
            who = await store.newcomer(ctx.conn, self.name, ctx.chat_key, ctx.member_key)
            if who is not None and who.status == "pending":
                if who.timer:
                    await ctx.cancel_timer(who.timer)
                await store.update_newcomer(
                    ctx.conn, self.name, ctx.chat_key, ctx.member_key, status="left", timer=None
                )
        await store.dequeue(ctx.conn, self.name, ctx.chat_key, ctx.member_key)
        if self.onboarding is not None:
            await self.onboarding.opt_out(ctx, ctx.chat_key, ctx.member_key)

    # --- batches -----------------------------------------------------------------------------

    async def _enqueue(self, ctx: Context, stage: str, inviter: str | None = None) -> None:
        """Queue the member for the chat's next ``stage`` message, opening a batch if none is open."""
        assert ctx.chat_key and ctx.member_key
        me = Queued(ctx.member_key, ctx.member_name, inviter, ctx.group_title)
        window = self.config.batch_window
        if not window:
            await self._post(ctx, stage, [me], f"batch:{stage}:{ctx.event_ref}")
            return
        batch = await store.open_batch(ctx.conn, self.name, ctx.chat_key, stage)
        if batch is None:
            batch = f"batch:{stage}:{ctx.event_ref}"
            await ctx.set_timer(batch, ctx.event.at + window, {"op": "batch", "stage": stage, "batch": batch})
        await store.enqueue(
            ctx.conn,
            campaign=self.name,
            chat=ctx.chat_key,
            member=me.member,
            stage=stage,
            batch=batch,
            name=me.name,
            inviter=inviter,
            group_title=me.group_title,
            at=ctx.event.at,
        )

    async def _post(self, ctx: Context, stage: str, members: list[Queued], batch: str) -> None:
        chat = ctx.chat_key
        assert chat is not None
        if stage == "challenge":
            assert self.gate is not None
            waiting = []
            for m in members:
                who = await store.newcomer(ctx.conn, self.name, chat, m.member)
                if who is not None and who.status == "pending":
                    waiting.append(m)
            members = waiting
        if not members:
            return
        group = next((m.group_title for m in reversed(members) if m.group_title), "") or ctx.group_title or chat
        names = self._names(ctx, [m.name for m in members])
        if stage == "challenge":
            assert self.gate is not None
            text, buttons, answer = self.gate.message(ctx, names, group, batch)
            if answer is not None:
                await store.set_answers(ctx.conn, self.name, chat, [m.member for m in members], answer)
            if self.config.rules_url and has_buttons(ctx):
                buttons = (*buttons, (Button(ctx.t("welcome.button.rules"), url=self.config.rules_url),))
            elif self.config.rules_url:
                text += "\n" + ctx.t("welcome.rules_link", url=self.config.rules_url)
            ctx.emit(SendMessage(chat, text, buttons, delete_after=self.gate.delete_after))
            return
        template = self.config.texts.get(ctx.language, self.config.text)  # type: ignore[call-overload]
        values = {
            "name": names,
            "group": group,
            "count": await store.member_count(ctx.conn, chat),
            "inviter": (members[0].inviter or "") if len(members) == 1 else "",
        }
        text = render(template, values) if template else ctx.t("welcome.default", **values)
        if self.config.rules_url and not has_buttons(ctx):
            text += "\n" + ctx.t("welcome.rules_link", url=self.config.rules_url)
        if self.onboarding is not None and DIRECT_MESSAGES in ctx.features:
            text += "\n" + ctx.t("welcome.onboarding.hint")
        after = self.config.delete_after.total_seconds() if self.config.delete_after else None
        ctx.emit(SendMessage(chat, text, self._buttons(ctx), delete_after=after))

    def _names(self, ctx: Context, names: list[str]) -> str:
        shown = names[: self.config.batch_names]
        sep = ctx.t("welcome.names.sep")
        if len(names) > len(shown):
            return ctx.t("welcome.names.more", names=sep.join(shown), more=len(names) - len(shown))
        if len(shown) == 1:
            return shown[0]
        return ctx.t("welcome.names.last", names=sep.join(shown[:-1]), last=shown[-1])

    def _buttons(self, ctx: Context) -> Buttons:
        if not has_buttons(ctx):
            return ()
        row = []
        if self.config.rules_url:
            row.append(Button(ctx.t("welcome.button.rules"), url=self.config.rules_url))
        if self.config.introduce:
            row.append(Button(ctx.t("welcome.button.intro"), data=f"{self.data}:intro"))
        if self.onboarding is not None and DIRECT_MESSAGES in ctx.features:
            row.append(Button(ctx.t("welcome.button.onboarding"), data=f"{self.data}:onb"))
        return (tuple(row),) if row else ()

    # --- what members do ---------------------------------------------------------------------

    async def _button(self, ctx: Context) -> None:
        data = ctx.event.button_data or ""
        if not data.startswith(self.data + ":"):
            return
        op = data[len(self.data) + 1 :]
        callback = ctx.event.callback_id
        if self.gate is not None and (op == "ack" or op.startswith("c:")):
            outcome = await self.gate.try_pass(ctx, None if op == "ack" else op[2:])
            self.gate.answer_button(ctx, outcome)
            if outcome is not None and outcome[0] == "welcome.verify.passed":
                await self._enqueue(ctx, "welcome")
        elif op == "intro" and callback:
            ctx.emit(AnswerButton(callback, ctx.t("welcome.intro", name=ctx.member_name), alert=True))
        elif op == "onb" and self.onboarding is not None:
            assert ctx.chat_key and ctx.member_key
            key = await self.onboarding.opt_in(
                ctx, ctx.chat_key, ctx.member_key, ctx.member_name, ctx.group_title or ctx.chat_key
            )
            if callback:
                ctx.emit(AnswerButton(callback, ctx.t(key), alert=True))

    async def _typed_answer(self, ctx: Context, number: str) -> None:
        assert self.gate is not None
        outcome = await self.gate.try_pass(ctx, number)
        if outcome is None:
            return
        if outcome[0] == "welcome.verify.passed":
            await self._enqueue(ctx, "welcome")
        else:
            ctx.reply(ctx.t(outcome[0], left=outcome[1]), delete_after=60)

    async def _command(self, ctx: Context) -> None:
        assert ctx.command is not None and ctx.chat_key and ctx.member_key
        in_group = ctx.event.chat is not None and ctx.event.chat.type == "group"
        if ctx.command.name == "agree" and self.gate is not None and in_group:
            outcome = await self.gate.try_pass(ctx, None)
            if outcome is None:
                ctx.reply(ctx.t("welcome.verify.not_for_you"), delete_after=60)
            elif outcome[0] == "welcome.verify.passed":
                await self._enqueue(ctx, "welcome")
        elif ctx.command.name == "onboarding" and self.onboarding is not None:
            await self._onboarding_command(ctx, in_group)

    async def _onboarding_command(self, ctx: Context, in_group: bool) -> None:
        assert ctx.command is not None and self.onboarding is not None and ctx.chat_key and ctx.member_key
        arg = ctx.command.args[0].lower() if len(ctx.command.args) == 1 else ""
        if arg not in ("on", "off"):
            ctx.reply(ctx.t("usage", usage="/onboarding on|off"))
        elif arg == "on" and not in_group:
            ctx.reply(ctx.t("welcome.onboarding.in_group"))
        elif arg == "on":
            group = ctx.group_title or ctx.chat_key
            ctx.reply(ctx.t(await self.onboarding.opt_in(ctx, ctx.chat_key, ctx.member_key, ctx.member_name, group)))
        else:
            if in_group:
                stopped = await self.onboarding.opt_out(ctx, ctx.chat_key, ctx.member_key)
            else:
                stopped = bool(await self.onboarding.opt_out_everywhere(ctx, ctx.member_key))
            ctx.reply(ctx.t("welcome.onboarding.off" if stopped else "welcome.onboarding.not_on"))

    # --- timers ------------------------------------------------------------------------------

    async def _timer(self, ctx: Context) -> None:
        data = ctx.event.data or {}
        op, chat = data.get("op"), ctx.chat_key
        if chat is None:
            return
        if op == "batch":
            members = await store.take_batch(ctx.conn, self.name, str(data["batch"]))
            await self._post(ctx, str(data["stage"]), members, str(data["batch"]))
        elif op == "verify" and self.gate is not None and data.get("member"):
            await self.gate.on_timeout(ctx, str(data["member"]), str(data["key"]))
        elif op == "onboarding" and self.onboarding is not None:
            await self.onboarding.on_timer(ctx, data)
