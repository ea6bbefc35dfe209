"""The lobby display board role: queue and dossier layouts, voice, never-lie state."""
