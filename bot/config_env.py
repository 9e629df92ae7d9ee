"""``${ENV_VAR}`` substitution in config strings, so secrets stay out of the file.

- ``${NAME}`` is replaced by the variable's value; an unset variable is an error.
- ``${NAME:-fallback}`` uses ``fallback`` when the variable is unset or empty.
- ``$${`` writes a literal ``${``; any other ``${`` is an error (a half-written reference
  must not pass as text).
- A value that is exactly one reference takes the type of its key: ``port = "${PORT}"``
  gives an integer when ``port`` is one.

Substituted values are remembered so that error messages can hide them (they may be secrets).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Path = tuple[str | int, ...]

_TOKEN = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{")
_WHOLE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}")


@dataclass
class Substituted:
    """The data with references replaced, what went wrong, and the values to keep out of messages."""

    data: Any
    problems: list[tuple[Path, str]] = field(default_factory=list)
    secrets: dict[Path, list[str]] = field(default_factory=dict)

    def hide(self, message: str, loc: Path) -> str:
        """``message`` about ``loc`` with the values substituted in or under it replaced by ``${...}``."""
        near = [v for p, values in self.secrets.items() if p[: len(loc)] == loc or loc[: len(p)] == p for v in values]
        for secret in sorted(near, key=len, reverse=True):
            message = message.replace(secret, "${...}")
        return message

    @property
    def failed(self) -> set[Path]:
        return {path for path, _ in self.problems}


def _coerce(text: str, expected: type | None) -> Any:
    """A whole-reference value as the scalar its key expects, when it reads as one."""
    if expected not in (int, float, bool):
        return text
    try:
        value = tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    if expected is float and type(value) is int:
        return float(value)
    return value if type(value) is expected else text


def substitute(
    data: Any,
    type_of: Callable[[Path], type | None] = lambda _: None,
    environ: Mapping[str, str] | None = None,
) -> Substituted:
    """Replace references in every string of ``data`` (keys are left alone)."""
    env = os.environ if environ is None else environ
    out = Substituted(None)

    def one(text: str, path: Path) -> Any:
        if "${" not in text:
            return text

        def repl(m: re.Match[str]) -> str:
            token, name, fallback = m.group(0), m.group(1), m.group(2)
            if token == "$${":
                return "${"
            if name is None:
                out.problems.append((path, "'${' starts no ${NAME} reference; write $${ for a literal '${'"))
                return ""
            value = env.get(name)
            if fallback is not None and not value:
                return fallback
            if value is None:
                out.problems.append((path, f"environment variable {name} is not set"))
                return ""
            if value:
                out.secrets.setdefault(path, []).append(value)
            return value

        result = _TOKEN.sub(repl, text)
        return _coerce(result, type_of(path)) if _WHOLE.fullmatch(text) else result

    def walk(value: Any, path: Path) -> Any:
        if isinstance(value, str):
            return one(value, path)
        if isinstance(value, dict):
            return {k: walk(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, (*path, i)) for i, v in enumerate(value)]
        return value

    out.data = walk(data, ())
    return out
