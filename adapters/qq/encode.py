"""Hearth message content → the JSON body of ``POST /v2/groups|users/{id}/messages``. Pure.

Plain text is ``msg_type`` 0. With ``markdown = true`` it is ``msg_type`` 2 (text escaped, so a
member's name cannot inject markup). Buttons become a keyboard only with ``keyboard = true``
(which the platform attaches to markdown messages; at most 5 rows of 5); otherwise the adapter
declares no buttons and campaigns send numbered text choices, and any buttons that still reach
here are written out as text rather than lost.
"""

from __future__ import annotations

import re
from typing import Any

from bot.actions import Buttons

MAX_ROWS = 5
MAX_PER_ROW = 5
_MD_SPECIAL = re.compile(r"([\\`*_\[\]~|<>#])")


def escape_markdown(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def buttons_as_text(buttons: Buttons) -> str:
    lines = []
    for row in buttons:
        for b in row:
            lines.append(f"{b.text}: {b.url}" if b.url else f"[{b.text}]")
    return "\n".join(lines)


def keyboard(buttons: Buttons) -> dict[str, Any]:
    rows = []
    n = 0
    for row in buttons[:MAX_ROWS]:
        out = []
        for b in row[:MAX_PER_ROW]:
            n += 1
            action = (
                {"type": 0, "data": b.url, "permission": {"type": 2}, "unsupport_tips": b.url}
                if b.url
                else {"type": 1, "data": b.data or b.text, "permission": {"type": 2}, "unsupport_tips": b.text}
            )
            render = {"label": b.text, "visited_label": b.text, "style": 1}
            out.append({"id": str(n), "render_data": render, "action": action})
        rows.append({"buttons": out})
    return {"content": {"rows": rows}}


def message_body(
    content: str,
    buttons: Buttons,
    *,
    markdown: bool,
    use_keyboard: bool,
    reply: tuple[str, str, int] | None,
) -> dict[str, Any]:
    """The request body; ``reply`` is ``(param, value, msg_seq)`` for a passive reply, else None."""
    with_keyboard = bool(buttons) and use_keyboard
    if buttons and not with_keyboard:
        content = f"{content}\n{buttons_as_text(buttons)}" if content else buttons_as_text(buttons)
    body: dict[str, Any]
    if markdown or with_keyboard:
        body = {"msg_type": 2, "markdown": {"content": escape_markdown(content)}}
        if with_keyboard:
            body["keyboard"] = keyboard(buttons)
    else:
        body = {"msg_type": 0, "content": content}
    if reply is not None:
        param, value, seq = reply
        body[param] = value
        body["msg_seq"] = seq
    return body
