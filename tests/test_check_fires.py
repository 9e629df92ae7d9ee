"""``hearth check`` lists next fires only for campaigns that will fire: a disabled or ended
campaign says so instead, and a campaign's window bounds the fires shown."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.check_report import report
from bot.config import parse

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
CONFIG = """
[bot]
timezone = "Asia/Shanghai"
[platforms.sandbox]
[campaigns.off]
type = "announcement"
schedule = "0 9 * * *"
text = "x"
enabled = false
groups = ["sandbox:g1"]
[campaigns.over]
type = "announcement"
schedule = "0 9 * * *"
text = "x"
ends = 2026-01-31T23:59:00+08:00
groups = ["sandbox:g1"]
[campaigns.soon]
type = "announcement"
schedule = "0 9 * * *"
text = "x"
starts = 2026-04-01T00:00:00+08:00
ends = 2026-04-02T12:00:00+08:00
groups = ["sandbox:g1"]
"""


def section(text: str, campaign: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"  {campaign} ("))
    rest = lines[start + 1 :]
    return [line.strip() for line in rest[: next((i for i, x in enumerate(rest) if not x.startswith("    ")), None)]]


def test_disabled_and_ended_campaigns_list_no_fires_and_a_window_bounds_them() -> None:
    text = report(parse(CONFIG, "hearth.toml"), NOW)
    assert section(text, "off") == ["schedule: disabled, no fires (enabled = true or /campaign start turns it on)"]
    assert section(text, "over") == ["schedule: ended 2026-01-31 23:59 UTC+08:00, no fires"]
    assert section(text, "soon") == [
        "next in sandbox:g1 (Asia/Shanghai): Wed 2026-04-01 09:00 CST, Thu 2026-04-02 09:00 CST"
    ]


def test_check_lists_the_keyword_rules_in_order() -> None:
    rules = """
[platforms.sandbox]
[[rules]]
name = "price"
keywords = ["price", "多少钱"]
reply = "See the shop"
[[rules]]
name = "pin"
command = "pin"
admin_only = true
react = "📌"
groups = ["sandbox:g1"]
"""
    text = report(parse(rules, "hearth.toml"), NOW)
    listed = text.split("rules (in order):\n", 1)[1].splitlines()[:2]
    assert listed == [
        "  price: keywords 'price', '多少钱' -> reply (every group)",
        "  pin: /pin -> react 📌 (sandbox:g1, admins only)",
    ]
