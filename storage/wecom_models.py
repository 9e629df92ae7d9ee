"""Tables of the WeCom customer-group adapter (issue 10).

They share :class:`storage.models.Base`; ``storage/models.py`` imports this module so the
tables are part of the one metadata the migrations and the engine use.

* ``wecom_chats`` / ``wecom_roster``: the customer groups and their members as Hearth last
  saw them (the roster a fresh ``groupchat/get`` is diffed against).
* ``wecom_callbacks``: each verified ``change_external_chat`` callback, stored before WeCom
  gets its ``success``; the digest makes WeCom's retries no-ops.
* ``wecom_join_ways``: the QR join ways Hearth made, with the ``state`` that names campaign
  and referrer.
* ``wecom_broadcasts``: staff-confirmed group broadcasts (``add_msg_template`` tasks).
* ``wecom_group_days``: group size, joins and leaves per day.
* ``wecom_staff_messages``: staff's commands to the app (``/joinway``), answered once.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigId, UtcDateTime


class WeComChat(Base):
    __tablename__ = "wecom_chats"

    chat_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    owner: Mapped[str] = mapped_column(String(100), default="")
    members: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WeComRosterEntry(Base):
    __tablename__ = "wecom_roster"

    chat_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    userid: Mapped[str] = mapped_column(String(100), primary_key=True)
    type: Mapped[int] = mapped_column(Integer)  # 1 staff (corp member), 2 customer
    join_time: Mapped[int] = mapped_column(Integer, default=0)  # WeCom's unix seconds
    join_scene: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str | None] = mapped_column(String(64), nullable=True)
    unionid: Mapped[str | None] = mapped_column(String(100), nullable=True)
    name: Mapped[str] = mapped_column(String(300), default="")


class WeComCallback(Base):
    __tablename__ = "wecom_callbacks"
    __table_args__ = (Index("ix_wecom_callbacks_status", "status", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    chat_id: Mapped[str] = mapped_column(String(100))
    change: Mapped[str] = mapped_column(String(32))  # create, update, dismiss
    detail: Mapped[str] = mapped_column(String(32), default="")  # add_member, del_member, ...
    members: Mapped[list] = mapped_column(JSON, default=list)
    at: Mapped[datetime] = mapped_column(UtcDateTime)  # WeCom's CreateTime
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, done


class WeComJoinWay(Base):
    __tablename__ = "wecom_join_ways"

    config_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    state: Mapped[str] = mapped_column(String(30), unique=True)
    campaign: Mapped[str] = mapped_column(String(100))
    referrer: Mapped[str] = mapped_column(String(200))  # member key, or a label
    chat_ids: Mapped[list] = mapped_column(JSON, default=list)
    qr_code: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class WeComBroadcast(Base):
    __tablename__ = "wecom_broadcasts"
    __table_args__ = (Index("ix_wecom_broadcasts_chat", "chat_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)  # the outbox idempotency key
    chat_id: Mapped[str] = mapped_column(String(100))
    sender: Mapped[str] = mapped_column(String(100), default="")
    msgid: Mapped[str | None] = mapped_column(String(100), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # pending, sent, not_sent, over_cap
    text: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class WeComGroupDay(Base):
    __tablename__ = "wecom_group_days"

    chat_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    members: Mapped[int] = mapped_column(Integer, default=0)
    joins: Mapped[int] = mapped_column(Integer, default=0)
    leaves: Mapped[int] = mapped_column(Integer, default=0)


class WeComStaffMessage(Base):
    """A staff member's text to the app (``/joinway ...``), stored before WeCom gets ``success``;
    ``status`` walks pending -> made (answer composed, join way made) -> answered -> done."""

    __tablename__ = "wecom_staff_messages"
    __table_args__ = (Index("ix_wecom_staff_messages_status", "status", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    msg_id: Mapped[str] = mapped_column(String(64), unique=True)  # WeCom's MsgId: its retries are no-ops
    userid: Mapped[str] = mapped_column(String(100))
    content: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    answer: Mapped[str] = mapped_column(Text, default="")
    config_id: Mapped[str | None] = mapped_column(String(100), nullable=True)  # the join way it made
