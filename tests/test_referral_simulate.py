"""A month of "bring a friend" rehearsed with ``hearth simulate``: the transcript shows every
reward and refusal, and the summary is the owner's cost forecast (points, coupons per pool)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.config import load
from bot.simulate import simulate

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "examples" / "referral.toml"
SCRIPT = ROOT / "examples" / "referral-month.jsonl"


def test_the_month_as_the_owner_reads_it() -> None:
    script = Path(sys.executable).with_name("hearth")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bot"]
    done = subprocess.run(
        [*command, "simulate", "--config", str(CONFIG), "--script", str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    # bob joined on Dec 1 at 12:00 and wrote at once: rewarded by the scheduler 24 h later
    assert "2026-12-02 12:00 +0800 sandbox:g1 > bot: 🎉 bob joined through alice's invite" in out
    # dave stayed silent past the 24 h: he qualifies with his first message
    assert "2026-12-04 18:00 +0800 sandbox:g1 > bot: 🎉 dave joined through carol's invite" in out
    assert "erin joined through" not in out and "frank joined through" not in out
    assert "mallory joined through" not in out
    assert "🏅 alice has brought 3 friends" in out
    assert "ivan, who joined through your invite, left within 7 day(s)" in out
    assert out.splitlines()[-5:] == [
        "cost: points granted per campaign: bring_a_friend 350",
        "cost: coupons friend10: 5 given, 1 withdrawn, 0 owed while the pool was empty",
        "cost: coupons welcome5: 5 given, 1 withdrawn, 0 owed while the pool was empty",
        "cost: coupons vip20: 1 given, 0 withdrawn, 0 owed while the pool was empty",
        "referrals bring_a_friend: clawed_back 1, left 1, qualified 5, refused:rejoin 1, refused:self_referral 1",
    ]


async def test_the_json_summary_carries_the_cost_forecast() -> None:
    lines = await simulate(load(CONFIG), SCRIPT.read_text(encoding="utf-8"), str(SCRIPT), as_json=True)
    summary = json.loads(lines[-1])["summary"]
    assert summary["points"] == {"sandbox:alice": 250, "sandbox:bob": 50, "sandbox:carol": 50}
    assert summary["cost"]["points"] == {"bring_a_friend": 350}
    assert summary["cost"]["coupons"]["friend10"] == {"given": 5, "withdrawn": 1, "shortfall": 0}
    assert summary["cost"]["coupons"]["vip20"] == {"given": 1, "withdrawn": 0, "shortfall": 0}
    sent = [json.loads(line) for line in lines[:-1]]
    dms = [s for s in sent if s["action"] == "send_direct" and s["chat"] == "sandbox:alice"]
    assert len([d for d in dms if "FRIEND-" in d["text"]]) == 3 and any("VIP-" in d["text"] for d in dms)
