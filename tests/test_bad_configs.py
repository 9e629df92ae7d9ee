"""A corpus of broken configs: `hearth check` names each problem as ``file:line: key: message``.

Every file in tests/configs/bad/ starts with one ``# expect: LINE: dotted.key: message part``
comment per problem it holds. `hearth check` must exit 2, print exactly those problems on
stderr (all of them, in one run), print nothing on stdout, and never show a traceback.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BAD = sorted((ROOT / "tests" / "configs" / "bad").glob("*.toml"))
_EXPECT = re.compile(r"^# expect: (\d+): (.+?): (.+)$")
_PROBLEM = re.compile(r"^(.+?):(\d+): (.+?): (.+)$")


@dataclass(frozen=True)
class Expected:
    line: int
    key: str
    message: str


def expectations(path: Path) -> list[Expected]:
    out = []
    for text in path.read_text(encoding="utf-8").splitlines():
        m = _EXPECT.match(text)
        if not m:
            break
        out.append(Expected(int(m.group(1)), m.group(2), m.group(3)))
    return out


def check(path: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    cmd = [sys.executable, "-m", "bot", "check", "--config", str(path)]
    return subprocess.run(cmd, cwd=ROOT, env=clean | (env or {}), capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def results() -> dict[Path, subprocess.CompletedProcess[str]]:
    """Every corpus file checked once, a few processes at a time."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip(BAD, pool.map(check, BAD), strict=True))


def problems_in(proc: subprocess.CompletedProcess[str]) -> list[str]:
    lines = proc.stderr.splitlines()
    assert lines and re.fullmatch(r"hearth: \d+ problem\(s\) in the config", lines[-1]), proc.stderr
    assert lines[-1] == f"hearth: {len(lines) - 1} problem(s) in the config"
    return lines[:-1]


def test_the_corpus_is_large_and_every_file_says_what_it_expects() -> None:
    assert len(BAD) >= 25
    for path in BAD:
        assert expectations(path), f"{path.name} has no '# expect:' first line"


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_config_is_reported_with_file_line_and_key(path: Path, results) -> None:
    proc = results[path]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    reported = problems_in(proc)
    for problem in reported:
        m = _PROBLEM.match(problem)
        assert m and m.group(1) == str(path), f"not 'file:line: key: message': {problem!r}"
    wanted = expectations(path)
    for want in wanted:
        prefix = f"{path}:{want.line}: {want.key}: "
        hits = [p for p in reported if p.startswith(prefix) and want.message in p[len(prefix) :]]
        assert hits, f"expected {prefix}...{want.message}... among:\n" + "\n".join(reported)
    assert len(reported) == len(wanted), "\n".join(reported)


def test_all_problems_of_a_file_come_in_one_run_in_line_order(results) -> None:
    """Field errors, a missing variable and checks across tables, from one `hearth check`."""
    path = ROOT / "tests" / "configs" / "bad" / "many_problems.toml"
    reported = problems_in(results[path])
    lines = [int(_PROBLEM.match(p).group(2)) for p in reported]  # type: ignore[union-attr]
    assert len(reported) >= 7
    assert lines == sorted(lines)
    keys = {_PROBLEM.match(p).group(3) for p in reported}  # type: ignore[union-attr]
    # a table that failed (groups[0]) does not hide the cross-table check of the next one
    assert {"groups[0].timezone", "groups[1].id", "campaigns.daily.pionts", "campaigns.weekly.ends"} <= keys


def test_an_unreadable_config_is_a_clear_error(tmp_path: Path) -> None:
    proc = check(tmp_path / "missing.toml")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"{tmp_path / 'missing.toml'}: cannot read: ")


def test_an_error_never_shows_a_value_that_came_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "hearth.toml"
    path.write_text('[bot]\ntimezone = "${HEARTH_TEST_SECRET}"\n\n[platforms.sandbox]\n', encoding="utf-8")
    proc = check(path, {"HEARTH_TEST_SECRET": "Hunter2-very-secret"})
    assert proc.returncode == 2
    assert "Hunter2" not in proc.stdout + proc.stderr
    assert f"{path}:2: bot.timezone: unknown timezone '${{...}}'" in proc.stderr
