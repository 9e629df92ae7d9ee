"""Hearth's command registry as a platform command menu: names, descriptions, typed options.

Platforms with native command menus (Discord's slash commands) build them from this, never
from a second hand-written list. The source is what the engine answers: every campaign's
:meth:`~campaigns.base.Campaign.commands` and the built-ins (``/help``, the admin commands).
Each command's ``usage`` line is the one grammar for ``/help``, usage hints and typed options::

    /quiz start NAME            a subcommand word, then a text option "name"
    /quiz top [season]          [...] is optional
    /points add|remove @member N reason
                                add|remove: two subcommand words; @member: a member;
                                N: a whole number; anything else: text
    /streak repair @member YYYY-MM-DD reason
    /campaign list | status NAME | start NAME
                                " | " separates whole alternatives

A usage this grammar cannot express becomes one optional free-text option, so a command is
never lost from the menu; the engine parses what the member typed either way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

OptionKind = Literal["text", "integer", "member"]
_WORDS = re.compile(r"^[a-z][a-z0-9_-]*(?:\|[a-z][a-z0-9_-]*)*$")
_NAMED = {"N": ("number", "integer"), "YYYY-MM-DD": ("date", "text")}
FREE_TEXT = "arguments"


class Spec(Protocol):
    """What this module reads of a :class:`campaigns.base.CommandSpec`."""

    name: str
    description: str
    usage: str
    admin: bool
    private: bool


@dataclass(frozen=True, slots=True)
class Option:
    name: str  # lower case, unique within its variant
    kind: OptionKind
    required: bool = True
    hint: str = ""  # the usage token as written: "NAME", "@member", "YYYY-MM-DD"


@dataclass(frozen=True, slots=True)
class Variant:
    """One way to call a command: a subcommand word (or none) and its options, in usage order."""

    word: str | None
    options: tuple[Option, ...]
    description: str  # i18n key
    admin: bool


@dataclass(frozen=True, slots=True)
class MenuCommand:
    name: str
    description: str  # i18n key
    variants: tuple[Variant, ...]
    admin: bool  # every use is for admins
    private: bool  # the answer concerns only the caller (shown to them alone where possible)
    groups: frozenset[str] | None  # chat keys where some campaign answers it; None: everywhere

    def options_of(self, word: str | None) -> tuple[Option, ...]:
        for variant in self.variants:
            if variant.word == word:
                return variant.options
        return ()


def _option_name(token: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9_-]+", "_", token.lower()).strip("_-") or "value"
    name, n = base[:30], 2
    while name in taken:
        name, n = f"{base[:28]}{n}", n + 1
    taken.add(name)
    return name


def _options(tokens: Sequence[str]) -> tuple[Option, ...] | None:
    """Typed options for the parameter tokens of a usage, or None if they cannot be typed."""
    out: list[Option] = []
    taken: set[str] = set()
    optional_seen = False
    for raw in tokens:
        optional = raw.startswith("[") and raw.endswith("]")
        token = raw[1:-1] if optional else raw
        if not token or any(c in token for c in "[]|"):
            return None
        optional_seen = optional_seen or optional
        if token.startswith("@"):
            name, kind, hint = token[1:] or "member", "member", token
        elif token in _NAMED:
            (name, kind), hint = _NAMED[token], token
        else:
            name, kind, hint = token, "text", token
        out.append(Option(_option_name(name, taken), kind, not optional_seen, hint))  # type: ignore[arg-type]
    return tuple(out)


def parse_usage(name: str, usage: str) -> list[tuple[str | None, tuple[Option, ...]]] | None:
    """``[(subcommand word or None, options)]`` for a usage line; None when it does not parse."""
    text = usage.strip() or f"/{name}"
    head = f"/{name}"
    if not text.lower().startswith(head.lower()) or (len(text) > len(head) and not text[len(head)].isspace()):
        return None
    out: list[tuple[str | None, tuple[Option, ...]]] = []
    for alternative in text[len(head) :].split(" | "):
        tokens = alternative.split()
        words: list[str | None] = [None]
        if tokens and _WORDS.match(tokens[0]):
            words = list(tokens[0].split("|"))
            tokens = tokens[1:]
        options = _options(tokens)
        if options is None:
            return None
        out += [(w, options) for w in words]
    return out


def _free_text(spec: Spec) -> Variant:
    return Variant(None, (Option(FREE_TEXT, "text", False, spec.usage),), spec.description, spec.admin)


def _variants(specs: Sequence[Spec]) -> tuple[Variant, ...]:
    """Every spec's alternatives; a command mixing a bare form with subcommands, or whose
    usage does not parse, takes free text."""
    variants: dict[str | None, Variant] = {}
    for spec in specs:
        parsed = parse_usage(spec.name, spec.usage)
        if parsed is None:
            return (_free_text(specs[0]),)
        for word, options in parsed:
            variants.setdefault(word, Variant(word, options, spec.description, spec.admin))
    words = [v.word for v in variants.values()]
    if None in words and len(words) > 1:
        return (_free_text(specs[0]),)
    return tuple(variants.values())


def build(answered: Iterable[tuple[Spec, Iterable[str] | None]]) -> list[MenuCommand]:
    """The menu of every command, from ``(spec, groups)`` pairs: a campaign's specs with its
    ``groups`` (None: every group), the built-ins with None. Order: first appearance."""
    by_name: dict[str, list[tuple[Spec, Iterable[str] | None]]] = {}
    for spec, groups in answered:
        by_name.setdefault(spec.name.lower(), []).append((spec, groups))
    menu: list[MenuCommand] = []
    for name, pairs in by_name.items():
        specs = [s for s, _ in pairs]
        scopes = [g for _, g in pairs]
        groups = None if any(g is None for g in scopes) else frozenset(c for g in scopes if g is not None for c in g)
        menu.append(
            MenuCommand(
                name=name,
                description=next((s.description for s in specs if not s.admin), specs[0].description),
                variants=_variants(specs),
                admin=all(s.admin for s in specs),
                private=any(s.private for s in specs),
                groups=groups,
            )
        )
    return menu


def registry(campaigns: Iterable[object], builtins: Iterable[Spec]) -> list[MenuCommand]:
    """The menu for the engine's campaigns (enabled or not: an admin may switch them on) and
    the built-ins (``bot.builtins.REGISTRY``)."""
    pairs: list[tuple[Spec, Iterable[str] | None]] = []
    for campaign in campaigns:
        groups = campaign.config.groups  # type: ignore[attr-defined]
        pairs += [(spec, groups) for spec in campaign.commands()]  # type: ignore[attr-defined]
    pairs += [(spec, None) for spec in builtins]
    return build(pairs)
