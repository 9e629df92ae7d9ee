"""``hearth simulate`` as a group owner runs it: a real process, a config and a script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "tests" / "scripts"
EXAMPLE_CONFIG = ROOT / "examples" / "checkin.toml"
EXAMPLE_SCRIPT = ROOT / "examples" / "checkin-week.jsonl"


def hearth(*args: str | Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("hearth")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bot"]
    return subprocess.run(
        [*command, *map(str, args)], capture_output=True, text=True, timeout=120, cwd=ROOT, check=False
    )


def simulate(config: Path, script: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return hearth("simulate", "--config", config, "--script", script, *extra)


def test_transcript_reads_like_the_chat_with_local_times() -> None:
    done = simulate(EXAMPLE_CONFIG, EXAMPLE_SCRIPT)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:3] == [
        "2026-03-02 08:00 +0800 sandbox:g1 | alice: /checkin",
        "2026-03-02 08:00 +0800 sandbox:g1 > bot: ✅ Alice checked in: +10 points. Streak: 1 day(s). Total: 10.",
        "2026-03-02 09:00 +0800 sandbox:g1 > bot: Good morning, Coffee lovers! It is 2026-03-02 — check in with"
        " /checkin or 签到.",
    ]
    refusal = lines.index("2026-03-04 20:48 +0800 sandbox:g1 | carol: 签到") + 1
    assert lines[refusal] == (
        "2026-03-04 20:48 +0800 sandbox:g1 > bot: Carol, you have already checked in today"
        " — the next check-in opens in 3 h 12 min."
    )
    seven = lines.index("2026-03-08 10:00 +0800 sandbox:g1 | alice: /checkin") + 1
    assert "Streak: 7 day(s). Total: 200." in lines[seven] and "7-day streak! Bonus: +100" in lines[seven + 1]
    assert done.stderr == ""


def test_json_gives_one_object_per_action_and_a_summary() -> None:
    done = simulate(EXAMPLE_CONFIG, EXAMPLE_SCRIPT, "--json")
    assert done.returncode == 0, done.stderr
    *actions, last = [json.loads(line) for line in done.stdout.splitlines()]
    summary = last["summary"]
    assert summary["points"] == {"sandbox:alice": 200, "sandbox:bob": 80, "sandbox:carol": 70}
    assert summary["streaks"] == {"daily": {"sandbox:alice": 7, "sandbox:bob": 2, "sandbox:carol": 4}}
    assert summary["messages"] == 26
    assert len(actions) == 26
    assert {a["action"] for a in actions} == {"send_message"} and {a["chat"] for a in actions} == {"sandbox:g1"}
    morning = [a for a in actions if a["text"].startswith("Good morning")]
    assert [a["at"] for a in morning] == [f"2026-03-0{d}T09:00:00+08:00" for d in range(2, 9)]
    times = [a["at"] for a in actions]
    assert times == sorted(times)
    first = actions[0]
    assert first["at"] == "2026-03-02T08:00:00+08:00" and first["text"].startswith("✅ Alice checked in")


def test_the_announcement_fires_between_scripted_events_on_weekdays_only() -> None:
    done = simulate(SCRIPTS / "weekday.toml", SCRIPTS / "weekend.jsonl")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    posted = [line for line in lines if "Labrīt" in line]
    assert posted == [
        "2026-03-06 09:00 +0200 sandbox:lv > bot: Labrīt, Riga! 2026-03-06",
        "2026-03-09 09:00 +0200 sandbox:lv > bot: Labrīt, Riga! 2026-03-09",
    ]
    assert lines.index(posted[0]) < lines.index("2026-03-07 12:00 +0200 sandbox:lv | anna: /checkin")
    assert lines.index(posted[1]) < lines.index("2026-03-09 10:00 +0200 sandbox:lv | anna: /me")


@pytest.mark.parametrize(
    ("script", "line", "says"),
    [
        ("bad-json.jsonl", 2, "delimiter"),
        ("missing-user.jsonl", 4, "'user' must be a non-empty string"),
        ("no-offset.jsonl", 1, "'at' needs a UTC offset"),
        ("backwards.jsonl", 3, "goes back in time"),
        ("two-ops.jsonl", 1, "exactly one of 'text', 'join', 'leave', 'button'"),
    ],
)
def test_a_malformed_script_line_is_named_and_exits_2(script: str, line: int, says: str) -> None:
    path = SCRIPTS / script
    done = simulate(EXAMPLE_CONFIG, path)
    assert done.returncode == 2
    [message] = done.stderr.splitlines()
    assert message.startswith(f"{path}:{line}: ") and says in message
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_every_bad_line_is_reported_at_once(tmp_path: Path) -> None:
    script = tmp_path / "many.jsonl"
    script.write_text(
        "\n".join(
            [
                '{"at": "2026-03-02T08:00:00+08:00", "chat": "g1", "user": "alice", "text": "/checkin"}',
                "not json at all",
                '{"at": "2026-03-02T09:00:00+08:00", "chat": "g1", "user": "bob", "shout": "hi"}',
                '{"at": "2026-03-02T10:00:00+08:00", "chat": "g 1", "user": "bob", "text": "hi"}',
            ]
        ),
        encoding="utf-8",
    )
    done = simulate(EXAMPLE_CONFIG, script)
    assert done.returncode == 2
    assert [m.split(": ")[0] for m in done.stderr.splitlines()] == [f"{script}:{n}" for n in (2, 3, 4)]
    assert "Traceback" not in done.stderr


def test_a_missing_script_file_is_a_clear_error(tmp_path: Path) -> None:
    done = simulate(EXAMPLE_CONFIG, tmp_path / "nope.jsonl")
    assert done.returncode == 2 and "cannot read" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ('{"chat": "g1", "user": "alice", "text": "/checkin"}', "'at' is missing: when it happens, e.g. 2026-"),
        ('{"at": "tomorrow", "chat": "g1", "user": "alice", "text": "hi"}', "'at' is not a time: \"tomorrow\""),
        ('{"at": "2026-03-02T08:00:00+08:00", "chat": "g1", "user": "alice", "text": "hi"', "not valid JSON: "),
        ('{"at": "2026-03-02T08:00:00+08:00", "chat": "g7", "user": "alice", "text": "hi"}', "unknown chat 'g7'"),
        ('{"at": "2026-03-02T08:00:00+08:00", "chat": "g1", "user": "mallory", "text": "hi"}', "unknown member"),
    ],
)
def test_script_mistakes_get_a_friendly_message_with_file_and_line(tmp_path: Path, line: str, says: str) -> None:
    config = tmp_path / "club.toml"
    config.write_text('[platforms.sandbox]\nmembers = ["alice", "bob"]\n[campaigns.daily]\ntype = "checkin"\n')
    script = tmp_path / "week.jsonl"
    script.write_text('{"at": "2026-03-02T07:00:00+08:00", "chat": "g1", "user": "bob", "join": true}\n' + line + "\n")
    done = simulate(config, script)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"{script}:2: " + done.stderr.split(": ", 1)[1].rstrip("\n")]
    assert says in done.stderr and "Traceback" not in done.stderr and done.stdout == ""
