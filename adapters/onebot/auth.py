"""The access token of a OneBot connection: where it is found, and the check (constant time).

The spec lets a client send ``Authorization: Bearer <token>`` (NoneBot also accepts the
``Token`` scheme) or, where it cannot set headers, ``?access_token=<token>``. A missing
token answers 401, a wrong one 403, both before the WebSocket upgrade, so nothing the
caller sends is ever read. The comparison takes the same time however much of it matches.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

MISSING, WRONG = 401, 403


def token_of(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The token the caller presented, if any (an empty ``Bearer `` counts as none)."""
    header = headers.get("Authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() in ("bearer", "token") and value.strip():
        return value.strip()
    given = query.get("access_token", "")
    return given or None


def refusal(given: str | None, expected: str) -> int | None:
    """None when ``given`` is the token; else the HTTP status to refuse with."""
    if given is None:
        return MISSING
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        return WRONG
    return None


def bearer(token: str) -> dict[str, str]:
    """The header Hearth sends when it connects (forward mode)."""
    return {"Authorization": f"Bearer {token}"}
