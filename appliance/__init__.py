"""motcua: local-first appliances for a Vietnamese one-stop reception office."""

__version__ = "0.1.0"
