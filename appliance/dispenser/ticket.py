"""The ticket picture now lives in appliance.ticketing (the lookup terminal prints it too);
this name stays so existing imports keep working."""

from appliance.ticketing.ticket import (
    INFO_LINES,
    OFFLINE_MARK,
    TicketView,
    counters_text,
    qr_text,
    render_ticket,
    ticket_lines,
    wait_text,
)

__all__ = ["INFO_LINES", "OFFLINE_MARK", "TicketView", "counters_text", "qr_text",
           "render_ticket", "ticket_lines", "wait_text"]
