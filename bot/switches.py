"""Runtime campaign switches: ``/campaign start|stop`` override the config's ``enabled``.

The switch is stored (``campaign_switches``) and wins over the config until switched again,
across restarts. It is applied by giving the campaign object a copy of its config with
``enabled`` changed, so everything that already honours ``enabled`` — the engine's routing,
command aliases, one-off timers, the scheduler's fires — honours the switch too; the
campaign's window (``starts``/``ends``) still applies. Each engine reloads the switches at
most every :data:`REFRESH`, so several workers on one database agree within that time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from campaigns.base import Campaign, CampaignConfig
from storage import admin_state
from storage.admin_state import Switch
from storage.tx import Conn

REFRESH = timedelta(seconds=30)


class Switches:
    def __init__(self, campaigns: Iterable[Campaign]) -> None:
        self.campaigns = {c.name: c for c in campaigns}
        self.configured: dict[str, CampaignConfig] = {c.name: c.config for c in self.campaigns.values()}
        self.state: dict[str, Switch] = {}
        self._loaded_at: datetime | None = None
        self._changed = False

    def enabled(self, name: str) -> bool:
        """Whether the campaign is switched on now (the switch, else the config)."""
        switch = self.state.get(name)
        return switch.enabled if switch is not None else self.configured[name].enabled

    async def sync(self, conn: Conn, now: datetime) -> bool:
        """Reload the switches when due; True when a campaign was switched since the last call."""
        if self._loaded_at is None or now - self._loaded_at >= REFRESH or now < self._loaded_at:
            self.state = await admin_state.switches(conn)
            self._loaded_at = now
            self._apply()
        changed, self._changed = self._changed, False
        return changed

    async def set(self, conn: Conn, name: str, enabled: bool, by: str, at: datetime) -> None:
        """Switch a campaign in the current transaction; applied at once, reloaded from the
        database at the next batch (so a rolled-back switch does not stick)."""
        await admin_state.set_switch(conn, name, enabled, by, at)
        self.state[name] = Switch(name, enabled, by, at)
        self._apply()
        self._loaded_at = None

    def _apply(self) -> None:
        for name, campaign in self.campaigns.items():
            on = self.enabled(name)
            if campaign.config.enabled != on:
                campaign.config = self.configured[name].model_copy(update={"enabled": on})
                self._changed = True
