"""The [counter] section of a counter unit's config file."""

from __future__ import annotations

from appliance.config.base import StrictModel


class CounterSection(StrictModel):
    """Settings of the counter role; its hardware and behaviour keys live here."""
