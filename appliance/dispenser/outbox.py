"""The ticket outbox now lives in appliance.ticketing (the lookup terminal keeps one too);
this name stays so existing imports keep working."""

from appliance.ticketing.outbox import BandExhausted, OfflineTicket, Outbox, PendingVoid

__all__ = ["BandExhausted", "OfflineTicket", "Outbox", "PendingVoid"]
