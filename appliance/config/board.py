"""The [board] section of a board unit's config file."""

from __future__ import annotations

from appliance.config.base import StrictModel


class BoardSection(StrictModel):
    """Settings of the board role; its hardware and behaviour keys live here."""
