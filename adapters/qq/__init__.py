"""The official QQ bot platform (q.qq.com): signed webhooks or the WebSocket gateway, reply windows.

Import :class:`adapters.qq.adapter.QQAdapter` from its module; this package file stays light so
the config can load :mod:`adapters.qq.settings` without aiohttp or cryptography.
"""
