"""Telegram adapter (aiogram 3): polling or webhook, exact invite attribution, rate limits.

Import :class:`adapters.telegram.adapter.TelegramAdapter` from its module; this package file
stays light so the config can load :mod:`adapters.telegram.settings` without aiogram.
"""
