"""Health facts every unit publishes in its status (the ``health`` block): the things that
predict a unit's death in the field — paper, devices plugged in, disk, SD-card errors,
temperature, power, clock — read from the machine, or from a fake in tests."""

from appliance.health.collector import HealthCollector, attach_health
from appliance.health.facts import HealthFacts

__all__ = ["HealthCollector", "HealthFacts", "attach_health"]
