"""``hearth run`` (the App) with a welcome campaign for WeCom groups syncs the group welcome
template from the campaign's text at start: created once, untouched while the text is the same
(no API call), edited when the text changed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.app import App
from bot.config import parse
from tests.wecom.conftest import OWNER, config_text

GROUP = "wrWelcome"
CAMPAIGN = """
[campaigns.hello]
type = "welcome"
groups = ["wecom:wrWelcome"]
text = "Welcome {name} to {group}!"
"""


async def run_once(text: str) -> None:
    app = App(parse(text, "hearth.toml"))
    await app.start()
    try:
        await asyncio.wait_for(app.adapters["wecom"].welcome_checked.wait(), 60)  # type: ignore[attr-defined]
    finally:
        await app.stop()


async def test_the_welcome_template_follows_the_campaign_at_each_start(fake, tmp_path: Path) -> None:
    fake.add_group(GROUP, OWNER, "Tea house")
    text = config_text(fake, tmp_path / "hearth.db", CAMPAIGN)
    await run_once(text)
    [(template_id, content)] = fake.welcome.items()
    assert content == "Welcome %NICKNAME% to Tea house!"  # after the first sync: the group's name is known

    await run_once(text)  # the same text: WeCom is not asked
    assert len(fake.called("group_welcome_template/add")) == 1
    assert fake.called("group_welcome_template/edit") == []

    await run_once(text.replace("Welcome {name}", "Hello {name}, welcome"))
    assert fake.welcome == {template_id: "Hello %NICKNAME%, welcome to Tea house!"}
    assert len(fake.called("group_welcome_template/edit")) == 1


async def test_no_welcome_campaign_no_template(fake, tmp_path: Path) -> None:
    fake.add_group(GROUP, OWNER, "Tea house")
    await run_once(config_text(fake, tmp_path / "hearth.db"))
    assert fake.welcome == {} and not any("group_welcome_template" in c.path for c in fake.calls)
