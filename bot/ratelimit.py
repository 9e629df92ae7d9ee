"""Token buckets for the sender: a platform-wide bucket and one per chat."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RateLimits:
    """What an adapter declares: sustained rates (per second) and bursts."""

    per_second: float = 30.0
    burst: int = 30
    per_chat_per_second: float = 1.0
    per_chat_burst: int = 3
    # optional per-target override: (per_second, burst) for a target, None for the per-chat
    # default; e.g. Telegram limits groups and private chats differently
    per_target: Callable[[str], tuple[float, int] | None] | None = field(default=None, compare=False)


@dataclass(slots=True)
class TokenBucket:
    rate: float
    capacity: float
    tokens: float = field(default=-1.0)
    updated: float = 0.0

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.capacity

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 if one is there now)."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1

    def pause(self, now: float, seconds: float) -> None:
        """Empty the bucket for ``seconds`` (a platform said ``retry_after``)."""
        self._refill(now)
        self.tokens = min(self.tokens, 1 - seconds * self.rate)


class Limiter:
    """A global bucket plus lazily created per-chat buckets."""

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self.global_bucket = TokenBucket(limits.per_second, limits.burst)
        self._chats: dict[str, TokenBucket] = {}

    def chat(self, target: str) -> TokenBucket:
        bucket = self._chats.get(target)
        if bucket is None:
            override = self.limits.per_target(target) if self.limits.per_target else None
            rate, burst = override or (self.limits.per_chat_per_second, self.limits.per_chat_burst)
            bucket = TokenBucket(rate, burst)
            self._chats[target] = bucket
        return bucket

    def wait_time(self, target: str, now: float) -> float:
        return max(self.global_bucket.wait_time(now), self.chat(target).wait_time(now))

    def take(self, target: str, now: float) -> None:
        self.global_bucket.take(now)
        self.chat(target).take(now)
