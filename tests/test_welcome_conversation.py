"""Welcome, verification and onboarding, as newcomers and the group see them."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from adapters.base import Feature, PermanentError, SendResult
from bot import actions as act
from bot.config import ConfigError, parse
from bot.events import Invite
from bot.simulate import RecordingAdapter
from tests.harness import Conversation

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
HEAD = """
[bot]
timezone = "Asia/Shanghai"
[platforms.sandbox]
"""


async def opened(body: str, **kwargs: object) -> Conversation:
    return await Conversation.open(HEAD + body, START, **kwargs)


def sent(actions: list[act.Action], kind: type = act.SendMessage) -> list:
    return [a for a in actions if isinstance(a, kind)]


def texts(actions: list[act.Action]) -> list[str]:
    return [a.content for a in sent(actions)]


async def join(conv: Conversation, user: str, at: datetime | None = None) -> list[act.Action]:
    return await conv.deliver(conv.event("join", user, at=at))


async def press(conv: Conversation, user: str, data: str) -> list[act.Action]:
    return await conv.deliver(conv.event("press", user, data=data, message=1))


# --- welcome ----------------------------------------------------------------------------------


async def test_a_raid_of_thirty_joins_gets_one_batched_welcome() -> None:
    conv = await opened('[campaigns.hello]\ntype = "welcome"\nbatch_names = 5\n')
    try:
        for i in range(30):
            assert await join(conv, f"m{i:02d}", at=START + timedelta(milliseconds=200 * i)) == []
        actions = await conv.advance_actions(timedelta(seconds=10))
        assert texts(actions) == [
            "👋 Welcome to Group one, m00, m01, m02, m03, m04 and 25 more! We are 30 now — say hello."
        ]
        assert await conv.advance(timedelta(minutes=5)) == []
        [single] = texts(await join(conv, "late") + await conv.advance_actions(timedelta(seconds=10)))
        assert single == "👋 Welcome to Group one, late! We are 31 now — say hello."
    finally:
        await conv.close()


async def test_welcome_text_placeholders_language_buttons_and_delete_after() -> None:
    conv = await opened(
        """
[campaigns.hello]
type = "welcome"
text = "Welcome {name}, member {count} of {group}! Invited by {inviter}."
texts = { zh = "欢迎 {name}！" }
rules_url = "https://example.com/rules"
introduce = true
delete_after = "1h"
batch_window = "0s"
"""
    )
    try:
        await conv.say("alice", "hi")
        event = replace(conv.event("join", "bob"), invite=Invite(code="A1", creator="sandbox:alice"))
        [welcome] = sent(await conv.deliver(event))
        assert welcome.content == "Welcome bob, member 2 of Group one! Invited by alice."
        [[rules, intro]] = welcome.buttons
        assert rules.url == "https://example.com/rules" and intro.data == "w:hello:intro"
        [toast] = sent(await press(conv, "bob", "w:hello:intro"), act.AnswerButton)
        assert toast.alert and "bob, tell us about yourself" in toast.text
        later = await conv.advance_actions(timedelta(minutes=59))
        assert sent(later, act.DeleteMessage) == []
        [deleted] = sent(await conv.advance_actions(timedelta(minutes=2)), act.DeleteMessage)
        assert deleted.chat == "sandbox:g1"
    finally:
        await conv.close()


def test_unknown_placeholders_in_a_welcome_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"campaigns.hello.text: unknown placeholder \{email\}"):
        parse(HEAD + '[campaigns.hello]\ntype = "welcome"\ntext = "Hi {name} {email}"\n', "hearth.toml")
    with pytest.raises(ConfigError, match="not a plain name"):
        parse(HEAD + '[campaigns.hello]\ntype = "welcome"\ntext = "Hi {name.__class__}"\n', "hearth.toml")


# --- verification -----------------------------------------------------------------------------

GATE = """
[campaigns.hello]
type = "welcome"
[campaigns.hello.verify]
mode = "rules"
timeout = "5m"
on_timeout = "kick"
"""


async def test_one_member_passes_verification_and_one_who_does_not_is_removed() -> None:
    conv = await opened(GATE)
    try:
        await conv.say("carol", "I have been here for years")
        joined = await join(conv, "alice") + await join(conv, "bob")
        assert [(a.user, a.seconds) for a in sent(joined, act.MuteMember)] == [("sandbox:alice", 0), ("sandbox:bob", 0)]
        assert texts(joined) == []  # no welcome before verification
        [challenge] = sent(await conv.advance_actions(timedelta(seconds=10)))
        assert challenge.content.startswith("👋 alice and bob, welcome to Group one! Please read the rules")
        assert [b.data for row in challenge.buttons for b in row] == ["w:hello:ack"]
        assert challenge.delete_after == 300
        passed = await press(conv, "alice", "w:hello:ack")
        assert [a.text for a in sent(passed, act.AnswerButton)] == ["✅ Thank you — you can chat now!"]
        assert [a.user for a in sent(passed, act.UnmuteMember)] == ["sandbox:alice"]
        assert [a.text for a in sent(await press(conv, "carol", "w:hello:ack"), act.AnswerButton)] == [
            "This is for new members."
        ]
        welcomed = await conv.advance_actions(timedelta(seconds=10))
        assert texts(welcomed) == ["👋 Welcome to Group one, alice! We are 3 now — say hello."]
        timeout = await conv.advance_actions(timedelta(minutes=5))
        assert [a.user for a in sent(timeout, act.KickMember)] == ["sandbox:bob"]
        assert sent(timeout, act.DeleteMessage) != []  # the challenge message cleans itself up
        assert texts(timeout) == []  # bob is never welcomed
    finally:
        await conv.close()


class NoRightsToMute(RecordingAdapter):
    """The bot is not allowed to restrict members in this group."""

    async def perform(self, action: act.Action, idempotency_key: str) -> SendResult:
        if isinstance(action, act.MuteMember):
            raise PermanentError("not enough rights to restrict/unrestrict chat member")
        return await super().perform(action, idempotency_key)


async def test_a_member_whose_mute_failed_is_never_kicked_and_can_pass_by_typing() -> None:
    conv = await opened(GATE, adapter=NoRightsToMute)
    try:
        await join(conv, "erin")
        await join(conv, "dave")
        await conv.advance(timedelta(seconds=10))  # the challenge
        assert await conv.say("dave", "/agree") == []
        assert await conv.advance(timedelta(seconds=10)) == ["👋 Welcome to Group one, dave! We are 2 now — say hello."]
        later = await conv.advance_actions(timedelta(minutes=10))
        assert sent(later, act.KickMember) == []  # erin's mute never happened: she is not removed for it
        assert texts(later) == []
    finally:
        await conv.close()


async def test_keep_restricted_leaves_the_member_muted_instead_of_kicking() -> None:
    conv = await opened(GATE.replace('on_timeout = "kick"', 'on_timeout = "keep"'))
    try:
        await join(conv, "bob")
        actions = await conv.advance_actions(timedelta(minutes=10))
        assert sent(actions, act.KickMember) == [] and sent(actions, act.UnmuteMember) == []
    finally:
        await conv.close()


async def test_challenge_by_button_with_limited_attempts_and_by_typed_full_width_digits() -> None:
    conv = await opened(GATE.replace('mode = "rules"', 'mode = "challenge"\nattempts = 2'))
    try:
        await join(conv, "alice")
        await join(conv, "bob")
        [challenge] = sent(await conv.advance_actions(timedelta(seconds=10)))
        a, b = map(int, re.search(r"how much is (\d) \+ (\d)\?", challenge.content).groups())
        options = [btn.data for row in challenge.buttons for btn in row]
        right = f"w:hello:c:{a + b}"
        wrong = next(o for o in options if o != right)
        assert right in options and len(options) == 4
        toast = lambda actions: [x.text for x in sent(actions, act.AnswerButton)]  # noqa: E731
        assert toast(await press(conv, "alice", wrong)) == ["❌ Not quite. 1 attempt(s) left."]
        assert toast(await press(conv, "alice", right)) == ["✅ Thank you — you can chat now!"]
        full_width = str(a + b).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        assert await conv.say("bob", full_width) == []
        assert await conv.advance(timedelta(seconds=10)) == [
            "👋 Welcome to Group one, alice and bob! We are 2 now — say hello."
        ]
        await join(conv, "mallory")
        await conv.advance(timedelta(seconds=10))
        assert toast(await press(conv, "mallory", wrong)) == ["❌ Not quite. 1 attempt(s) left."]
        assert toast(await press(conv, "mallory", wrong)) == ["❌ No attempts left."]
        assert toast(await press(conv, "mallory", right)) == ["❌ No attempts left."]
        kicked = await conv.advance_actions(timedelta(minutes=5))
        assert [k.user for k in sent(kicked, act.KickMember)] == ["sandbox:mallory"]
    finally:
        await conv.close()


class TextOnly(RecordingAdapter):
    """A platform without buttons, mutes or kicks (like OneBot or WeCom): replies and nothing more."""

    features = frozenset({Feature.REPLIES})


async def test_without_buttons_the_gate_and_the_welcome_say_what_to_type() -> None:
    body = GATE.replace('mode = "rules"', 'mode = "challenge"').replace(
        "[campaigns.hello.verify]",
        'rules_url = "https://example.com/rules"\nintroduce = true\n[campaigns.hello.verify]',
    )
    conv = await opened(body, adapter=TextOnly)
    try:
        joined = await join(conv, "alice") + await join(conv, "bob")
        assert sent(joined, act.MuteMember) == []  # the platform cannot restrict: nobody is muted
        [challenge] = sent(await conv.advance_actions(timedelta(seconds=10)))
        assert challenge.buttons == ()
        a, b = map(int, re.search(r"how much is (\d) \+ (\d)\? Send the number\.", challenge.content).groups())
        assert challenge.content.endswith("\n📜 Rules: https://example.com/rules")
        assert "Press" not in challenge.content and "button" not in challenge.content
        assert await conv.say("bob", str((a + b) % 9 + 10)) == ["❌ Not quite. 2 attempt(s) left."]
        assert await conv.say("alice", str(a + b)) == []
        [welcome] = sent(await conv.advance_actions(timedelta(seconds=10)))
        assert welcome.buttons == ()
        assert welcome.content == (
            "👋 Welcome to Group one, alice! We are 2 now — say hello.\n📜 Rules: https://example.com/rules"
        )
        timeout = await conv.advance_actions(timedelta(minutes=5))
        assert sent(timeout, act.KickMember) == []  # never kicked where the platform could not restrict
        assert texts(timeout) == []  # bob failed and is not welcomed
    finally:
        await conv.close()


async def test_without_buttons_the_rules_gate_asks_for_agree() -> None:
    conv = await opened(GATE, adapter=TextOnly)
    try:
        await join(conv, "carol")
        [gate] = sent(await conv.advance_actions(timedelta(seconds=10)))
        assert gate.buttons == ()
        assert gate.content == (
            "👋 carol, welcome to Group one! Please read the rules and send /agree within 5 min to start chatting."
        )
        assert await conv.say("carol", "/agree") == []
        assert await conv.advance(timedelta(seconds=10)) == [
            "👋 Welcome to Group one, carol! We are 1 now — say hello."
        ]
    finally:
        await conv.close()


async def test_a_newcomer_who_leaves_before_verifying_is_forgotten() -> None:
    conv = await opened(GATE)
    try:
        await join(conv, "bob")
        await conv.deliver(conv.event("leave", "bob"))
        actions = await conv.advance_actions(timedelta(minutes=10))
        assert sent(actions) == [] and sent(actions, act.KickMember) == []
    finally:
        await conv.close()


# --- onboarding -------------------------------------------------------------------------------

ONBOARDING = """
[campaigns.hello]
type = "welcome"
batch_window = "0s"
[[campaigns.hello.onboarding]]
day = 0
text = "Day 0: hi {name}, this is how {group} works."
[[campaigns.hello.onboarding]]
day = 1
text = "Day 1: check in every day."
[[campaigns.hello.onboarding]]
day = 3
text = "Day 3: bring a friend!"
"""


def dms(actions: list[act.Action]) -> list[tuple[str, str]]:
    return [(a.user.removeprefix("sandbox:"), a.content[:5]) for a in sent(actions, act.SendDirect)]


async def test_onboarding_messages_on_days_0_1_3_stop_when_a_member_leaves_or_opts_out() -> None:
    conv = await opened(ONBOARDING)
    try:
        [welcome] = sent(await join(conv, "alice"))
        assert "/onboarding on" in welcome.content
        assert [b.data for row in welcome.buttons for b in row] == ["w:hello:onb"]
        opted = await press(conv, "alice", "w:hello:onb")
        [toast] = sent(opted, act.AnswerButton)
        assert toast.text.startswith("📬 You'll get a few tips")
        assert [a.content for a in sent(opted, act.SendDirect)] == ["Day 0: hi alice, this is how Group one works."]
        await join(conv, "bob")
        assert dms(await conv.deliver(conv.event("say", "bob", text="/onboarding on"))) == [("bob", "Day 0")]
        await join(conv, "carol")
        await conv.say("carol", "/onboarding on")
        assert await conv.say("carol", "/onboarding off") == ["Okay, no more tips."]
        assert await conv.say("dave", "/onboarding on please") == ["Usage: /onboarding on|off"]
        assert dms(await conv.advance_actions(timedelta(hours=23))) == []
        assert dms(await conv.advance_actions(timedelta(hours=1))) == [("alice", "Day 1"), ("bob", "Day 1")]
        await conv.deliver(conv.event("leave", "bob", at=START + timedelta(days=2)))
        assert dms(await conv.advance_actions(timedelta(days=2))) == [("alice", "Day 3")]
        assert dms(await conv.advance_actions(timedelta(days=30))) == []
        assert await conv.say("alice", "/onboarding on") == ["You have already received every tip."]
    finally:
        await conv.close()


def test_onboarding_days_must_increase() -> None:
    body = ONBOARDING.replace("day = 3", "day = 1")
    with pytest.raises(ConfigError, match="increasing days"):
        parse(HEAD + body, "hearth.toml")
