"""Campaign types, one module each, registered by their ``type``."""

from __future__ import annotations

import importlib

BUILTIN = ("checkin", "announcement", "quiz", "poll", "feedback", "referral", "welcome")


def load_all() -> None:
    """Import every built-in campaign module so it registers itself."""
    for name in BUILTIN:
        importlib.import_module(f"campaigns.{name}")
