"""The [lookup] section of a lookup unit's config file."""

from __future__ import annotations

from appliance.config.base import StrictModel


class LookupSection(StrictModel):
    """Settings of the lookup role; its hardware and behaviour keys live here."""
