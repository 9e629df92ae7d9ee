"""Logging setup with a filter that scrubs secrets (tokens in URLs, passwords in database URLs,
configured secret values)."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from pydantic import BaseModel, SecretStr

_TOKEN_URL = re.compile(r"(/bot)\d+:[A-Za-z0-9_-]+")
# scheme://user:password@host: the password, however short (database URLs, proxies)
_URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)([^@\s]+)(@)")


class SecretFilter(logging.Filter):
    """Replaces every known secret, and anything shaped like a bot token in a URL, with ***."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Scrub ``secret`` too from now on (e.g. an access token fetched at run time)."""
        if len(secret) >= 6 and secret not in self.secrets:
            self.secrets = sorted([*self.secrets, secret], key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return _URL_PASSWORD.sub(r"\1***\3", _TOKEN_URL.sub(r"\1***", text))

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        clean = self.scrub(message)
        record.msg, record.args = clean, None
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        return True


class Scrubber:
    """``scrub(anything)``: its text with the secrets, bot tokens and URL passwords replaced by ***."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._filter = SecretFilter(secrets)

    def add(self, secret: str) -> None:
        self._filter.add(secret)

    def __call__(self, text: object) -> str:
        return self._filter.scrub(str(text))


def secrets_in(value: Any) -> list[str]:
    """Every ``SecretStr`` value inside a config model (tokens, webhook secrets) and every
    password in a URL (``[bot] database``), for :func:`setup`."""
    if isinstance(value, SecretStr):
        return [value.get_secret_value()]
    if isinstance(value, str):
        return [unquote(m.group(2)) for m in _URL_PASSWORD.finditer(value)] + [
            m.group(2) for m in _URL_PASSWORD.finditer(value)
        ]
    if isinstance(value, BaseModel):
        return [s for _, field in value for s in secrets_in(field)]
    if isinstance(value, dict):
        return [s for item in value.values() for s in secrets_in(item)]
    if isinstance(value, list | tuple):
        return [s for item in value for s in secrets_in(item)]
    return []


def setup(level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with the given secrets, bot tokens and URL passwords replaced by ***."""
    return SecretFilter(secrets).scrub(text)
