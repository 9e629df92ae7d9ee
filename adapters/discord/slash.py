"""Slash commands: Hearth's command menu as Discord application commands, and back.

:func:`guild_commands` turns :mod:`bot.command_menu` into the JSON of Discord's "bulk
overwrite guild application commands", with every description in each Hearth language
(``description_localizations``). Admin-only commands carry ``default_member_permissions``
= Manage Server, so Discord shows them to moderators only (a server can widen that under
Server Settings → Integrations; the engine checks admin rights either way).

:func:`invocation` turns an ``INTERACTION_CREATE``'s command data back into the text a
member would have typed (``/points add @Ann 10 late``), with a :class:`bot.events.Mention`
for each member option, so the engine parses one command syntax on every platform.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from bot import i18n
from bot.command_menu import MenuCommand, Option
from bot.events import Element, Mention, Text

log = logging.getLogger(__name__)
MANAGE_GUILD = 1 << 5
MAX_COMMANDS = 100  # per guild
MAX_OPTIONS = 25  # options or subcommands of one command
LOCALES = {"en": ("en-US", "en-GB"), "zh": ("zh-CN", "zh-TW"), "ru": ("ru",)}
SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, USER = 1, 2, 3, 4, 6
_TYPES = {"text": STRING, "integer": INTEGER, "member": USER}
_HINTS = {"integer": "{hint} (a whole number)", "member": "{hint} (a member)", "text": "{hint}"}


def _text(language: str, key: str) -> str:
    try:
        text = i18n.t(language, key)
    except KeyError:
        text = key
    return " ".join(text.split())[:100] or "—"


def _described(key: str, language: str) -> dict[str, Any]:
    localized = {locale: _text(lang, key) for lang, locales in LOCALES.items() for locale in locales}
    return {"description": _text(language, key), "description_localizations": localized}


def _option(option: Option) -> dict[str, Any]:
    hint = _HINTS[option.kind].format(hint=option.hint or option.name)
    return {"type": _TYPES[option.kind], "name": option.name, "description": hint[:100], "required": option.required}


def command_json(command: MenuCommand, language: str) -> dict[str, Any]:
    """One application command (``type`` 1, chat input) in Hearth's default ``language``."""
    out: dict[str, Any] = {"type": 1, "name": command.name, **_described(command.description, language)}
    if len(command.variants) == 1 and command.variants[0].word is None:
        options = [_option(o) for o in command.variants[0].options]
    else:
        options = [
            {"type": SUB_COMMAND, "name": v.word, **_described(v.description, language)}
            | ({"options": [_option(o) for o in v.options[:MAX_OPTIONS]]} if v.options else {})
            for v in command.variants
        ]
    if len(options) > MAX_OPTIONS:
        log.warning("/%s has %d options or subcommands; Discord shows the first %d", command.name, len(options), 25)
    if options:
        out["options"] = options[:MAX_OPTIONS]
    out["default_member_permissions"] = str(MANAGE_GUILD) if command.admin else None
    return out


def guild_commands(menu: Iterable[MenuCommand], chats: set[str], language: str) -> list[dict[str, Any]]:
    """The commands answered in any of ``chats`` (a guild's channels as chat keys)."""
    out = [command_json(c, language) for c in menu if c.groups is None or c.groups & chats]
    if len(out) > MAX_COMMANDS:
        log.warning("%d commands; Discord allows %d per guild, the rest are left out", len(out), MAX_COMMANDS)
    return out[:MAX_COMMANDS]


def _canonical_option(o: Mapping[str, Any]) -> tuple:
    return (
        o.get("type"),
        o.get("name"),
        o.get("description"),
        bool(o.get("required", False)),
        tuple(sorted((o.get("description_localizations") or {}).items())),
        tuple(_canonical_option(x) for x in o.get("options") or ()),
    )


def canonical(commands: Iterable[Mapping[str, Any]]) -> dict[str, tuple]:
    """What must match between registered and wanted commands (Discord adds ids, versions ...)."""
    return {
        str(c.get("name")): (
            c.get("type", 1),
            c.get("description"),
            tuple(sorted((c.get("description_localizations") or {}).items())),
            str(c["default_member_permissions"]) if c.get("default_member_permissions") is not None else None,
            tuple(_canonical_option(o) for o in c.get("options") or ()),
        )
        for c in commands
    }


# --- interactions back to text ----------------------------------------------------------------


def _name_of(user_id: str, resolved: Mapping[str, Any]) -> str:
    member = (resolved.get("members") or {}).get(user_id) or {}
    user = (resolved.get("users") or {}).get(user_id) or {}
    return str(member.get("nick") or user.get("global_name") or user.get("username") or user_id)


def invocation(data: Mapping[str, Any], menu: Mapping[str, MenuCommand]) -> tuple[Element, ...]:
    """The command as typed text: ``/name [word] values...`` in the usage's option order."""
    name = str(data.get("name", ""))
    options = list(data.get("options") or ())
    words = [name]
    while options and options[0].get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
        words.append(str(options[0].get("name", "")))
        options = list(options[0].get("options") or ())
    given = {str(o.get("name")): o for o in options}
    command = menu.get(name)
    declared = [o.name for o in command.options_of(words[1] if len(words) > 1 else None)] if command else []
    order = [n for n in declared if n in given] + [n for n in given if n not in declared]
    resolved = data.get("resolved") or {}
    parts: list[Element] = [Text("/" + " ".join(words))]
    for option_name in order:
        option = given[option_name]
        value = option.get("value")
        if value is None:
            continue
        if option.get("type") == USER:
            parts += [Text(" "), Mention(str(value), _name_of(str(value), resolved))]
        else:
            parts.append(Text(" " + " ".join(str(value).split())))
    return _merged(parts)


def _merged(parts: list[Element]) -> tuple[Element, ...]:
    out: list[Element] = []
    for part in parts:
        if out and isinstance(part, Text) and isinstance(out[-1], Text):
            out[-1] = Text(out[-1].text + part.text)
        else:
            out.append(part)
    return tuple(out)
