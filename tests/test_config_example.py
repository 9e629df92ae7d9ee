"""config.example.toml is the documented reference: it passes `hearth check`, and it cannot
fall behind the config models (every option is set somewhere in it, with a comment that says
what the option does and its default).

An option that should stay off in the example (a platform that needs a token) is shown
commented out as ``#key = value`` / ``#[table]``, with no space after ``#``; prose comments
have one. The coverage test reads the example with those lines switched on.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel

import campaigns
from bot.config import Config
from bot.config_lines import key_lines
from bot.config_schema import is_model, models_in, resolve, unwrap
from campaigns.base import REGISTRY

campaigns.load_all()
ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"


def run_check(path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    cmd = [sys.executable, "-m", "bot", "check", "--config", str(path)]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def checked() -> subprocess.CompletedProcess[str]:
    return run_check(EXAMPLE)


@pytest.fixture(scope="module")
def example() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


# --- `hearth check` on the example --------------------------------------------------------------


def test_example_passes_check(checked: subprocess.CompletedProcess[str]) -> None:
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr == ""
    assert checked.stdout.splitlines()[0] == f"{EXAMPLE}: OK"


def test_check_lists_every_campaign_with_its_commands(checked, example) -> None:
    lines = checked.stdout.splitlines()
    for name, table in example["campaigns"].items():
        heading = [line for line in lines if line.startswith(f"  {name} ({table['type']})")]
        assert len(heading) == 1, (name, checked.stdout)
        if table.get("enabled") is False:
            assert "(disabled)" in heading[0]
        for alias in table.get("aliases", []):
            assert any(line.strip().startswith("answers:") and alias in line.split() for line in lines), alias


_NAMES = {n: i for i, n in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}


def _cron_field(field: str, lo: int, hi: int) -> set[int]:
    """The values one simple cron field allows (numbers, weekday names, ranges, lists, *)."""
    out: set[int] = set()
    for item in field.split(","):
        if item == "*":
            out |= set(range(lo, hi + 1))
            continue
        a, _, b = item.partition("-")
        first = _NAMES[a] if a in _NAMES else int(a)
        last = first if not b else _NAMES[b] if b in _NAMES else int(b)
        out |= set(range(first, last + 1))
    return out


def _sections(stdout: str) -> dict[str, list[str]]:
    """Each campaign's indented lines in the report."""
    out: dict[str, list[str]] = {}
    current = None
    for line in stdout.splitlines():
        m = re.match(r"^  (\S+) \(", line)
        if m:
            current = out.setdefault(m.group(1), [])
        elif current is not None and line.startswith("    "):
            current.append(line.strip())
    return out


def test_check_shows_the_next_three_fires_of_every_schedule(checked, example) -> None:
    sections = _sections(checked.stdout)
    zones = {g["id"]: g.get("timezone", example["bot"]["timezone"]) for g in example["groups"]}
    every = [f"sandbox:{g['id']}" for g in example["platforms"]["sandbox"]["groups"]]
    scheduled = {name: t for name, t in example["campaigns"].items() if "schedule" in t and t.get("enabled", True)}
    assert scheduled, "the example should show at least one schedule"
    for name, table in example["campaigns"].items():
        if "schedule" in table and not table.get("enabled", True):  # a disabled campaign fires nowhere
            assert sections[name] == ["schedule: disabled, no fires (enabled = true or /campaign start turns it on)"]
    now = datetime.now()
    for name, table in scheduled.items():
        minute, hour, _day, _month, weekday = table["schedule"].split()
        weekdays = {d % 7 for d in _cron_field(weekday, 0, 7)}
        fires_lines = [line for line in sections[name] if line.startswith("next in ")]
        targets = table.get("groups", every)
        assert len(fires_lines) == len(targets), sections[name]
        for chat, line in zip(targets, fires_lines, strict=True):
            tz = zones.get(chat, example["bot"]["timezone"])
            assert line.startswith(f"next in {chat} ({tz}): ")
            fires = [
                datetime.strptime(" ".join(f.split()[1:3]), "%Y-%m-%d %H:%M")
                for f in line.split(": ", 1)[1].split(", ")
            ]
            names = [f.split()[0] for f in line.split(": ", 1)[1].split(", ")]
            assert len(fires) == 3
            assert fires == sorted(set(fires))
            assert fires[0] > now - timedelta(days=2)
            for fire, shown in zip(fires, names, strict=True):
                assert fire.strftime("%a") == shown
                assert fire.minute in _cron_field(minute, 0, 59) and fire.hour in _cron_field(hour, 0, 23)
                assert (fire.isoweekday() % 7) in weekdays, (name, fire)


# --- the example documents every option -----------------------------------------------------------


def _models() -> list[type[BaseModel]]:
    """Every config model: the root's tables, the campaign models, and what they nest."""
    return list(models_in(Config))


def _owner(model: type[BaseModel], field: str) -> type[BaseModel]:
    """The most basic model that declares ``field`` (so shared campaign keys count once)."""
    bases = [c for c in model.__mro__ if isinstance(c, type) and issubclass(c, BaseModel) and c is not BaseModel]
    return [c for c in bases if field in c.model_fields][-1]


def _tables(model: type[BaseModel], value: dict[str, Any], path: tuple) -> Any:
    """(model, path, table) for every table of the example, resolved to its model."""
    yield model, path, value
    for key, item in value.items():
        field = model.model_fields.get(key)
        if field is None:
            continue
        annotation = unwrap(field.annotation)
        items: list[tuple[tuple, Any, Any]] = [((*path, key), item, annotation)]
        if get_origin(annotation) is list:
            items = [((*path, key, i), x, get_args(annotation)[0]) for i, x in enumerate(item)]
        elif get_origin(annotation) is dict:
            items = [((*path, key, k), x, get_args(annotation)[1]) for k, x in item.items()]
        for sub_path, sub, sub_annotation in items:
            sub_model = resolve(sub_annotation, sub)  # a campaign table resolves to its type's model
            if is_model(sub_model):
                yield from _tables(sub_model, sub, sub_path)


def _documented(lines: list[str], number: int) -> str:
    """The comment on line ``number`` and the comment block right above it."""
    block = [lines[number - 1].partition("#")[2]]
    i = number - 2
    while i >= 0 and lines[i].lstrip().startswith("#"):
        block.append(lines[i])
        i -= 1
    return " ".join(block).lower()


def test_the_walk_finds_every_model() -> None:
    names = {m.__name__ for m in _models()}
    expected = {"BotSettings", "SchedulerSettings", "SandboxSettings", "SandboxGroup", "GroupSettings"}
    assert expected | {c.config_model.__name__ for c in REGISTRY.values()} | {"StreakReward"} <= names


def switched_on(text: str) -> str:
    """The example with its commented-out options (``#key = ...``, ``#[table]``) switched on."""
    return re.sub(r"(?m)^#(?=[\[\"'A-Za-z_])", "", text)


def test_commented_out_options_are_valid_toml_and_use_the_same_lines() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    full = switched_on(text)
    tomllib.loads(full)
    assert len(full.splitlines()) == len(text.splitlines())


def test_every_option_is_set_and_documented_in_the_example() -> None:
    text = switched_on(EXAMPLE.read_text(encoding="utf-8"))
    where = key_lines(text)
    first: dict[tuple[type, str], int] = {}
    for model, path, table in _tables(Config, tomllib.loads(text), ()):
        for key in table:
            owner = _owner(model, key)
            line = where[(*path, key)]
            first[(owner, key)] = min(first.get((owner, key), line), line)
    missing: set[str] = set()
    undocumented: set[str] = set()
    lines = text.splitlines()
    for model in _models():
        for name, field in model.model_fields.items():
            if field.exclude:
                continue  # not a TOML key (Config.source)
            owner = _owner(model, name)
            if (owner, name) not in first:
                missing.add(f"{owner.__name__}.{name}")
                continue
            comment = _documented(lines, first[(owner, name)])
            if ("required" if field.is_required() else "default") not in comment:
                undocumented.add(f"{owner.__name__}.{name} (line {first[(owner, name)]})")
    assert not missing, f"options missing from config.example.toml: {sorted(missing)}"
    assert not undocumented, f"options whose comment does not say their default or 'required': {sorted(undocumented)}"
