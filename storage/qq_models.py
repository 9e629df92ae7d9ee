"""Tables of the official QQ bot adapter (issue 9): reply windows, groups, identities, gateway.

* ``qq_windows``: every received message or event a passive reply may answer (its platform
  ``msg_id`` or ``event_id``, where and when it opened) keyed by the Hearth event id, which is
  what an outgoing action names as its ``cause``.
* ``qq_sends``: the ``msg_seq`` given to each outbox row answering a window, so a retry reuses
  its number (the platform refuses a repeated ``msg_id`` + ``msg_seq``) and at most five go out.
* ``qq_groups``: whether the bot is in a group and whether the owner allows proactive messages.
* ``qq_identities``: openids seen with their ``union_openid`` (for later account binding, and to
  find a member's private chat for direct messages).
* ``qq_gateway``: the WebSocket session (id and last seq, for Resume) and the lease that keeps
  a second Hearth process from taking over the bot's one connection.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UtcDateTime


class QQWindow(Base):
    __tablename__ = "qq_windows"
    __table_args__ = (Index("ix_qq_windows_target", "self_id", "scope", "target", "opened_at"),)

    self_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ref: Mapped[str] = mapped_column(String(300), primary_key=True)  # the Hearth event id
    param: Mapped[str] = mapped_column(String(16))  # "msg_id" or "event_id"
    value: Mapped[str] = mapped_column(String(300))  # what the platform wants in that field
    scope: Mapped[str] = mapped_column(String(8))  # "group" or "c2c"
    target: Mapped[str] = mapped_column(String(128))  # group openid or user openid
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)


class QQSend(Base):
    __tablename__ = "qq_sends"
    __table_args__ = (UniqueConstraint("self_id", "ref", "seq", name="uq_qq_sends_seq"),)

    self_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    ref: Mapped[str] = mapped_column(String(300))
    seq: Mapped[int] = mapped_column(Integer)


class QQGroup(Base):
    __tablename__ = "qq_groups"

    self_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_openid: Mapped[str] = mapped_column(String(128), primary_key=True)
    present: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    proactive: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # None: not told yet
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    changed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)  # op_member_openid


class QQIdentity(Base):
    __tablename__ = "qq_identities"
    __table_args__ = (Index("ix_qq_identities_union", "self_id", "union_openid"),)

    self_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    openid: Mapped[str] = mapped_column(String(128), primary_key=True)
    scope: Mapped[str] = mapped_column(String(8))  # "member" (per group) or "user" (C2C)
    group_openid: Mapped[str | None] = mapped_column(String(128), nullable=True)
    union_openid: Mapped[str | None] = mapped_column(String(128), nullable=True)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime)


class QQGateway(Base):
    __tablename__ = "qq_gateway"

    self_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    lease_until: Mapped[datetime] = mapped_column(UtcDateTime)
    session_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
