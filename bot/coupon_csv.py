"""Coupon codes in and out of CSV files (pure functions; the database work is in coupon_ops).

Import files have one code per row, optionally with the code's own expiry in a second
column; a header row is recognised by a first cell named ``code``. Expiries are ISO dates
(``2027-01-31``: valid through that day) or date-times; without an offset they are read in
the bot's timezone. A report names every malformed row and every duplicate by line.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from storage.coupons import Coupon

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,79}$")
CODE_RULE = "3-80 letters, digits, '-', '_' or '.', starting with a letter or digit"
HEADERS = ("code", "coupon", "coupon_code")
EXPIRY_HEADERS = ("valid_until", "expires", "expires_at", "expiry")
EXPORT_COLUMNS = (
    "pool",
    "code",
    "status",
    "member",
    "campaign",
    "assigned_at",
    "expires_at",
    "redeemed_at",
    "redeemed_by",
    "void_reason",
)


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    code: str
    valid_until: datetime | None


@dataclass(slots=True)
class Parsed:
    rows: list[Row] = field(default_factory=list)
    malformed: list[tuple[int, str]] = field(default_factory=list)  # (line, why)
    duplicates: list[tuple[int, str, int]] = field(default_factory=list)  # (line, code, first line)


def _expiry(value: str, tz: ZoneInfo) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"expiry {value[:40]!r} is not a date such as 2027-01-31 or 2027-01-31T23:59+08:00") from None
    if len(value) == 10:  # a date: valid through that day
        parsed = datetime.combine(parsed.date(), time(23, 59, 59))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)


def parse(text: str, tz: ZoneInfo) -> Parsed:
    """Read an import file; nothing here touches the database."""
    out = Parsed()
    seen: dict[str, int] = {}
    code_col, expiry_col = 0, 1
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    first = True
    for cells in reader:
        line = reader.line_num
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if first:
            first = False
            lowered = [c.lower() for c in cells]
            if any(c in HEADERS for c in lowered):
                code_col = next(i for i, c in enumerate(lowered) if c in HEADERS)
                expiry_col = next((i for i, c in enumerate(lowered) if c in EXPIRY_HEADERS), -1)
                continue
        code = cells[code_col] if code_col < len(cells) else ""
        if not CODE.match(code):
            out.malformed.append((line, f"{code[:40]!r} is not a coupon code ({CODE_RULE})"))
            continue
        until = None
        raw = cells[expiry_col] if 0 <= expiry_col < len(cells) else ""
        if raw:
            try:
                until = _expiry(raw, tz)
            except ValueError as err:
                out.malformed.append((line, str(err)))
                continue
        if code in seen:
            out.duplicates.append((line, code, seen[code]))
            continue
        seen[code] = line
        out.rows.append(Row(line, code, until))
    return out


def _when(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def export(coupons: Iterable[Coupon], now: datetime) -> str:
    """CSV of coupons with their status as a person reads it (``expired`` included)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for c in coupons:
        writer.writerow(
            [
                c.pool,
                c.code,
                c.state(now),
                c.member or "",
                c.campaign or "",
                _when(c.assigned_at),
                _when(c.expires_at),
                _when(c.redeemed_at),
                c.redeemed_by or "",
                c.void_reason or "",
            ]
        )
    return buf.getvalue()
