"""The app access token: fetched with ``{appId, clientSecret}``, cached, refreshed ahead of expiry.

One refresh at a time (single flight): concurrent callers wait for the same request. A token is
refreshed :data:`AHEAD` seconds before it expires (the platform hands out a new one in its
last minute), and at once when the API rejected it (:meth:`AccessToken.refresh` with the token
that failed, so a burst of 401s costs one refresh).
"""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp

from adapters.qq.errors import QQApiError, Scrubber

log = logging.getLogger(__name__)
AHEAD = 60.0  # seconds before expiry to fetch the next token
MIN_LIFETIME = 30.0


class AccessToken:
    def __init__(self, session: aiohttp.ClientSession, url: str, app_id: str, secret: str, scrub: Scrubber) -> None:
        self._session = session
        self._url = url
        self._app_id = app_id
        self._secret = secret
        self._scrub = scrub
        self._token: str | None = None
        self._expires = 0.0  # time.monotonic()
        self._flight: asyncio.Task[str] | None = None
        self.fetched = 0

    def __repr__(self) -> str:
        return f"AccessToken(app_id={self._app_id}, cached={self._token is not None})"

    def refresh_in(self) -> float:
        """Seconds until the cached token should be replaced (0: now)."""
        return max(0.0, self._expires - AHEAD - time.monotonic())

    async def get(self) -> str:
        if self._token is not None and self.refresh_in() > 0:
            return self._token
        return await self.refresh()

    async def refresh(self, failed: str | None = None) -> str:
        """A new token (unless another caller already replaced ``failed``)."""
        if failed is not None and self._token is not None and self._token != failed:
            return self._token
        if self._flight is None or self._flight.done():
            self._flight = asyncio.create_task(self._fetch(), name="qq-token")
        return await asyncio.shield(self._flight)

    async def _fetch(self) -> str:
        body = {"appId": self._app_id, "clientSecret": self._secret}
        async with self._session.post(self._url, json=body) as resp:
            try:
                data = await resp.json(content_type=None)
            except ValueError:
                data = None
        if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
            code = data.get("code") if isinstance(data, dict) else None
            message = str(data.get("message", "")) if isinstance(data, dict) else "no JSON in the answer"
            status = resp.status if resp.status >= 500 else 401  # a refused secret: fixable, retried
            raise QQApiError(status, code, f"getAppAccessToken failed: {self._scrub(message)[:200]}")
        token = data["access_token"]
        try:
            lifetime = max(MIN_LIFETIME + AHEAD, float(data.get("expires_in", 7200)))
        except (TypeError, ValueError):
            lifetime = 7200.0
        self._scrub.add(token)
        self._token, self._expires = token, time.monotonic() + lifetime
        self.fetched += 1
        log.info("QQ access token for bot %s fetched (valid %.0fs)", self._app_id, lifetime)
        return token

    async def keep_fresh(self) -> None:
        """Background task: refresh ahead of expiry, forever (failures retried with back-off)."""
        delay = 1.0
        while True:
            await asyncio.sleep(self.refresh_in() if self._token is not None else 0)
            try:
                await self.refresh()
                delay = 1.0
            except Exception as err:  # network trouble: try again soon, callers refresh on demand too
                log.warning("QQ token refresh failed (%s); retrying in %.0fs", self._scrub(err), delay)
                await asyncio.sleep(delay)
                delay = min(60.0, delay * 2)
