"""``hearth wecom``: join ways (create with the PNG saved, list, delete, prune of ended
campaigns), broadcasts, the welcome template and group figures, against the fake WeCom."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot import cli
from tests.wecom.conftest import OWNER, config_text
from tests.wecom.fake_wecom import PNG

GROUP = "wrCli"
CAMPAIGNS = f"""
[campaigns.bring]
type = "referral"
groups = ["wecom:{GROUP}"]
starts = 2026-06-01T00:00:00+08:00
qualify_messages = 0
announce = false
acknowledge_platform_policy = true

[campaigns.spring]
type = "referral"
groups = ["wecom:{GROUP}"]
qualify_messages = 0
announce = false
acknowledge_platform_policy = true
ends = 2026-03-01T00:00:00+08:00

[campaigns.hello]
type = "welcome"
groups = ["wecom:{GROUP}"]
text = "Welcome {{name}} to {{group}}! We are {{count}} now."
"""


async def hearth(capsys, *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(cli.main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_join_ways_end_to_end(fake, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # a create without --out saves its PNG in the current directory
    fake.add_group(GROUP, OWNER, "Tea house")
    config = tmp_path / "hearth.toml"
    config.write_text(config_text(fake, tmp_path / "hearth.db", CAMPAIGNS), encoding="utf-8")
    c = str(config)
    png = tmp_path / "alice.png"
    code, out, err = await hearth(
        capsys,
        "wecom",
        "join-way",
        "create",
        "-c",
        c,
        "--campaign",
        "bring",
        "--referrer",
        "wecom:wmAlice",
        "--out",
        str(png),
    )
    assert code == 0, err
    [way] = fake.join_ways.values()
    assert way["scene"] == 2 and way["chat_id_list"] == [GROUP] and len(way["state"]) <= 30
    assert f"QR code: {way['qr_code']}" in out and png.read_bytes() == PNG

    code, out, _ = await hearth(
        capsys, "wecom", "join-way", "create", "-c", c, "--campaign", "bring", "--referrer", "poster-shop1"
    )
    assert code == 0 and len(fake.join_ways) == 2
    poster = next(w for w in fake.join_ways.values() if w["state"] != way["state"])
    saved = tmp_path / f"joinway-bring-{poster['state']}.png"
    assert f"saved: {saved.name}" in out and saved.read_bytes() == PNG
    code, out, _ = await hearth(capsys, "wecom", "join-way", "list", "-c", c)
    assert "referrer wecom:wmAlice" in out and "referrer poster-shop1" in out

    code, out, _ = await hearth(capsys, "wecom", "join-way", "delete", "-c", c, poster["state"])
    assert code == 0 and [w["state"] for w in fake.join_ways.values()] == [way["state"]]

    code, out, _ = await hearth(capsys, "wecom", "join-way", "prune", "-c", c)  # bring is still running
    assert "0 join way(s) of ended campaigns deleted" in out and len(fake.join_ways) == 1
    config.write_text(config.read_text().replace("[campaigns.bring]", "[campaigns.bring]\nenabled = false"))
    code, out, _ = await hearth(capsys, "wecom", "join-way", "prune", "-c", c)  # switched off: its codes go
    assert "1 join way(s) of ended campaigns deleted" in out and fake.join_ways == {}
    code, out, _ = await hearth(capsys, "wecom", "join-way", "list", "-c", c)
    assert out.strip() == "no join ways"


async def test_refusals_are_clear(fake, tmp_path: Path, capsys) -> None:
    config = tmp_path / "hearth.toml"
    config.write_text(config_text(fake, tmp_path / "hearth.db", CAMPAIGNS), encoding="utf-8")
    c = str(config)
    code, _, err = await hearth(capsys, "wecom", "join-way", "create", "-c", c, "--campaign", "nope", "--referrer", "x")
    assert code == 2 and "no campaign 'nope'" in err
    create = ("wecom", "join-way", "create", "-c", c, "--referrer", "x", "--campaign")
    code, _, err = await hearth(capsys, *create, "spring")
    assert code == 2 and "has ended" in err
    code, _, err = await hearth(
        capsys, "wecom", "join-way", "create", "-c", c, "--campaign", "bring", "--referrer", "a b"
    )
    assert code == 1 and "neither a member key" in err
    fake.fail_next["add_join_way"] = [41054]
    code, _, err = await hearth(
        capsys, "wecom", "join-way", "create", "-c", c, "--campaign", "bring", "--referrer", "x"
    )
    assert code == 1 and "errcode 41054" in err and fake.secret not in err


async def test_welcome_template_follows_the_campaign_text(fake, tmp_path: Path, capsys) -> None:
    fake.add_group(GROUP, OWNER, "Tea house")
    config = tmp_path / "hearth.toml"
    config.write_text(config_text(fake, tmp_path / "hearth.db", CAMPAIGNS), encoding="utf-8")
    c = str(config)
    code, out, err = await hearth(capsys, "wecom", "welcome", "sync", "-c", c)
    assert code == 0, err
    assert "hello: welcome template" in out and "created" in out
    [(template_id, text)] = fake.welcome.items()
    assert text == "Welcome %NICKNAME% to Hearth! We are now."  # the group is not synced yet
    code, out, _ = await hearth(capsys, "wecom", "welcome", "sync", "-c", c)
    assert "unchanged" in out and len(fake.called("group_welcome_template/add")) == 1
    config.write_text(config.read_text().replace("Welcome {name}", "Hi {name}, welcome"), encoding="utf-8")
    code, out, _ = await hearth(capsys, "wecom", "welcome", "sync", "-c", c)
    assert "updated" in out and fake.welcome[template_id].startswith("Hi %NICKNAME%, welcome")


async def test_broadcasts_and_groups_listings(fake, tmp_path: Path, capsys) -> None:
    config = tmp_path / "hearth.toml"
    config.write_text(config_text(fake, tmp_path / "hearth.db", CAMPAIGNS), encoding="utf-8")
    code, out, _ = await hearth(capsys, "wecom", "broadcasts", "-c", str(config))
    assert code == 0 and "no WeCom broadcasts yet" in out
    code, out, _ = await hearth(capsys, "wecom", "groups", "-c", str(config))
    assert code == 0 and "no WeCom group figures yet" in out
