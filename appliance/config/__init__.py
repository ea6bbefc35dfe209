"""Unit and site configuration (TOML), validated strictly."""

from appliance.config.loader import check_files, load_unit_config, parse_unit_config
from appliance.config.unit import UnitConfig

__all__ = ["UnitConfig", "check_files", "load_unit_config", "parse_unit_config"]
