"""``hearth check`` on referral campaigns: the platform-policy lint (Discord, WeChat, WeCom),
coupon pools that must exist, and what the report prints."""

from __future__ import annotations

import tomllib

import pytest

from bot import policy_lint
from bot.check_report import report
from bot.config import Config, ConfigError, parse

CAMPAIGN = """
[platforms.sandbox]
[coupons.friend10]
generate = 10
[campaigns.bring_a_friend]
type = "referral"
inviter_reward = {{ points = 50, coupon_pool = "friend10" }}
groups = [{groups}]
{extra}
"""


def unchecked(groups: str, extra: str = "") -> Config:
    """The config as validated table by table, before the checks across tables."""
    return Config.model_validate(tomllib.loads(CAMPAIGN.format(groups=groups, extra=extra)))


@pytest.mark.parametrize(
    ("platform", "rule"),
    [("discord", "Platform Manipulation Policy"), ("wechat", "诱导分享"), ("wecom", "external-link content rules")],
)
def test_referral_on_a_platform_that_forbids_invite_rewards_is_refused(platform: str, rule: str) -> None:
    [(loc, message)] = policy_lint.findings(unchecked(f'"{platform}:123"'))
    assert loc == ("campaigns", "bring_a_friend", "type")
    assert rule in message and "acknowledge_platform_policy = true" in message


def test_acknowledged_policy_runs_with_a_warning_in_the_report() -> None:
    config = unchecked('"discord:123", "sandbox:g1"', "acknowledge_platform_policy = true")
    assert policy_lint.findings(config) == []
    text = report(config)
    assert "warning: campaign 'bring_a_friend' rewards invites on discord (acknowledged)" in text
    assert "Platform Manipulation Policy" in text
    assert "friend10: 10 generated codes" in text


def test_the_report_shows_a_pools_validity_as_written() -> None:
    text = CAMPAIGN.format(groups='"sandbox:g1"', extra="").replace("generate = 10", 'generate = 10\nvalid_for = "30d"')
    assert "  friend10: 10 generated codes, valid for 30d, admins told below" in report(parse(text, "shop.toml"))


def test_the_lint_names_file_line_and_key_through_the_config_loader() -> None:
    text = CAMPAIGN.format(groups='"discord:123"', extra="")
    with pytest.raises(ConfigError) as err:
        parse(text, "shop.toml")
    lines = [str(p) for p in err.value.problems]
    assert any(
        line.startswith("shop.toml:6: campaigns.bring_a_friend.type: a referral campaign on discord") for line in lines
    )


def test_sandbox_and_telegram_need_no_acknowledgement() -> None:
    config = parse(CAMPAIGN.format(groups='"sandbox:g1"', extra=""), "shop.toml")
    assert policy_lint.findings(config) == [] and policy_lint.warnings(config) == []


def test_an_undefined_coupon_pool_is_an_error() -> None:
    text = CAMPAIGN.format(groups='"sandbox:g1"', extra="").replace(
        'coupon_pool = "friend10"', 'coupon_pool = "frend10"'
    )
    with pytest.raises(ConfigError) as err:
        parse(text, "shop.toml")
    assert "coupon pool 'frend10' is not defined; add a [coupons.frend10] table" in str(err.value)


def test_referral_config_values_are_checked() -> None:
    bad = CAMPAIGN.format(groups='"sandbox:g1"', extra='qualify_after = "120d"\ntiers = [ { invites = 3 } ]')
    with pytest.raises(ConfigError) as err:
        parse(bad, "shop.toml")
    text = str(err.value)
    assert "qualify_after may be at most 90 days" in text and "a tier needs points or a coupon_pool" in text


def test_a_bridge_keyed_wechat_counts_as_wechat_when_the_campaign_names_no_groups() -> None:
    """An OneBot bridge whose account answers as ``wechat`` puts a group-less campaign on WeChat."""
    from bot.config import Platforms

    if "onebot" not in Platforms.model_fields:
        pytest.skip("the OneBot adapter is not part of this checkout")
    bridge = (
        '[platforms.onebot]\nmode = "reverse"\naccess_token = "x" \nlisten = "127.0.0.1:0"\n'
        '[[platforms.onebot.bots]]\nself_id = "10001"\nplatform = "wechat"\n'
    )
    text = CAMPAIGN.replace("groups = [{groups}]\n", "").format(extra="") + bridge
    with pytest.raises(ConfigError) as err:
        parse(text, "shop.toml")
    assert "a referral campaign on wechat" in str(err.value) and "诱导分享" in str(err.value)
