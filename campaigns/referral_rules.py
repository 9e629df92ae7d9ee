"""The referral campaign's anti-farming rules, as pure functions of what is known.

A join is refused (and the refusal recorded with its reason) when the attribution is not
good enough, the member invited themselves, the join is outside the campaign window, a bot
is involved, the invitee was in the group before (or was already referred in this
campaign), or the inviter has used up their rewards. A join that passes is checked again
when it comes up for qualification: still in the group, enough messages, inviter under cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from storage.referrals import Presence, ReferralRow

ATTRIBUTION_UNKNOWN = "attribution_unknown"
SELF_REFERRAL = "self_referral"
OUTSIDE_WINDOW = "outside_window"
BOT = "bot"
REJOIN = "rejoin"
ALREADY_REFERRED = "already_referred"
INVITER_CAP = "inviter_cap"
LEFT_EARLY = "left_before_qualifying"
DUPLICATE = "duplicate"  # the platform reported the same join twice: ignored, not a refusal
WAIT = "wait"  # not enough messages yet
QUALIFY = "qualify"

# A join reported twice (Telegram sends a service message and a member update), or a first
# message that overtook the join, lands within this window and is not a "rejoin".
SAME_JOIN = timedelta(minutes=10)


class Prior(Protocol):
    """The invitee's membership row in the chat as it was before this join."""

    joined_at: datetime | None
    left_at: datetime | None
    last_seen_at: datetime | None
    messages: int


@dataclass(frozen=True, slots=True)
class JoinFacts:
    chat: str
    invitee: str
    inviter: str | None
    confidence: str
    at: datetime
    in_window: bool
    prior: Prior | None
    existing: ReferralRow | None  # this campaign already tracks the invitee
    bots: bool  # the inviter or invitee is a bot
    inviter_rewarded: int  # the inviter's rewarded referrals so far
    rejoin: bool = False  # the platform says the invitee was in the group before


def was_here_before(prior: Prior | None, at: datetime) -> bool:
    """Whether the membership before this join shows the member in the group earlier."""
    if prior is None:
        return False
    if prior.left_at is not None:
        return True
    earlier = [t for t in (prior.joined_at, prior.last_seen_at if prior.messages else None) if t is not None]
    return any(t < at - SAME_JOIN for t in earlier)


def join_verdict(facts: JoinFacts, *, require_exact: bool, cap: int | None) -> str | None:
    """None to track the join, :data:`DUPLICATE` to ignore it, else the refusal reason."""
    existing = facts.existing
    if existing is not None and existing.chat == facts.chat and existing.status in ("pending", "qualified"):
        if facts.at - existing.joined_at < SAME_JOIN:
            return DUPLICATE
    if facts.inviter is None or facts.confidence == "unknown":
        return ATTRIBUTION_UNKNOWN
    if require_exact and facts.confidence != "exact":
        return f"attribution_{facts.confidence}"[:40]
    if facts.inviter == facts.invitee:
        return SELF_REFERRAL
    if not facts.in_window:
        return OUTSIDE_WINDOW
    if facts.bots:
        return BOT
    if existing is not None:
        return REJOIN if existing.chat == facts.chat else ALREADY_REFERRED
    if facts.rejoin or was_here_before(facts.prior, facts.at):
        return REJOIN
    if cap is not None and facts.inviter_rewarded >= cap:
        return INVITER_CAP
    return None


def qualify_verdict(
    referral: ReferralRow,
    presence: Presence | None,
    *,
    now: datetime,
    after: timedelta,
    messages: int,
    bots: bool,
    inviter_rewarded: int,
    cap: int | None,
) -> str:
    """:data:`QUALIFY`, :data:`WAIT` (too early or too quiet), or the reason it never will."""
    if presence is None or not presence.active:
        return LEFT_EARLY
    if now < referral.joined_at + after or presence.messages < messages:
        return WAIT
    if bots:
        return BOT
    if cap is not None and inviter_rewarded >= cap:
        return INVITER_CAP
    return QUALIFY


def clawback_due(referral: ReferralRow, left_at: datetime, window: timedelta | None) -> bool:
    """Whether leaving at ``left_at`` takes back the rewards of a qualified referral."""
    return (
        window is not None
        and referral.status == "qualified"
        and referral.qualified_at is not None
        and left_at - referral.qualified_at <= window
    )
