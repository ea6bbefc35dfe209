"""The dossier store: procedure catalogue, dossiers and stages, lookups over MQTT and HTTP."""
