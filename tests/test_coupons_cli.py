"""``hearth coupons import|export|generate|status`` as an owner runs them: imports are all or
nothing with a report by line, generated codes are long and unambiguous, exports show what
became of every code given out."""

from __future__ import annotations

import asyncio
import csv
import io
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from storage.coupons import ALPHABET, MIN_RANDOM_CHARS, generate_code
from tests.harness import Conversation

POOLS = """
[bot]
database = "sqlite+aiosqlite:///{db}"
timezone = "Asia/Shanghai"
admins = ["sandbox:boss"]
[platforms.sandbox]
[coupons.friend10]
valid_for = "7d"
[coupons.vip]
prefix = "VIP-"
[campaigns.bring_a_friend]
type = "referral"
qualify_after = "1h"
qualify_messages = 0
inviter_reward = {{ coupon_pool = "friend10" }}
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "hearth.toml"
    path.write_text(POOLS.format(db=(tmp_path / "hearth.db").as_posix()), encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_with_malformed_rows_imports_nothing(tmp_path: Path, config: Path, capsys) -> None:
    bad = write(tmp_path, "bad.csv", "code,expires\nGOOD-0001,2027-01-31\nno spaces allowed,\nGOOD-0002,31/01/2027\n")
    code, _, err = run(capsys, "coupons", "import", "friend10", bad, "--config", config)
    assert code == 2
    assert f"{bad}:3: 'no spaces allowed' is not a coupon code" in err
    assert f"{bad}:4: expiry '31/01/2027' is not a date" in err
    assert "nothing imported" in err
    _, out, _ = run(capsys, "coupons", "status", "--config", config)
    assert "friend10: 0 available" in out


def test_import_reports_duplicates_and_is_idempotent(tmp_path: Path, config: Path, capsys) -> None:
    good = write(tmp_path, "good.csv", "\ufeffcode,valid_until\nAAA-111,2027-01-31\nBBB-222,\nAAA-111,\nCCC-333,\n")
    code, out, _ = run(capsys, "coupons", "import", "friend10", good, "--dry-run", "--config", config)
    assert code == 0 and "pool friend10: dry run, nothing written: 3 code(s) would be imported, 1 skipped" in out
    _, status, _ = run(capsys, "coupons", "status", "--config", config)
    assert "friend10: 0 available" in status
    code, out, _ = run(capsys, "coupons", "import", "friend10", good, "--config", config)
    assert code == 0
    assert f"{good}:4: duplicate of line 2: AAA-111" in out
    assert "pool friend10: 3 code(s) imported, 1 skipped" in out
    code, out, _ = run(capsys, "coupons", "import", "friend10", good, "--config", config)
    assert code == 0 and "0 code(s) imported, 4 skipped" in out and "already in pool friend10: BBB-222" in out
    code, _, err = run(capsys, "coupons", "import", "vip", good, "--config", config)
    assert code == 2 and "AAA-111 belongs to pool friend10" in err and "nothing imported" in err
    code, _, err = run(capsys, "coupons", "import", "nosuch", good, "--config", config)
    assert code == 2 and "pool 'nosuch' is not defined" in err
    _, out, _ = run(capsys, "coupons", "status", "--config", config)
    assert "friend10: 3 available" in out and "vip: 0 available" in out


def test_generated_codes_are_long_random_and_unambiguous(config: Path, capsys) -> None:
    assert MIN_RANDOM_CHARS * math.log2(len(ALPHABET)) >= 64
    assert not set("01ILO") & set(ALPHABET)
    many = {generate_code("X-", 16) for _ in range(5000)}
    assert len(many) == 5000
    sample = next(iter(many))
    assert sample.startswith("X-") and set(sample[2:].replace("-", "")) <= set(ALPHABET)
    assert len(sample[2:].replace("-", "")) == 16
    with pytest.raises(ValueError):
        generate_code("", MIN_RANDOM_CHARS - 1)
    code, out, _ = run(capsys, "coupons", "generate", "vip", "25", "--config", config)
    assert code == 0 and "pool vip: 25 code(s) generated" in out
    _, out, _ = run(capsys, "coupons", "export", "--pool", "vip", "--all", "--config", config)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 25 and all(r["code"].startswith("VIP-") and r["status"] == "available" for r in rows)


def test_export_shows_given_redeemed_and_expired_coupons(tmp_path: Path, config: Path, capsys) -> None:
    codes = write(tmp_path, "codes.csv", "FRIEND-001\nFRIEND-002\nFRIEND-003\n")
    assert run(capsys, "coupons", "import", "friend10", codes, "--config", config)[0] == 0

    async def campaign() -> None:  # a month ago: two coupons given (7 days' validity), one redeemed
        start = datetime.now(UTC) - timedelta(days=30)
        from bot.config import load

        chat = Conversation(load(config), start, database=load(config).bot.database)
        try:
            for inviter, friend in (("alice", "bob"), ("carol", "dave")):
                await chat.say(inviter, "/invite")
                await chat.deliver(chat.event("join", friend, invite=f"{inviter}@g1"))
                await chat.advance(timedelta(hours=2))
            assert "redeemed" in (await chat.say("boss", "/redeem FRIEND-001"))[0]
        finally:
            await chat.close()

    asyncio.run(campaign())
    out_file = tmp_path / "export.csv"
    code, out, _ = run(capsys, "coupons", "export", "--out", out_file, "--config", config)
    assert code == 0 and "2 coupon(s) written" in out
    rows = {r["code"]: r for r in csv.DictReader(out_file.open(encoding="utf-8"))}
    assert set(rows) == {"FRIEND-001", "FRIEND-002"}  # the unused code is not listed without --all
    assert (rows["FRIEND-001"]["status"], rows["FRIEND-001"]["member"]) == ("redeemed", "sandbox:alice")
    assert rows["FRIEND-001"]["redeemed_by"] == "sandbox:boss"
    assert (rows["FRIEND-002"]["status"], rows["FRIEND-002"]["member"]) == ("expired", "sandbox:carol")
    _, out, _ = run(capsys, "coupons", "status", "--config", config)
    assert "friend10: 1 available, 0 given and valid, 1 redeemed, 1 expired" in out
