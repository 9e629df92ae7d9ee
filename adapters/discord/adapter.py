"""The Discord adapter: discord.py's gateway and HTTP client, wired to Hearth's receive and send paths.

discord.py keeps the gateway connection (identify, heartbeats, resume, reconnect, sharding
through ``/gateway/bot``) and the REST rate limits. Hearth reads the gateway's dispatches as
JSON (``on_socket_raw_receive``) and decodes them with its own pure decoder; every REST call
goes through discord.py's ``HTTPClient.request``. No discord.py ``View`` or ``CommandTree``
is involved: buttons are data (``custom_id``) and slash commands come from Hearth's registry.

The token lives in discord.py's client and the settings' ``SecretStr`` only; nothing here
prints it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any

import discord
from discord.http import Route
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.base import EventSink, Feature, SendResult
from adapters.discord import encode as enc
from adapters.discord.decode import ADMINISTRATOR, INTERACTION, MANAGE_GUILD, Me, decode
from adapters.discord.errors import description
from adapters.discord.interactions import Interactions
from adapters.discord.invites import InviteTracker
from adapters.discord.receive import Decoded, Receiver
from adapters.discord.send import Performer
from adapters.discord.settings import PLATFORM, DiscordSettings
from adapters.discord.slash import canonical, guild_commands
from adapters.startup import retried
from bot import actions as act
from bot import i18n
from bot.clock import Clock
from bot.command_menu import MenuCommand
from bot.logs import SecretFilter
from bot.ratelimit import RateLimits
from storage.adapter_state import StateCache
from storage.models import OutboxMessage

log = logging.getLogger(__name__)
HANDLED = ("MESSAGE_CREATE", "INTERACTION_CREATE", "GUILD_MEMBER_ADD", "GUILD_MEMBER_REMOVE", "MESSAGE_REACTION_ADD")
MAX_BATCH = 500
DRAIN_TIMEOUT = 10.0  # seconds a stop waits for received events to be committed
RATELIMIT_WAIT = 30.0  # discord.py waits out shorter 429s itself; longer ones come back as TemporaryError
CALLBACK_LIMIT = (1000.0, 1000)  # answering a press is not a channel message


def rate_limits(s: DiscordSettings) -> RateLimits:
    burst = max(1, int(s.messages_per_second / 5))
    return RateLimits(
        per_second=max(1.0, s.messages_per_second - burst),
        burst=burst,
        per_chat_per_second=s.channel_messages_per_second,
        per_chat_burst=s.channel_burst,
        per_target=lambda target: CALLBACK_LIMIT if target.endswith(":callback") else None,
    )


def intents(s: DiscordSettings) -> discord.Intents:
    out = discord.Intents.none()
    out.guilds = out.guild_messages = out.dm_messages = out.guild_reactions = out.invites = True
    out.members = s.intents.members
    out.message_content = s.intents.message_content
    return out


class _Client(discord.AutoShardedClient):
    def __init__(self, adapter: DiscordAdapter, **options: Any) -> None:
        super().__init__(**options)
        self._adapter = adapter

    async def on_socket_raw_receive(self, msg: str) -> None:
        self._adapter.received(msg)

    async def on_ready(self) -> None:
        await self._adapter.on_ready()


class DiscordAdapter:
    platform = PLATFORM

    def __init__(self, settings: DiscordSettings, db: AsyncEngine, clock: Clock) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        features = {Feature.BUTTONS, Feature.DIRECT_MESSAGES, Feature.INVITE_LINKS, Feature.DELETE}
        features |= {Feature.MUTE, Feature.KICK, Feature.REPLIES, Feature.REACTIONS}
        if settings.intents.members:
            features.add(Feature.JOIN_ATTRIBUTION)
        self.features = frozenset(features)
        self.limits = rate_limits(settings)
        self.scrub = SecretFilter(settings.secrets()).scrub
        self.guild_of = settings.guild_of()
        self.state = StateCache(db, f"{PLATFORM}:")
        self.invites = InviteTracker(self._list_invites)
        self.menu: dict[str, MenuCommand] = {}
        self.client: _Client | None = None
        self.me: Me | None = None
        self.interactions: Interactions | None = None
        self.performer: Performer | None = None
        self.receiver: Receiver | None = None
        self.sink: EventSink | None = None
        self.ready = asyncio.Event()
        self.skipped = 0
        self._queue: asyncio.Queue[Decoded] = asyncio.Queue()
        self._tasks: list[asyncio.Task[Any]] = []

    def __repr__(self) -> str:
        return f"DiscordAdapter(guilds={[g.id for g in self.settings.guilds]})"

    @property
    def groups(self) -> dict[str, str]:
        """The configured channels as chat key -> title (schedules fire in these)."""
        return dict.fromkeys(self.settings.chat_keys(), "")

    def set_commands(self, menu: Sequence[MenuCommand]) -> None:
        """Hearth's command registry (from the app, before :meth:`start`): the slash commands."""
        self.menu = {c.name: c for c in menu}

    def mergeable(self, action: act.Action) -> bool:
        """The sender may merge backlogged messages, but never answers to a slash command:
        each belongs to its member's interaction (and may be private)."""
        return not (isinstance(action, act.SendMessage) and (action.reply_to or "").startswith(INTERACTION))

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self, sink: EventSink) -> None:
        s = self.settings
        self.client = client = await self._login()
        assert client.user is not None and client.application_id is not None
        home = {g.id: g.home for g in s.guilds}
        self.me = Me(str(client.user.id), self.guild_of, home, self.menu)
        answer_after = s.interaction_answer_after.total_seconds()
        app = str(client.application_id)
        self.interactions = Interactions(self.call, app, answer_after, self.scrub, self._owed)
        self.performer = Performer(
            self.call, self.state, self.interactions, self.invites, self.guild_of, self.clock, self.scrub
        )
        self.sink = sink
        self.receiver = Receiver(self.me, self.invites, self.state, self.db, self._is_admin)
        if s.sync_commands:
            await self._sync_commands()
        self._tasks = [
            asyncio.create_task(self._consume(), name="discord-receive"),
            asyncio.create_task(self._connect(), name="discord-gateway"),
        ]
        log.info("Discord bot %s (%s) is connecting", client.user, client.user.id)

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.close()
        try:  # commit what was received before the gateway closed
            await asyncio.wait_for(self._queue.join(), DRAIN_TIMEOUT)
        except TimeoutError:
            log.warning("stopped with %d Discord event(s) not yet committed", self._queue.qsize())
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self.interactions is not None:
            await self.interactions.stop()

    async def perform(self, action: act.Action, idempotency_key: str) -> SendResult:
        assert self.performer is not None, "perform before start"
        return await self.performer.perform(action, idempotency_key)

    # --- REST ------------------------------------------------------------------------------------

    async def call(self, request: enc.Request) -> Any:
        """One REST call through discord.py (rate limits, retries of 5xx, error classes)."""
        assert self.client is not None
        kwargs: dict[str, Any] = {}
        if request.json is not None:
            kwargs["json"] = request.json
        if request.reason:
            kwargs["reason"] = request.reason
        if request.query:
            kwargs["params"] = request.query
        return await self.client.http.request(Route(request.method, request.path, **request.params), **kwargs)

    def _client(self) -> _Client:
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False  # Hearth uses no voice
        return _Client(
            self,
            intents=intents(self.settings),
            enable_debug_events=True,  # the gateway's JSON reaches on_socket_raw_receive
            max_messages=None,
            chunk_guilds_at_startup=False,
            member_cache_flags=discord.MemberCacheFlags.none(),
            max_ratelimit_timeout=RATELIMIT_WAIT,
        )

    async def _login(self) -> _Client:
        """Log in (``GET /users/@me``), retried while Discord is unreachable; a bad token stops the start."""

        async def login() -> _Client:
            client = self._client()
            try:
                await client.login(self.settings.token.get_secret_value())
            except BaseException:
                await client.close()
                raise
            return client

        def waiting(err: Exception, delay: float) -> None:
            log.warning("cannot reach Discord yet (%s); retrying in %.0fs", description(err, self.scrub), delay)

        try:
            return await retried(login, fatal=(discord.LoginFailure,), on_retry=waiting)
        except discord.LoginFailure:
            raise RuntimeError("Discord rejected the bot token; check [platforms.discord].token") from None
        except Exception as err:
            raise RuntimeError(f"cannot reach Discord: {description(err, self.scrub)}") from None

    async def _sync_commands(self) -> None:
        """Register each guild's slash commands, only when they differ from what Discord has."""
        assert self.client is not None
        app = str(self.client.application_id)
        for guild in self.settings.guilds:
            chats = {f"{PLATFORM}:{c}" for c in guild.channels}
            wanted = guild_commands(self.menu.values(), chats, "en")
            ids = {"application_id": app, "guild_id": guild.id}
            path = "/applications/{application_id}/guilds/{guild_id}/commands"
            try:
                have = await self.call(enc.Request("GET", path, ids, query={"with_localizations": "true"}))
                if canonical(have) == canonical(wanted):
                    log.info("slash commands of guild %s are up to date (%d)", guild.id, len(wanted))
                    continue
                await self.call(enc.Request("PUT", path, ids, wanted))
                log.info("registered %d slash commands in guild %s", len(wanted), guild.id)
            except Exception as err:
                log.error(
                    "could not register the slash commands in guild %s (%s); was the bot invited with the "
                    "applications.commands scope?",
                    guild.id,
                    description(err, self.scrub),
                )

    async def _list_invites(self, guild: str) -> list[dict[str, Any]] | None:
        try:
            return await self.call(enc.Request("GET", "/guilds/{guild_id}/invites", {"guild_id": guild}))
        except discord.Forbidden:
            return None

    # --- gateway ---------------------------------------------------------------------------------

    async def _connect(self) -> None:
        """Run the gateway; discord.py reconnects and resumes by itself. Should it give up on
        something unexpected, log in again with a fresh client, with growing pauses."""
        delay = 1.0
        while self.client is not None:
            try:
                await self.client.connect(reconnect=True)
                return  # closed by stop()
            except discord.PrivilegedIntentsRequired:
                log.error(
                    "Discord refused the privileged intents in [platforms.discord].intents: switch them on in "
                    "the Developer Portal (Bot → Privileged Gateway Intents) or set them to false; not connected"
                )
                return
            except Exception as err:
                log.error("the Discord gateway stopped (%s); again in %.0fs", description(err, self.scrub), delay)
            await self.client.close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 300.0)
            try:
                self.client = await self._login()
            except RuntimeError as err:
                log.error("%s", err)

    async def on_ready(self) -> None:
        """(Re)connected with a new session: take every guild's invite counts as the baseline."""
        assert self.client is not None
        for guild in self.settings.guilds:
            found = self.client.get_guild(int(guild.id))
            if found is None:
                log.warning("the bot is not in guild %s; invite it (see docs/discord.md)", guild.id)
                continue
            if self.settings.intents.members:
                await self.invites.load(guild.id, found.vanity_url_code)
        self.ready.set()

    def received(self, msg: str | bytes) -> None:
        """A gateway message (JSON text): decode now, acknowledge interactions now, queue the rest."""
        try:
            payload = json.loads(msg)
        except ValueError:
            return
        if not isinstance(payload, dict) or payload.get("op") != 0 or self.me is None:
            return
        kind, d = payload.get("t"), payload.get("d") or {}
        if kind == "INVITE_CREATE":
            self.invites.created(d)
        elif kind == "INVITE_DELETE":
            self.invites.deleted(d)
        if kind not in HANDLED:
            return
        try:
            event = decode(payload, self.me, self.clock.now())
        except Exception:  # a shape we do not understand: skip it, never stop the gateway
            self.skipped += 1
            log.exception("skipped a %s dispatch that could not be decoded", kind)
            event = None
        if kind == "INTERACTION_CREATE" and self.interactions is not None:
            command = self.menu.get(str((d.get("data") or {}).get("name", "")))
            private = command is not None and command.private
            self.interactions.begin(d, event, private, self._elsewhere(d))
        if event is not None:
            self._queue.put_nowait((payload, event))

    async def _consume(self) -> None:
        """Commit what arrived, in order, as batches (everything waiting while the last committed).

        The gateway does not deliver an event twice, so a batch whose commit fails (the database
        is away) is tried again, with growing pauses, before anything that came after it."""
        assert self.receiver is not None and self.interactions is not None and self.sink is not None
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < MAX_BATCH:
                batch.append(self._queue.get_nowait())
            delay = 0.5
            while True:
                try:
                    events = await self.receiver.complete(batch)
                    if events:
                        await self.sink.submit(events)
                    break
                except Exception as err:
                    log.error("could not commit %d Discord event(s) (%s); again in %.0fs", len(batch), err, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 30.0)
            self.interactions.committed(events)
            for _ in batch:
                self._queue.task_done()

    # --- helpers ---------------------------------------------------------------------------------

    def _is_admin(self, guild_id: str, user_id: str, roles: Sequence[str]) -> bool:
        """Owner, or a role (or @everyone) with Administrator or Manage Server, from the role cache."""
        guild = self.client.get_guild(int(guild_id)) if self.client and guild_id.isdigit() else None
        if guild is None:
            return False
        if guild.owner_id == int(user_id):
            return True
        bits = guild.default_role.permissions.value
        for ident in roles:
            role = guild.get_role(int(ident))
            if role is not None:
                bits |= role.permissions.value
        return bool(bits & (ADMINISTRATOR | MANAGE_GUILD))

    async def _owed(self, interaction: str) -> bool:
        """Whether the outbox still holds an action the interaction's command caused."""
        assert self.me is not None
        t = OutboxMessage.__table__.c
        ref = f"{PLATFORM}:{self.me.id}:{INTERACTION}{interaction}"
        q = select(t.id).where(t.status == "pending", t.platform == PLATFORM, t.event_ref == ref).limit(1)
        async with self.db.connect() as conn:
            return (await conn.execute(q)).first() is not None

    def _elsewhere(self, d: dict[str, Any]) -> str:
        """The private answer to a command used where Hearth does not work."""
        language = (str(d.get("locale") or "en").split("-")[0]).lower()
        language = language if language in i18n.LANGUAGES else "en"
        guild = str(d.get("guild_id") or "")
        channels = [f"<#{c}>" for c, g in self.guild_of.items() if g == guild]
        if not channels:
            return i18n.t(language, "discord.nowhere")
        return i18n.t(language, "discord.elsewhere", channels=", ".join(channels))
