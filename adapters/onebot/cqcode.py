"""OneBot v11 messages both ways: CQ-code strings ↔ segment arrays.

A message is a list of segments ``{"type": ..., "data": {key: str}}``; a text segment's
data is ``{"text": ...}``. As a string, text is plain (with ``&``, ``[`` and ``]`` escaped)
and every other segment is ``[CQ:type,key=value,...]`` with ``,`` escaped in values too.
Parsing follows the spec: the type runs to the first ``,`` or ``]``, parameters split on
``,``, and the key is what comes before a parameter's first ``=``. Text that only looks like
a CQ code (an unclosed ``[CQ:``) stays text: nothing a member types can break the parser.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

Segment = dict[str, Any]
_CODE = re.compile(r"\[CQ:([^,\[\]]+)((?:,[^,\[\]]*)*)\]")
_TEXT_ESCAPES = (("&", "&amp;"), ("[", "&#91;"), ("]", "&#93;"))
_VALUE_ESCAPES = (*_TEXT_ESCAPES, (",", "&#44;"))


def escape(text: str, comma: bool = False) -> str:
    """Escape plain text (``comma=False``) or a parameter value (``comma=True``)."""
    for raw, code in _VALUE_ESCAPES if comma else _TEXT_ESCAPES:
        text = text.replace(raw, code)
    return text


def unescape(text: str) -> str:
    """Inverse of :func:`escape`; ``&amp;`` last, so ``&amp;#91;`` stays ``&#91;``."""
    for raw, code in reversed(_VALUE_ESCAPES):
        text = text.replace(code, raw)
    return text


def text(value: str) -> Segment:
    return {"type": "text", "data": {"text": value}}


def parse(message: str) -> list[Segment]:
    """A CQ-code string as segments (adjacent text merged, empty text dropped)."""
    out: list[Segment] = []
    pos = 0
    for m in _CODE.finditer(message):
        if m.start() > pos:
            _add_text(out, unescape(message[pos : m.start()]))
        data: dict[str, str] = {}
        for param in m.group(2).split(",")[1:]:
            if not param:
                continue  # a trailing comma, as some implementations write
            name, _, value = param.partition("=")
            data[unescape(name)] = unescape(value)
        kind = unescape(m.group(1))
        if kind == "text":
            _add_text(out, data.get("text", ""))
        else:
            out.append({"type": kind, "data": data})
        pos = m.end()
    if pos < len(message):
        _add_text(out, unescape(message[pos:]))
    return out


def render(segments: Iterable[Segment]) -> str:
    """Segments as one CQ-code string."""
    parts: list[str] = []
    for seg in segments:
        kind = str(seg.get("type", ""))
        data = seg.get("data") or {}
        if kind == "text":
            parts.append(escape(str(data.get("text", ""))))
            continue
        params = "".join(f",{escape(str(k), True)}={escape(_value(v), True)}" for k, v in data.items())
        parts.append(f"[CQ:{escape(kind, True)}{params}]")
    return "".join(parts)


def normalize(message: Any) -> list[Segment]:
    """Whatever arrived as ``message`` (a string, an array, one segment) as clean segments.

    Values become strings (NapCat sends some numbers), adjacent text merges, empty text and
    anything that is not a segment are dropped.
    """
    if isinstance(message, str):
        return parse(message)
    if isinstance(message, dict):
        message = [message]
    out: list[Segment] = []
    if not isinstance(message, list):
        return out
    for seg in message:
        if not isinstance(seg, dict) or not isinstance(seg.get("type"), str):
            continue
        data = seg.get("data") if isinstance(seg.get("data"), dict) else {}
        if seg["type"] == "text":
            _add_text(out, _value(data.get("text", "")))
        else:
            out.append({"type": seg["type"], "data": {str(k): _value(v) for k, v in data.items() if v is not None}})
    return out


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _add_text(out: list[Segment], value: str) -> None:
    if not value:
        return
    if out and out[-1]["type"] == "text":
        out[-1] = text(out[-1]["data"]["text"] + value)
    else:
        out.append(text(value))
