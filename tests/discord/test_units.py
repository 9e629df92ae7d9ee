"""The pure parts: settings and `hearth check`, encoding, slash-command JSON, invite diffs, the menu."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.base import PermanentError
from adapters.discord import encode as enc
from adapters.discord.invites import Known, diff
from adapters.discord.slash import canonical, command_json, guild_commands
from bot import actions as act
from bot import builtins, command_menu
from bot.config import parse
from bot.config_errors import ConfigError
from bot.engine import build_campaigns
from tests.discord import payloads as p

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BASE = f"""
[platforms.discord]
token = "{p.TOKEN}"
[[platforms.discord.guilds]]
id = "{p.GUILD}"
channels = ["{p.GENERAL}", "{p.EVENTS}"]
"""


# --- settings and hearth check --------------------------------------------------------------------


def test_notes_say_what_each_missing_intent_disables_naming_the_campaigns() -> None:
    config = parse(
        BASE
        + """
[campaigns.daily]
type = "checkin"
aliases = ["签到"]
[campaigns.greet]
type = "welcome"
[[rules]]
name = "price"
keywords = ["price"]
reply = "See the pinned message."
"""
    )
    notes = "\n".join(config.platforms.discord.check_notes(config))
    assert f"guild {p.GUILD}: discord:{p.GENERAL}, discord:{p.EVENTS} (joins count in discord:{p.GENERAL})" in notes
    assert "intent members: OFF" in notes and "campaigns greet do nothing on Discord joins" in notes
    assert "intent message_content: OFF" in notes and "aliases of daily" in notes and "1 keyword rule(s)" in notes
    on = parse(BASE + "[platforms.discord.intents]\nmembers = true\nmessage_content = true\n")
    text = "\n".join(on.platforms.discord.check_notes(on))
    assert "intent members: on" in text and "intent message_content: on" in text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[[groups]]\nid = "discord:1180000000000000099"\n', "discord:1180000000000000099 is not a channel Hearth"),
        (
            '[campaigns.daily]\ntype = "checkin"\ngroups = ["discord:1180000000000000099"]\n',
            "is not a channel Hearth works in",
        ),
    ],
)
def test_discord_groups_must_be_configured_channels(extra: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse(BASE + extra, "x.toml")
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('token = "Bot abc.def.ghi"', 'without the "Bot " prefix'),
        ('token = "not-a-token"', "does not look like a bot token"),
        ('token = "tooshort"', "does not look like a bot token"),
    ],
)
def test_bad_tokens_are_refused_without_echoing_them(table: str, message: str) -> None:
    text = BASE.replace(f'token = "{p.TOKEN}"', table)
    with pytest.raises(ConfigError) as err:
        parse(text, "x.toml")
    assert message in str(err.value) and "not-a-token" not in str(err.value)


def test_ids_may_be_integers_and_bad_ones_are_named() -> None:
    config = parse(BASE.replace(f'"{p.EVENTS}"', p.EVENTS))
    assert config.platforms.discord.guilds[0].channels == [p.GENERAL, p.EVENTS]
    with pytest.raises(ConfigError, match="is not a Discord id"):
        parse(BASE.replace(f'"{p.EVENTS}"', '"#events"'))
    with pytest.raises(ConfigError, match="join_channel"):
        parse(BASE + 'join_channel = "1180000000000000099"\n')
    with pytest.raises(ConfigError, match="listed under two guilds"):
        parse(BASE + f'[[platforms.discord.guilds]]\nid = "1180000000000000002"\nchannels = ["{p.GENERAL}"]\n')


# --- encoding --------------------------------------------------------------------------------------


def test_long_text_is_split_at_line_ends_and_never_inside_an_escape() -> None:
    parts = enc.split_content(("a" * 1998 + "*") * 3)
    assert all(len(x) <= 2000 for x in parts) and all(not x.endswith("\\") for x in parts)
    assert "".join(parts).replace("\\*", "*") == ("a" * 1998 + "*") * 3
    assert enc.split_content("") == ["\u200b"]  # Discord refuses an empty message


def test_buttons_become_at_most_five_rows_of_five_with_prefixed_ids() -> None:
    rows = tuple(tuple(act.Button(f"{r}{c}", data=f"d:{r}:{c}") for c in range(7)) for r in range(7))
    out = enc.components(rows)
    assert len(out) == 5 and all(len(r["components"]) == 5 for r in out)
    assert out[0]["components"][0] == {"type": 2, "style": 2, "label": "00", "custom_id": "h:d:0:0"}
    assert enc.custom_id("y" * 200).startswith("h#") and len(enc.custom_id("y" * 200)) <= 100
    assert enc.long_button_data(((act.Button("x", data="y" * 200),),)) == {enc.custom_id("y" * 200): "y" * 200}


def test_encode_routes_and_guild_actions() -> None:
    guild_of = {p.GENERAL: p.GUILD}
    chat = f"discord:{p.GENERAL}"
    [kick] = enc.encode(act.KickMember(chat, "discord:5"), guild_of, NOW)
    assert (kick.method, kick.path, kick.params) == (
        "DELETE",
        "/guilds/{guild_id}/members/{user_id}",
        {"guild_id": p.GUILD, "user_id": "5"},
    )
    [mute] = enc.encode(act.MuteMember(chat, "discord:5", seconds=90 * 86400), guild_of, NOW)
    assert mute.json == {"communication_disabled_until": "2026-03-29T12:00:00+00:00"}  # capped at 28 days
    assert enc.encode(act.DeleteMessage(chat, "interaction:1"), guild_of, NOW) == []
    with pytest.raises(PermanentError, match="not a channel of a configured guild"):
        enc.encode(act.KickMember("discord:42", "discord:5"), guild_of, NOW)
    with pytest.raises(PermanentError, match="polls"):
        enc.encode(act.SendPoll(chat, "?", ("a", "b")), guild_of, NOW)
    with pytest.raises(PermanentError):
        enc.snowflake("telegram:-100")
    [reply] = enc.encode(act.SendMessage(chat, "hi", reply_to="77"), guild_of, NOW)
    assert reply.json["message_reference"] == {"message_id": "77", "fail_if_not_exists": False}


# --- slash commands from the registry ---------------------------------------------------------------


def _menu(toml: str = "") -> list[command_menu.MenuCommand]:
    config = parse(BASE + toml)
    builtins.load_all()
    return command_menu.registry(build_campaigns(config), [b.spec for b in builtins.REGISTRY.values()])


EVERYTHING = """
[campaigns.daily]
type = "checkin"
[campaigns.greet]
type = "welcome"
onboarding = [{ day = 0, text = "Hi" }]
verify = { mode = "rules" }
[campaigns.friends]
type = "referral"
acknowledge_platform_policy = true
[campaigns.trivia]
type = "quiz"
questions = [{ text = "2+2?", choices = ["4", "5"], correct = 1 }]
[campaigns.voice]
type = "feedback"
question = "How was it?"
schedule = "0 9 * * mon"
"""


def test_every_registered_command_has_typed_options_and_valid_names() -> None:
    menu = _menu(EVERYTHING)
    names = {c.name for c in menu}
    assert {"checkin", "me", "top", "invite", "quiz", "feedback", "onboarding", "agree", "points", "help"} <= names
    for command in menu:
        for variant in command.variants:
            assert [o.name for o in variant.options] != [command_menu.FREE_TEXT], command.name
        payload = command_json(command, "en")
        assert 1 <= len(payload["description"]) <= 100
        for option in payload.get("options", []):
            assert option["name"] == option["name"].lower() and len(option["name"]) <= 32
            assert 1 <= len(option["description"]) <= 100
    quiz = next(c for c in menu if c.name == "quiz")
    assert [v.word for v in quiz.variants] == ["start", "stop", "top"] and not quiz.admin
    assert next(c for c in menu if c.name == "me").private


def test_guild_commands_leave_out_what_no_campaign_answers_there() -> None:
    menu = _menu(f'[campaigns.daily]\ntype = "checkin"\ngroups = ["discord:{p.EVENTS}"]\n')
    events = {c["name"] for c in guild_commands(menu, {f"discord:{p.EVENTS}"}, "en")}
    elsewhere = {c["name"] for c in guild_commands(menu, {"discord:1"}, "en")}
    assert "checkin" in events and "checkin" not in elsewhere and "help" in elsewhere


def test_canonical_ignores_what_discord_adds() -> None:
    wanted = guild_commands(_menu(EVERYTHING), {f"discord:{p.GENERAL}"}, "en")
    registered = [
        {**c, "id": "1", "application_id": "2", "version": "3", "nsfw": False, "contexts": None}
        | {"options": [{k: v for k, v in o.items() if not (k == "required" and v is False)} for o in c["options"]]}
        if "options" in c
        else {**c, "id": "1", "version": "3"}
        for c in wanted
    ]
    assert canonical(registered) == canonical(wanted)
    changed = [dict(c) for c in registered]
    changed[0]["description"] = "old text"
    assert canonical(changed) != canonical(wanted)


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        ("/x", [(None, [])]),
        ("/x [TEXT]", [(None, [("text", "text", False)])]),
        ("/x on|off", [("on", []), ("off", [])]),
        ("/x a NAME | b", [("a", [("name", "text", True)]), ("b", [])]),
        (
            "/x @member N [reason]",
            [(None, [("member", "member", True), ("number", "integer", True), ("reason", "text", False)])],
        ),
        ("/x [N] NAME", [(None, [("number", "integer", False), ("name", "text", False)])]),  # required after optional
        ("/x NAME NAME", [(None, [("name", "text", True), ("name2", "text", True)])]),
    ],
)
def test_usage_grammar(usage: str, expected: list) -> None:
    parsed = command_menu.parse_usage("x", usage)
    assert [(w, [(o.name, o.kind, o.required) for o in opts]) for w, opts in parsed] == expected


@pytest.mark.parametrize("usage", ["/y", "/x a|B", "/x [a|b]", "/xyz"])
def test_usage_that_does_not_parse_is_none(usage: str) -> None:
    assert command_menu.parse_usage("x", usage) is None


# --- invite diffs -------------------------------------------------------------------------------------


def _k(code: str, uses: int, max_uses: int = 0) -> Known:
    return Known(code, uses, max_uses, "1", "9")


def test_one_invite_moving_by_one_is_exact() -> None:
    found = diff({"a": _k("a", 3), "b": _k("b", 1)}, {"a": _k("a", 4), "b": _k("b", 1)})
    assert (found.confidence, found.invite.code) == ("exact", "a")


def test_several_moving_or_several_joins_is_approximate_naming_the_biggest_move() -> None:
    two = diff({"a": _k("a", 0), "b": _k("b", 0)}, {"a": _k("a", 1), "b": _k("b", 2)})
    assert (two.confidence, two.invite.code) == ("approximate", "b")
    assert diff({"a": _k("a", 0)}, {"a": _k("a", 1)}, joins=2).confidence == "approximate"
    assert diff({"a": _k("a", 0)}, {"a": _k("a", 2)}).confidence == "approximate"


def test_a_used_up_invite_that_vanished_counts_and_nothing_moving_is_unknown() -> None:
    found = diff({"once": _k("once", 0, max_uses=1)}, {})
    assert (found.confidence, found.invite.code) == ("exact", "once")
    assert diff({"gone": _k("gone", 3)}, {}).confidence == "unknown"  # deleted by someone, not used
    assert diff({"a": _k("a", 1)}, {"a": _k("a", 1)}).confidence == "unknown"
    fresh = diff({}, {"new": _k("new", 1)})  # made and used between two listings
    assert (fresh.confidence, fresh.invite.code) == ("exact", "new")
