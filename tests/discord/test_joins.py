"""Joins and leaves end to end: invite-diff attribution (exact, approximate, unknown), per-member
invites, referrals that require exact attribution, rejoins and leaves across channels."""

from __future__ import annotations

from sqlalchemy import select

from adapters.base import Feature
from bot.app import App
from bot.config import parse
from bot.events import EventKind
from storage import referrals as referral_repo
from storage.models import Membership
from storage.referral_models import Referral
from tests.discord import payloads as p
from tests.discord.conftest import Discord, eventually

REFERRAL = """
[campaigns.friends]
type = "referral"
acknowledge_platform_policy = true
require_exact_attribution = {exact}
inviter_reward = {{ points = 50 }}
"""


async def membership(app: App, chat: str, member: dict) -> tuple | None:
    m = Membership.__table__.c
    q = select(m.invited_by, m.invite_code, m.invite_confidence, m.active).where(
        m.chat_key == f"discord:{chat}", m.member_key == f"discord:{member['id']}"
    )
    async with app.db.connect() as conn:
        row = (await conn.execute(q)).first()
    return tuple(row) if row else None


async def referrals(app: App) -> list[tuple]:
    r = Referral.__table__.c
    async with app.db.connect() as conn:
        return [tuple(x) for x in await conn.execute(select(r.invitee, r.inviter, r.confidence, r.status, r.reason))]


async def refusals(app: App) -> list[tuple]:
    async with app.db.connect() as conn:
        return await referral_repo.refusals(conn, "friends")


async def joined(dc: Discord, app: App, count: int = 1) -> None:
    await eventually(lambda: _count(dc, app, count))


async def _count(dc: Discord, app: App, count: int) -> bool:
    return await dc.processed(app, str(EventKind.MEMBER_JOINED)) >= count


async def personal_invite(dc: Discord, who: dict, channel: str = p.EVENTS) -> str:
    """``/invite`` as a slash command; returns the code of the link it answers with."""
    d = p.slash("invite", who, channel=channel)
    ident = await dc.fake.interact(d)
    await dc.fake.wait_for(lambda: d["token"] in dc.fake.originals or dc.fake.followups.get(d["token"]))
    assert dc.fake.callbacks[ident] == {"type": 5, "data": {"flags": 64}}  # the link is private
    answer = dc.fake.originals.get(d["token"]) or dc.fake.followups[d["token"]][0]
    [made] = dc.fake.sent("POST", f"/channels/{channel}/invites")
    assert made.body == {"max_age": 0, "max_uses": 0, "unique": True, "temporary": False}
    code = next(c for c in dc.fake.invites[p.GUILD] if f"discord.gg/{c}" in answer["content"])
    return code


async def test_a_join_through_a_members_invite_is_exact_and_counts_where_the_invite_leads(dc: Discord) -> None:
    app = await dc.start(campaigns=REFERRAL.format(exact="true"), ready=True)
    code = await personal_invite(dc, p.ALICE)
    await dc.fake.join(p.GUILD, p.CAROL, code)
    await joined(dc, app)
    link = f"https://discord.gg/{code}"
    assert await membership(app, p.EVENTS, p.CAROL) == (f"discord:{p.ALICE['id']}", link, "exact", True)
    assert await referrals(app) == [(f"discord:{p.CAROL['id']}", f"discord:{p.ALICE['id']}", "exact", "pending", None)]


async def test_a_second_invite_request_reuses_the_link(dc: Discord) -> None:
    app = await dc.start(campaigns=REFERRAL.format(exact="true"))
    await personal_invite(dc, p.ALICE)
    adapter = dc.adapter(app)
    from bot import actions as act

    again = await adapter.perform(act.CreateInviteLink(f"discord:{p.EVENTS}", f"discord:{p.ALICE['id']}"), "x")
    assert again.data["link"].startswith("https://discord.gg/") and len(dc.fake.sent("POST", "/invites")) == 1


async def test_a_join_through_an_invite_a_member_made_credits_its_creator(dc: Discord) -> None:
    app = await dc.start(ready=True)
    invite = p.invite("dave-own", p.GUILD, p.GENERAL, p.DAVE)
    dc.fake.invites.setdefault(p.GUILD, {})["dave-own"] = invite
    await dc.fake.dispatch("INVITE_CREATE", {**invite, "guild_id": p.GUILD, "channel_id": p.GENERAL})
    await dc.fake.join(p.GUILD, p.CAROL, "dave-own")
    await joined(dc, app)
    row = await membership(app, p.GENERAL, p.CAROL)
    assert row == (f"discord:{p.DAVE['id']}", "https://discord.gg/dave-own", "exact", True)


async def test_when_several_invites_moved_the_join_is_approximate_and_an_exact_campaign_refuses_it(
    dc: Discord,
) -> None:
    app = await dc.start(campaigns=REFERRAL.format(exact="true"), ready=True)
    code = await personal_invite(dc, p.ALICE)
    other = p.invite("someone", p.GUILD, p.GENERAL, p.DAVE)
    dc.fake.invites[p.GUILD]["someone"] = other
    await dc.fake.dispatch("INVITE_CREATE", {**other, "guild_id": p.GUILD, "channel_id": p.GENERAL})
    dc.fake.invites[p.GUILD]["someone"]["uses"] += 1  # someone else joined between two listings
    await dc.fake.join(p.GUILD, p.CAROL, code)
    await joined(dc, app)
    assert await refusals(app) == [(f"discord:{p.CAROL['id']}", f"discord:{p.ALICE['id']}", "attribution_approximate")]
    assert await referrals(app) == []


async def test_a_campaign_that_accepts_approximate_attribution_tracks_the_best_guess(dc: Discord) -> None:
    app = await dc.start(campaigns=REFERRAL.format(exact="false"), ready=True)
    code = await personal_invite(dc, p.ALICE)
    other = p.invite("someone", p.GUILD, p.GENERAL, p.DAVE)
    dc.fake.invites[p.GUILD]["someone"] = other
    await dc.fake.dispatch("INVITE_CREATE", {**other, "guild_id": p.GUILD, "channel_id": p.GENERAL})
    dc.fake.invites[p.GUILD]["someone"]["uses"] += 1
    await dc.fake.join(p.GUILD, p.CAROL, code)
    await joined(dc, app)
    # both moved by one: the guess is the lowest code (Hearth's own invites start "hearth")
    assert await referrals(app) == [
        (f"discord:{p.CAROL['id']}", f"discord:{p.ALICE['id']}", "approximate", "pending", None)
    ]


async def test_a_vanity_join_is_unknown(dc: Discord) -> None:
    dc.fake.guilds = [p.guild(vanity="coffee")]
    app = await dc.start(ready=True)
    await dc.fake.join(p.GUILD, p.CAROL)
    await joined(dc, app)
    assert await membership(app, p.GENERAL, p.CAROL) == (None, "coffee", "unknown", True)


async def test_without_manage_server_every_join_is_unknown(dc: Discord) -> None:
    dc.fake.forbidden = [r"GET /guilds/\d+/invites"]
    dc.fake.invites[p.GUILD] = {"abc": p.invite("abc", p.GUILD, p.GENERAL, p.DAVE)}
    app = await dc.start(ready=True)
    await dc.fake.join(p.GUILD, p.CAROL, "abc")
    await joined(dc, app)
    assert await membership(app, p.GENERAL, p.CAROL) == (None, None, "unknown", True)


async def test_discord_says_rejoin_so_the_referral_refuses_it(dc: Discord) -> None:
    app = await dc.start(campaigns=REFERRAL.format(exact="true"), ready=True)
    code = await personal_invite(dc, p.ALICE)
    dc.fake.invites[p.GUILD][code]["uses"] += 1
    await dc.fake.dispatch("GUILD_MEMBER_ADD", p.member_add(p.GUILD, p.CAROL, flags=1))  # DID_REJOIN
    await joined(dc, app)
    assert await refusals(app) == [(f"discord:{p.CAROL['id']}", f"discord:{p.ALICE['id']}", "rejoin")]


async def test_a_leave_ends_the_membership_in_every_channel_the_member_was_active(dc: Discord) -> None:
    app = await dc.start(ready=True)
    await dc.fake.join(p.GUILD, p.CAROL)
    await dc.fake.dispatch("MESSAGE_CREATE", p.message(p.EVENTS, p.CAROL, ""))
    await eventually(lambda: _messages(dc, app))
    await dc.fake.dispatch("GUILD_MEMBER_REMOVE", {"guild_id": p.GUILD, "user": p.CAROL})
    await eventually(lambda: _left(dc, app, 2))
    assert (await membership(app, p.GENERAL, p.CAROL))[3] is False
    assert (await membership(app, p.EVENTS, p.CAROL))[3] is False


async def _messages(dc: Discord, app: App) -> bool:
    return await dc.processed(app, str(EventKind.MESSAGE_CREATED)) == 1


async def _left(dc: Discord, app: App, count: int) -> bool:
    return await dc.processed(app, str(EventKind.MEMBER_LEFT)) == count


async def test_without_the_members_intent_there_is_no_join_attribution(dc: Discord) -> None:
    app = await dc.start(intents="members = false", ready=True)
    assert Feature.JOIN_ATTRIBUTION not in dc.adapter(app).features
    assert int(dc.fake.identified[-1]["intents"]) & (1 << 1) == 0
    assert not dc.fake.sent("GET", "/invites")


async def test_a_privileged_intent_the_portal_did_not_enable_is_reported_not_fatal(dc: Discord, caplog) -> None:
    dc.fake.privileged = 0
    app = App(parse(dc.config_text(), "discord-test.toml"))  # asks for the members intent
    await app.start()
    dc.apps.append(app)
    await eventually(lambda: _logged(caplog))
    assert "Privileged Gateway Intents" in caplog.text


async def _logged(caplog) -> bool:
    return "refused the privileged intents" in caplog.text
