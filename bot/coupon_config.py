"""``[coupons.<pool>]``: a pool of coupon codes campaigns hand out.

Codes come from ``hearth coupons import POOL file.csv`` or, with ``generate = N``, Hearth
makes N codes itself (at least 64 random bits each, from an alphabet without look-alike
characters, after an optional ``prefix``)::

    [coupons.friend10]
    description = "10% off your next order"
    valid_for = "30d"            # a code expires this long after it was given
    low_threshold = 20           # tell the admins when this few are left
    generate = 500               # or leave out and import codes from a CSV file
    prefix = "FRIEND-"
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator

from bot.config_types import Duration, Strict

_POOL = re.compile(r"^[A-Za-z0-9_-]{1,60}$")
MIN_LENGTH = 13  # 31 symbols ** 13 > 2 ** 64 (see storage.coupons.ALPHABET)


def _check_pool_name(name: str) -> str:
    if not _POOL.match(name):
        raise ValueError(f"pool name {name!r} may use letters, digits, _ and - only (at most 60)")
    return name


PoolName = Annotated[str, AfterValidator(_check_pool_name)]


class CouponPoolConfig(Strict):
    description: str = Field(default="", max_length=300)
    valid_for: Duration | None = None
    expires: datetime | None = None  # no code of the pool is valid after this, however given
    low_threshold: int = Field(default=10, ge=0, le=1_000_000)
    generate: int = Field(default=0, ge=0, le=1_000_000)
    prefix: str = Field(default="", pattern=r"^[A-Z0-9-]{0,12}$")
    length: int = Field(default=16, ge=MIN_LENGTH, le=32)

    @field_validator("valid_for")
    @classmethod
    def _positive(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= timedelta(0):
            raise ValueError('give a positive duration such as "30d", or leave it out for no expiry')
        return value

    @field_validator("expires")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a UTC offset, e.g. 2027-01-31T23:59:59+08:00")
        return value
