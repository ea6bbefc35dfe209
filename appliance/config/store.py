"""The [store] section of a store unit's config file."""

from __future__ import annotations

from appliance.config.base import StrictModel


class StoreSection(StrictModel):
    """Settings of the store role; its hardware and behaviour keys live here."""
