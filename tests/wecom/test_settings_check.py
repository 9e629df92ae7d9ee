"""``[platforms.wecom]`` validation and what ``hearth check`` says about WeCom groups."""

from __future__ import annotations

import pytest

from bot.check_report import report
from bot.config import ConfigError, parse
from tests.wecom.sender import AES_KEY, TOKEN

SECRET = "app-secret-never-printed"
BASE = f"""
[platforms.wecom]
corp_id = "ww0123456789abcdef"
secret = "{SECRET}"
callback_token = "{TOKEN}"
encoding_aes_key = "{AES_KEY}"
staff = ["zhangsan"]
"""


def problems(extra: str, base: str = BASE) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse(base + extra, "wecom.toml")
    return [str(p) for p in err.value.problems]


def test_a_valid_table_and_its_secrets_stay_hidden() -> None:
    config = parse(BASE, "wecom.toml")
    s = config.platforms.wecom
    assert s is not None and s.port == 8090 and s.path == "/wecom/callback"
    assert s.api_base == "https://qyapi.weixin.qq.com"
    for secret in (SECRET, TOKEN, AES_KEY):
        assert secret not in repr(s) and secret not in repr(config)


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("encoding_aes_key", AES_KEY[:42], "43 characters"),
        ("encoding_aes_key", "!" * 43, "base64"),
        ("callback_token", "has spaces", "letters and digits"),
        ("corp_id", "not a corp id!", "corp id"),
        ("staff", ["ok", "no spaces allowed"], "userid"),
        ("api_base", "ftp://x", "http(s) URL"),
    ],
)
def test_bad_values_name_the_key(key: str, value: object, says: str) -> None:
    rendered = f'"{value}"' if isinstance(value, str) else "[" + ", ".join(f'"{v}"' for v in value) + "]"
    lines = [ln for ln in BASE.splitlines() if not ln.startswith(f"{key} =")]
    [problem] = problems("", "\n".join(lines) + f"\n{key} = {rendered}\n")
    assert f"platforms.wecom.{key}" in problem and says in problem
    assert AES_KEY[:42] not in problem


@pytest.mark.parametrize(
    ("campaign", "where", "says"),
    [
        ('type = "checkin"', "groups[0]", "a checkin campaign cannot run in a WeCom group"),
        ('type = "quiz"\nquestions = [{ text = "1+1?", answers = ["2"] }]', "groups[0]", "quiz campaign cannot"),
        (
            'type = "poll"\nquestion = "Tea?"\noptions = ["yes", "no"]\nschedule = "0 9 * * *"',
            "groups[0]",
            "poll campaign cannot",
        ),
        ('type = "welcome"\n[campaigns.x.verify]', "verify", "verification gate cannot run"),
        ('type = "referral"\nacknowledge_platform_policy = true', "qualify_messages", "time in the group only"),
    ],
)
def test_campaigns_that_need_chat_are_errors_with_reason_and_alternative(campaign: str, where: str, says: str) -> None:
    text = f'\n[campaigns.x]\ngroups = ["telegram:-100", "wecom:wrG"]\n{campaign}\n'
    found = [p for p in problems(text) if "campaigns.x" in p and "WeCom" in p]
    assert found, problems(text)
    assert says in found[0] and "no access to chat text" in found[0]
    assert where in found[0] or where == "groups[0]"


def test_a_referral_on_time_alone_passes_and_notes_explain_wecom() -> None:
    config = parse(
        BASE
        + """
[campaigns.bring]
type = "referral"
groups = ["wecom:wrG"]
qualify_messages = 0
announce = false
acknowledge_platform_policy = true

[campaigns.hello]
type = "welcome"
groups = ["wecom:wrG"]

[campaigns.news]
type = "announcement"
groups = ["wecom:wrG"]
schedule = "0 9 * * *"
text = "Morning!"
""",
        "wecom.toml",
    )
    out = report(config)
    assert "wecom:" in out
    assert "hello: its text becomes the group welcome template" in out
    assert "news: becomes a broadcast task the group owner confirms" in out
    assert "bring: joins are attributed by join ways" in out
    assert "staff's /joinway in the app chat is off (set agent_id" in out
    with_app = report(parse(BASE.replace("[platforms.wecom]", "[platforms.wecom]\nagent_id = 1000002"), "w.toml"))
    assert "staff make referral QR codes by sending /joinway CAMPAIGN [REFERRER] to app 1000002" in with_app


def test_keyword_rules_on_a_wecom_group_are_an_error() -> None:
    text = '\n[[rules]]\nname = "hi"\nkeywords = ["hi"]\nreply = "hello"\ngroups = ["wecom:wrG"]\n'
    assert any("rules[0].groups[0]" in p and "keyword rules cannot run" in p for p in problems(text))
