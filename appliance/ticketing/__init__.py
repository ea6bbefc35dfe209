"""Paper tickets, shared by every unit that prints them (the dispenser, the lookup terminal):
the picture, the print-confirmed step, the durable outbox and catching up with the hub."""
