"""Off-site copies of a site's databases: consistent snapshots with SQLite's online backup
API, sent to the care server over HTTPS with the site's own credentials."""
