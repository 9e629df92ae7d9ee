"""What a campaign gets for one event: the transaction, the group's settings, and helpers.

Everything a campaign changes goes through ``conn`` (the event's transaction) and every
action it asks for is collected in ``actions``; the engine writes those to the outbox in
the same transaction, so the state change and the messages commit together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot import i18n
from bot.actions import Action, Buttons, SendDirect, SendMessage
from bot.events import Command, Event, EventKind
from storage import repo, timers
from storage.tx import Conn

if TYPE_CHECKING:
    from bot.bookkeeping import PriorMembership
    from bot.config import Config


@dataclass(slots=True)
class Context:
    event: Event
    command: Command | None
    conn: Conn
    campaign: str
    now: datetime
    timezone: ZoneInfo
    language: str
    group_title: str = ""
    is_admin: bool = False
    actions: list[Action] = field(default_factory=list)
    # what the event's platform can do ("buttons", "polls", "delete", ... as in
    # adapters.base.Feature): campaigns degrade by capability, never by platform name
    features: frozenset[str] = frozenset()
    config: Config | None = None  # the whole validated config, read-only (coupon pools, admins)
    # for member.joined: the membership before this join (None: never seen in the chat)
    prior_membership: PriorMembership | None = None

    # --- who and where ---------------------------------------------------------------------

    @property
    def chat_key(self) -> str | None:
        return self.event.chat_key

    @property
    def member_key(self) -> str | None:
        return self.event.member_key

    @property
    def member_name(self) -> str:
        user = self.event.user
        return (user.name or user.id) if user else ""

    @property
    def event_ref(self) -> str:
        """The id of the event as stored with every effect it has."""
        e = self.event
        return f"{e.platform}:{e.self_id}:{e.id}"

    def local_day(self, when: datetime | None = None) -> date:
        """The calendar day in the group's timezone."""
        return (when or self.event.at).astimezone(self.timezone).date()

    # --- saying things -----------------------------------------------------------------------

    def t(self, key: str, **values: object) -> str:
        return i18n.t(self.language, key, **values)

    def answering(self, action: Action) -> Action:
        """``action``, marked as the answer to this event when it is a message into the event's own
        chat (platforms with reply windows, e.g. QQ, send such answers passively)."""
        if (
            isinstance(action, SendMessage)
            and action.cause is None
            and action.chat == self.chat_key
            and self.event.kind is not EventKind.TIMER_FIRED
        ):
            return replace(action, cause=self.event.id)
        return action

    def emit(self, action: Action) -> None:
        self.actions.append(self.answering(action))

    def reply(self, text: str, buttons: Buttons = (), delete_after: float | None = None) -> None:
        """Answer in the chat the event came from (or privately when there is no chat)."""
        if self.chat_key is not None:
            self.emit(SendMessage(self.chat_key, text, buttons, self.event.message_id, delete_after))
        elif self.member_key is not None:
            self.emit(SendDirect(self.member_key, text, buttons))

    # --- timers ------------------------------------------------------------------------------

    async def set_timer(self, key: str, due_at: datetime, data: dict | None = None, member: str | None = None) -> None:
        """Ask for a ``timer.fired`` event for this campaign at ``due_at`` (once per ``key``).

        The key is namespaced by the campaign; the event arrives with ``event.timer`` set to
        the campaign's name and ``event.data`` to ``{"key": key, **data}``.
        """
        await timers.set_timer(
            self.conn,
            key=f"{self.campaign}:{key}",
            campaign=self.campaign,
            due_at=due_at,
            chat=self.chat_key,
            member=member or self.member_key,
            payload={"key": key, **(data or {})},
            event_ref=self.event_ref,
        )

    async def cancel_timer(self, key: str) -> bool:
        return await timers.cancel_timer(self.conn, f"{self.campaign}:{key}")

    # --- points ------------------------------------------------------------------------------

    async def award(self, points: int, reason: str, member: str | None = None) -> None:
        """Append ``points`` (negative to take back) to the ledger, naming this event."""
        target = member or self.member_key
        if target is None or points == 0:
            return
        await repo.add_points(
            self.conn,
            member=target,
            chat=self.chat_key,
            campaign=self.campaign,
            points=points,
            reason=reason,
            event_ref=self.event_ref,
            at=self.event.at,
        )
