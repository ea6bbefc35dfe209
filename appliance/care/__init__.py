"""The province care server: every unit of every site, alerts within a minute, signed
updates, off-site copies of the hub's and store's data (docs/care.md)."""
