"""The [dispenser] section of a dispenser unit's config file."""

from __future__ import annotations

from appliance.config.base import StrictModel


class DispenserSection(StrictModel):
    """Settings of the dispenser role; its hardware and behaviour keys live here."""
