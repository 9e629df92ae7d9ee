"""``/broadcast TEXT``: one message to every group of the bot, through the outbox and its limits.

The command writes one outbox row per group in its own transaction (so the sender paces
them within each platform's limits and nothing is lost on a crash), tells the admin
"queued to N groups", and sets a one-off timer. Each time it fires it counts the rows the
broadcast wrote by their outbox status; once none is pending it posts "done: X delivered,
Y failed" where the admin asked (re-checking with growing gaps, and giving up with what it
knows after :data:`MAX_ROUNDS`). Only ``[bot] admins`` may broadcast: a group's admins
have no say over other groups.
"""

from __future__ import annotations

from datetime import timedelta

from bot.actions import SendDirect, SendMessage
from bot.builtins import Host, Rejected, Usage, builtin, is_bot_admin, on_timer
from bot.context import Context
from storage import admin_state

FIRST_CHECK = timedelta(seconds=10)
MAX_GAP = timedelta(minutes=5)
MAX_ROUNDS = 30  # about two hours of checks


def _gap(round_: int) -> timedelta:
    return min(MAX_GAP, FIRST_CHECK * 2 ** (round_ - 1))


@builtin("broadcast", "cmd.broadcast", "/broadcast TEXT", bot_admin=True)
async def broadcast_command(ctx: Context, host: Host) -> str:
    assert ctx.command is not None and ctx.member_key is not None
    if not is_bot_admin(ctx, host):
        raise Rejected("admin.bot_only")
    text = ctx.command.raw_args.strip()
    if not text:
        raise Usage()
    known = await admin_state.group_chats(ctx.conn)
    targets = sorted(set(known) | {g.id for g in host.config.groups})
    if not targets:
        raise Rejected("admin.broadcast.none")
    ident = await admin_state.add_broadcast(
        ctx.conn,
        by=ctx.member_key,
        origin=ctx.chat_key or "",
        content=text,
        targets=targets,
        event_ref=ctx.event_ref,
        at=ctx.event.at,
    )
    for chat in targets:
        ctx.emit(SendMessage(chat, text))
    ctx.reply(ctx.t("admin.broadcast.queued", id=ident, count=len(targets)))
    await ctx.set_timer(f"broadcast:{ident}:1", ctx.event.at + _gap(1), {"broadcast": ident, "round": 1})
    return f"broadcast #{ident} queued to {len(targets)} group(s): {text[:200]}"


@on_timer("broadcast")
async def broadcast_progress(ctx: Context, host: Host) -> str:
    data = ctx.event.data
    ident, round_ = int(data["broadcast"]), int(data["round"])
    row = await admin_state.get_broadcast(ctx.conn, ident)
    if row is None or row.status == "done":
        return ""
    counts = await admin_state.delivery(ctx.conn, row.event_ref, row.targets, row.content)
    if counts["pending"] and round_ < MAX_ROUNDS:
        nxt = round_ + 1
        await ctx.set_timer(f"broadcast:{ident}:{nxt}", ctx.event.at + _gap(nxt), {"broadcast": ident, "round": nxt})
        return ""
    await admin_state.finish_broadcast(ctx.conn, ident, ctx.event.at)
    values = dict(id=ident, sent=counts["sent"], total=len(row.targets), failed=counts["failed"])
    text = ctx.t("admin.broadcast.done", **values)
    if counts["pending"]:
        text += "\n" + ctx.t("admin.broadcast.late", pending=counts["pending"])
    if row.origin:
        ctx.emit(SendMessage(row.origin, text))
    else:
        ctx.emit(SendDirect(row.by, text))
    return ""
