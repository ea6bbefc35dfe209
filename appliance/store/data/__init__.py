"""Data files shipped with the store (holiday calendar, procedure catalogue)."""
